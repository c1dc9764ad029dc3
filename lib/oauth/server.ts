/**
 * Finding a provider's authorization server: OIDC discovery (or static
 * endpoints), then the endpoint policy applied to everything it names.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { checkEndpoint } from "./policy.ts";
import { describeFailure } from "./failures.ts";

/** A fetch function; tests pass their own. */
export type FetchLike = typeof fetch;

/** Everything the grants need to talk to one provider. */
export interface ProviderServer {
  provider: ProviderSpec;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  /** Options passed to every oauth4webapi request. */
  http: oauth.HttpRequestOptions<"GET" | "POST", unknown>;
}

/** Options of {@link resolveServer}. */
export interface ResolveOptions {
  env?: (name: string) => string | undefined;
  fetch?: FetchLike;
  /** Client id chosen by the caller (flag, env, stored); defaults to the built-in one. */
  clientId?: string;
  /** Per-request timeout in ms (default 20000). */
  timeoutMs?: number;
}

/** The issuer or base URL in force for this provider (environment overrides applied). */
export function providerBaseUrl(
  provider: ProviderSpec,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string {
  const src = provider.endpoints;
  if (src.kind === "discovery") return (src.issuerEnv && env(src.issuerEnv)) || src.issuer;
  return (src.baseUrlEnv && env(src.baseUrlEnv)) || src.baseUrl;
}

function httpOptions(
  fetchImpl: FetchLike | undefined,
  insecure: boolean,
  timeoutMs: number,
): oauth.HttpRequestOptions<"GET" | "POST", unknown> {
  const options: oauth.HttpRequestOptions<"GET" | "POST", unknown> = {
    signal: () => AbortSignal.timeout(timeoutMs),
  };
  // Only reached once every endpoint has passed the policy, so "insecure"
  // here means plain http to a loopback host, never to the network.
  if (insecure) options[oauth.allowInsecureRequests] = true;
  if (fetchImpl) {
    options[oauth.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
  }
  return options;
}

/** Endpoint names we check, with the words used in errors. */
const ENDPOINT_FIELDS = [
  ["authorization_endpoint", "authorization endpoint"],
  ["token_endpoint", "token endpoint"],
  ["device_authorization_endpoint", "device authorization endpoint"],
  ["revocation_endpoint", "revocation endpoint"],
] as const;

/**
 * Resolve the provider's authorization server. Discovery failures and
 * policy violations are AuthErrors with exit 6.
 */
export async function resolveServer(
  provider: ProviderSpec,
  options: ResolveOptions = {},
): Promise<ProviderServer> {
  const env = options.env ?? ((n: string) => Deno.env.get(n));
  const timeoutMs = options.timeoutMs ?? 20_000;
  const what = provider.endpoints.kind === "discovery" ? "issuer" : "accounts base URL";
  const base = checkEndpoint(providerBaseUrl(provider, env), provider.policy, what);
  const insecure = base.protocol === "http:";
  const http = httpOptions(options.fetch, insecure, timeoutMs);
  const clientId = options.clientId ?? provider.clientId.builtIn;
  if (!clientId) {
    throw new AuthError("client_id_missing", `${provider.displayName} needs a client id`, {
      exit: Exit.USAGE,
      fix: provider.clientId.missingHelp ?? "pass --client-id",
    });
  }
  const client: oauth.Client = { client_id: clientId };

  let as: oauth.AuthorizationServer;
  const src = provider.endpoints;
  const join = (path: string) =>
    new URL(path.replace(/^\//, ""), base.href.endsWith("/") ? base : `${base}/`).href;
  if (src.kind === "discovery") {
    as = await discover(provider, base, http);
    if (!as.device_authorization_endpoint && provider.deviceCode && src.deviceAuthorizationPath) {
      as = { ...as, device_authorization_endpoint: join(src.deviceAuthorizationPath) };
    }
  } else {
    as = {
      issuer: base.href.replace(/\/$/, ""),
      authorization_endpoint: join(src.authorizationPath),
      token_endpoint: join(src.tokenPath),
      ...(src.deviceAuthorizationPath
        ? { device_authorization_endpoint: join(src.deviceAuthorizationPath) }
        : {}),
    };
  }
  for (const [field, words] of ENDPOINT_FIELDS) {
    const value = as[field];
    if (typeof value === "string") checkEndpoint(value, provider.policy, words);
  }
  if (!as.authorization_endpoint || !as.token_endpoint) {
    throw new AuthError(
      "discovery_failed",
      `the discovery document of ${base.origin} has no authorization or token endpoint`,
      { exit: Exit.PROVIDER, fix: "check the issuer URL" },
    );
  }
  return { provider, as, client, http };
}

async function discover(
  provider: ProviderSpec,
  issuer: URL,
  http: oauth.HttpRequestOptions<"GET" | "POST", unknown>,
): Promise<oauth.AuthorizationServer> {
  try {
    const response = await oauth.discoveryRequest(issuer, {
      ...(http as oauth.DiscoveryRequestOptions),
      algorithm: "oidc",
    });
    return await oauth.processDiscoveryResponse(issuer, response);
  } catch (e) {
    const why = describeFailure(e);
    throw new AuthError(
      "discovery_failed",
      `could not read ${provider.displayName}'s OpenID configuration from ${issuer.origin}: ${why}`,
      {
        exit: Exit.PROVIDER,
        fix: "check the network and the issuer URL, then run the command again",
        cause: e,
      },
    );
  }
}
