/**
 * The refresh token grant (RFC 6749 §6) on oauth4webapi: which server to ask
 * (the stored token endpoint, checked against the endpoint policy, so no
 * discovery round trip), how often to try, and what each failure means.
 * Loaded by lib/oauth/refresh.ts only when a refresh is due, so handing out
 * a fresh token never loads oauth4webapi.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import type { StoredToken } from "../store/credentials.ts";
import { describeFailure, discardBody, failureStatus, isNetworkFailure } from "./failures.ts";
import { checkEndpoint } from "./policy.ts";
import { providerBaseUrl, type ProviderServer, resolveServer } from "./server.ts";
import type { TokenSet } from "./tokens.ts";
import { sleep as realSleep } from "./sleep.ts";

/** Options of {@link refreshServer}. */
export interface RefreshServerOptions {
  env: (name: string) => string | undefined;
  fetch?: typeof fetch;
  /** The issuer as the stored ID token spells it; used when it names the configured issuer. */
  issuer?: string;
  /** Per-request timeout in ms; default 20000. */
  timeoutMs?: number;
}

/**
 * The server a refresh of `login` goes to. With a stored token endpoint: that
 * endpoint, after checking it against the provider's endpoint policy (AuthError
 * `endpoint_refused`, exit 6, when auth.json names a foreign host), and no
 * discovery. Without one: discovery, as at login. The client id is the
 * stored one (the refresh token was issued to it), else the provider's.
 */
export async function refreshServer(
  provider: ProviderSpec,
  login: StoredToken,
  options: RefreshServerOptions,
): Promise<ProviderServer> {
  const { env } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const clientId = login.clientId ?? provider.clientId.builtIn ??
    provider.clientId.env.map((name) => env(name)).find(Boolean);
  if (!clientId) {
    throw new AuthError(
      "client_id_missing",
      `the stored ${provider.displayName} login names no client id to refresh it with`,
      { exit: Exit.LOGIN_REQUIRED, fix: `run \`hermes-auth add ${provider.id}\` again` },
    );
  }
  if (!login.tokenEndpoint) {
    return await resolveServer(provider, { env, fetch: options.fetch, clientId, timeoutMs });
  }
  const endpoint = checkEndpoint(login.tokenEndpoint, provider.policy, "stored token endpoint");
  const base = providerBaseUrl(provider, env);
  checkEndpoint(base, provider.policy, "issuer");
  const issuer = options.issuer && sameUrl(options.issuer, base) ? options.issuer : base;
  const http: oauth.HttpRequestOptions<"GET" | "POST", unknown> = {
    signal: () => AbortSignal.timeout(timeoutMs),
  };
  // The policy allows plain http only on a loopback host (tests, local proxies).
  if (endpoint.protocol === "http:") http[oauth.allowInsecureRequests] = true;
  const fetchImpl = options.fetch;
  if (fetchImpl) http[oauth.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
  return {
    provider,
    as: { issuer, token_endpoint: endpoint.href },
    client: { client_id: clientId },
    http,
  };
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/** What a failed refresh means for the stored login. */
export type FailureKind = "dead" | "forbidden" | "transient" | "fatal";

/** A refresh that failed: the error for the user, and what it means for the stored login. */
export class RefreshFailure extends Error {
  constructor(
    readonly error: AuthError,
    readonly kind: FailureKind,
    /** HTTP status of the answer, when there was one. */
    readonly status?: number,
    /** OAuth error code, e.g. `invalid_grant`. */
    readonly reason?: string,
  ) {
    super(error.message, { cause: error });
    this.name = "RefreshFailure";
  }

  /** The provider refused the refresh token: the login must be started again. */
  get dead(): boolean {
    return this.kind === "dead";
  }
}

/** Options of {@link refreshWithRetry}. */
export interface RetryOptions {
  /** Abort (Ctrl-C): stops at once with AuthError `interrupted`. */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Waits before each retry; its length is the number of retries. */
  retryDelaysMs: readonly number[];
}

/**
 * Send the refresh grant, retrying transient failures (network, 408, 425,
 * 429, 5xx) after each of `retryDelaysMs`. Throws {@link RefreshFailure};
 * an abort throws AuthError `interrupted` (exit 130).
 *
 * A timeout is retried too, although the server may have rotated the
 * token before the answer was lost: retrying then costs nothing more (the
 * stored refresh token is dead either way) and succeeds whenever the request
 * never arrived.
 */
export async function refreshWithRetry(
  server: ProviderServer,
  refreshToken: string,
  options: RetryOptions,
): Promise<TokenSet> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 0;; attempt++) {
    if (options.signal?.aborted) throw interrupted();
    try {
      return await refreshOnce(server, refreshToken, options.signal);
    } catch (e) {
      if (options.signal?.aborted) throw interrupted();
      if (!(e instanceof RefreshFailure)) throw e;
      if (e.kind !== "transient" || attempt >= options.retryDelaysMs.length) throw e;
      await sleep(options.retryDelaysMs[attempt], options.signal);
    }
  }
}

