/**
 * Endpoint policy: every endpoint a provider uses must be https on the
 * provider's own domain, or plain http on a loopback host (tests, local
 * proxies). A discovery document that names any other endpoint is refused
 * before a single credential is sent to it.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import type { EndpointPolicy } from "../providers/types.ts";

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return /^127(\.\d{1,3}){3}$/.test(host);
}

/** True when `host` is `suffix` or a subdomain of it (`evilx.ai` is not `x.ai`). */
export function hostMatchesSuffix(host: string, suffix: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const s = suffix.toLowerCase().replace(/^\./, "");
  return h === s || h.endsWith(`.${s}`);
}

/** Is this URL acceptable under the policy? Returns a reason when it is not. */
export function endpointProblem(url: URL, policy: EndpointPolicy): string | undefined {
  if (url.username || url.password) return "it carries credentials in the URL";
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname)
      ? undefined
      : "plain http is only allowed on a loopback host";
  }
  if (url.protocol !== "https:") return `the ${url.protocol} scheme is not allowed`;
  if (policy.hostSuffix && !hostMatchesSuffix(url.hostname, policy.hostSuffix)) {
    return `it is not on ${policy.hostSuffix} or a subdomain of it`;
  }
  return undefined;
}

/**
 * Parse `value` and check it against the policy; throws AuthError
 * `endpoint_refused` (exit 6) naming which endpoint and why.
 */
export function checkEndpoint(value: string | URL, policy: EndpointPolicy, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthError("endpoint_refused", `the ${what} "${value}" is not a valid URL`, {
      exit: Exit.PROVIDER,
      fix: "check the issuer setting (HERMES_*_ISSUER or config.yaml)",
    });
  }
  const problem = endpointProblem(url, policy);
  if (problem) {
    throw new AuthError(
      "endpoint_refused",
      `refusing the ${what} ${url.origin}${url.pathname}: ${problem}`,
      {
        exit: Exit.PROVIDER,
        fix:
          "check the provider's issuer or base URL setting, or whether a proxy rewrites its answers",
      },
    );
  }
  return url;
}