async function refreshOnce(
  server: ProviderServer,
  refreshToken: string,
  signal: AbortSignal | undefined,
): Promise<TokenSet> {
  const { provider, as, client, http } = server;
  let response: Response | undefined;
  try {
    response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
      ...(http as oauth.TokenEndpointRequestOptions),
      signal: (url) => withAbort(requestSignal(http.signal, url), signal),
    });
    const result = await oauth.processRefreshTokenResponse(as, client, response);
    return refreshedTokens(result);
  } catch (e) {
    await discardBody(response);
    throw classify(e, provider);
  }
}

/**
 * What a failure means. 400 and 401 (`invalid_grant`, `invalid_client`) are
 * the provider saying the refresh token is dead, as Hermes reads them; 403
 * is the provider's own meaning when it has one (xAI: the subscription
 * tier), else dead too; 408, 425, 429, 5xx and network failures pass; a
 * malformed 200 or any other status is an error that retrying would not fix
 * (and a 200 may already have rotated the token, so it is never retried).
 */
export function classify(e: unknown, provider: ProviderSpec): RefreshFailure {
  if (e instanceof RefreshFailure) return e;
  if (e instanceof AuthError) return new RefreshFailure(e, "fatal");
  const status = failureStatus(e) ??
    (e instanceof oauth.WWWAuthenticateChallengeError ? e.status : undefined);
  const reason = e instanceof oauth.ResponseBodyError ? e.error : undefined;
  const why = describeFailure(e);
  if (status === 403 && provider.forbiddenMessage) {
    const error = new AuthError("subscription_forbidden", `${provider.forbiddenMessage} (${why})`, {
      exit: Exit.DENIED,
      fix: provider.forbiddenFix,
      cause: e,
    });
    return new RefreshFailure(error, "forbidden", status, reason);
  }
  if (status === 400 || status === 401 || status === 403) {
    const error = new AuthError(
      "refresh_rejected",
      `${provider.displayName} rejected the stored refresh token: ${why}`,
      {
        exit: Exit.LOGIN_REQUIRED,
        fix: `run \`hermes-auth add ${provider.id}\` to log in again`,
        cause: e,
      },
    );
    return new RefreshFailure(error, "dead", status, reason);
  }
  const passing = status === undefined
    ? isNetworkFailure(e)
    : status === 408 || status === 425 || status === 429 || status >= 500;
  if (status === undefined && passing) {
    const error = new AuthError(
      "network_error",
      `could not reach ${provider.displayName}: ${why}`,
      {
        exit: Exit.PROVIDER,
        fix: "check the network connection and try again",
        cause: e,
      },
    );
    return new RefreshFailure(error, "transient");
  }
  // A passing status is the provider having a bad moment: say that, not what the library saw.
  const error = new AuthError(
    "provider_error",
    passing
      ? `${provider.displayName} could not refresh the login right now (${why}); ` +
        "the stored login is unchanged"
      : `${provider.displayName}'s token endpoint failed to refresh the login: ${why}`,
    {
      exit: Exit.PROVIDER,
      fix: passing
        ? "This is usually temporary: try again in a few minutes."
        : "try again later; if it keeps failing, log in again with " +
          `\`hermes-auth add ${provider.id}\``,
      cause: e,
    },
  );
  return new RefreshFailure(error, passing ? "transient" : "fatal", status, reason);
}

/** The fields auth.json keeps; `bearer` spelled `Bearer` as Hermes stores it. */
function refreshedTokens(result: oauth.TokenEndpointResponse): TokenSet {
  const set: TokenSet = {
    access_token: result.access_token,
    token_type: result.token_type === "bearer" ? "Bearer" : result.token_type,
  };
  if (result.refresh_token) set.refresh_token = result.refresh_token;
  if (result.id_token) set.id_token = result.id_token;
  if (typeof result.expires_in === "number") set.expires_in = result.expires_in;
  if (typeof result.scope === "string") set.scope = result.scope;
  return set;
}

function interrupted(): AuthError {
  return new AuthError("interrupted", "interrupted", { exit: Exit.INTERRUPTED });
}

/** The per-request signal of the server's HTTP options (a timeout), whatever its form. */
function requestSignal(
  value: oauth.HttpRequestOptions<"GET" | "POST", unknown>["signal"],
  url: string,
): AbortSignal | undefined {
  return typeof value === "function" ? value(url) : value;
}

/** The request's own timeout (20 s when it has none) joined with the caller's abort. */
function withAbort(base: AbortSignal | undefined, user: AbortSignal | undefined): AbortSignal {
  const timeout = base ?? AbortSignal.timeout(20_000);
  return user ? AbortSignal.any([timeout, user]) : timeout;
}
