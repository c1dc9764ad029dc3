/**
 * Turning what oauth4webapi and fetch throw into AuthErrors a person can act
 * on. Messages name the HTTP status and the OAuth error code, never a token
 * or an authorization code.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";

/** HTTP status behind an oauth4webapi or fetch failure, when there is one. */
export function failureStatus(e: unknown): number | undefined {
  if (e instanceof oauth.ResponseBodyError) return e.status;
  if (e instanceof oauth.OperationProcessingError && e.cause instanceof Response) {
    return e.cause.status;
  }
  return undefined;
}

/** True for failures to reach the server at all (DNS, refused, reset, timeout). */
export function isNetworkFailure(e: unknown): boolean {
  if (e instanceof TypeError) return true; // fetch's network error
  if (e instanceof DOMException) return e.name === "TimeoutError" || e.name === "AbortError";
  return false;
}

/**
 * A short, secret-free description of a failure, in a person's terms: an
 * HTTP error status by its name and meaning (`HTTP 503 Service Unavailable:
 * the server is down or overloaded`), not oauth4webapi's "is not a conform
 * Token Endpoint response", and a network failure by what happened (refused,
 * DNS, TLS, timeout) and to which host. The library's own words stay on the
 * error's `cause`, which `HERMES_AUTH_DEBUG=1` prints.
 */
export function describeFailure(e: unknown): string {
  if (e instanceof oauth.ResponseBodyError) {
    const desc = e.error_description ? ` (${oneLine(e.error_description)})` : "";
    return `HTTP ${e.status} ${e.error}${desc}`;
  }
  if (e instanceof oauth.AuthorizationResponseError) {
    const desc = e.error_description ? ` (${oneLine(e.error_description)})` : "";
    return `${e.error}${desc}`;
  }
  if (e instanceof oauth.OperationProcessingError) {
    const status = failureStatus(e);
    // An error status without an OAuth error body (a 503 page from a load balancer, a 404):
    // the status is the whole story.
    if (status !== undefined && status >= 400) return httpStatusText(status);
    const prefix = status ? `HTTP ${status}: ` : "";
    if (e.code === oauth.RESPONSE_IS_NOT_JSON) return `${prefix}the response is not JSON`;
    return `${prefix}${oneLine(e.message)}`;
  }
  if (e instanceof DOMException && e.name === "TimeoutError") return "the request timed out";
  if (e instanceof TypeError) return networkText(e);
  if (e instanceof Error) return oneLine(e.message);
  return String(e);
}

const STATUS_NAMES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** `HTTP 503 Service Unavailable: the server is down or overloaded`. */
export function httpStatusText(status: number): string {
  const name = STATUS_NAMES[status];
  const head = name ? `HTTP ${status} ${name}` : `HTTP ${status}`;
  const meaning = statusMeaning(status);
  return meaning ? `${head}: ${meaning}` : head;
}

/** What an error status from a provider means for the person waiting on it. */
function statusMeaning(status: number): string | undefined {
  if (status === 429) return "the server is turning requests away for now";
  if (status === 408 || status === 504) return "the server did not answer in time";
  if (status === 502 || status === 503) return "the server is down or overloaded";
  if (status >= 500) return "the server failed";
  if (status === 404) return "the endpoint does not exist at that address";
  return undefined;
}

/**
 * A fetch failure in words: Deno's TypeError says only "fetch failed"; its
 * cause says what went wrong (`… for url (https://auth.x.ai/…): client error
 * (Connect): tcp connect error: Connection refused`).
 */
function networkText(e: TypeError): string {
  const detail = [e.message, String((e as { cause?: unknown }).cause ?? "")].join(" ");
  const host = /for url \((\w+:\/\/[^)\s]+)\)/.exec(detail)?.[1];
  let where = "";
  try {
    if (host) where = ` ${new URL(host).host}`;
  } catch {
    // No usable URL in the message: say it without the host.
  }
  if (/dns error|failed to lookup|Name or service not known|nodename nor servname/i.test(detail)) {
    return `the host name${where} could not be resolved (DNS)`;
  }
  if (/Connection refused/i.test(detail)) {
    return `the connection to${where || " the server"} was refused`;
  }
  if (/Connection reset|broken pipe/i.test(detail)) {
    return `the connection to${where || " the server"} was cut`;
  }
  if (/timed out/i.test(detail)) return `the connection to${where || " the server"} timed out`;
  if (/certificate|tls|ssl|handshake/i.test(detail)) {
    return `the TLS connection to${
      where || " the server"
    } failed (is its certificate trusted here?)`;
  }
  return `network error: ${oneLine(e.message)}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** Which request failed. */
export type TokenPhase = "exchange" | "refresh" | "device";

/**
 * Map a token endpoint failure to an AuthError:
 * 403 -> the provider's "forbidden" meaning (xAI: subscription tier), exit 5;
 * refresh 400/401 -> `refresh_rejected`, exit 3 (log in again);
 * other 4xx -> `token_rejected`, exit 5; 5xx, malformed answers and network
 * failures -> exit 6.
 */
export function tokenFailure(e: unknown, provider: ProviderSpec, phase: TokenPhase): AuthError {
  if (e instanceof AuthError) return e;
  const status = failureStatus(e);
  const why = describeFailure(e);
  const relogin = `run \`hermes-auth add ${provider.id}\` to log in again`;
  if (status === 403 && provider.forbiddenMessage) {
    return new AuthError("subscription_forbidden", `${provider.forbiddenMessage} (${why})`, {
      exit: Exit.DENIED,
      fix: provider.forbiddenFix,
      cause: e,
    });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    if (phase === "refresh") {
      return new AuthError(
        "refresh_rejected",
        `${provider.displayName} rejected the stored refresh token: ${why}`,
        { exit: Exit.LOGIN_REQUIRED, fix: relogin, cause: e },
      );
    }
    return new AuthError(
      "token_rejected",
      `${provider.displayName} refused the token request: ${why}`,
      {
        exit: Exit.DENIED,
        fix: phase === "exchange"
          ? "start the login again; an authorization code works once and only for a few minutes"
          : relogin,
        cause: e,
      },
    );
  }
  if (isNetworkFailure(e)) {
    return new AuthError("network_error", `could not reach ${provider.displayName}: ${why}`, {
      exit: Exit.PROVIDER,
      fix: "check the network connection and try again",
      cause: e,
    });
  }
  // An answer that arrived but failed validation (not JSON, a bad ID token) will fail the
  // same way next time: retrying is not the fix.
  const invalid = e instanceof oauth.OperationProcessingError &&
    (status === undefined || status < 400);
  return new AuthError(
    "provider_error",
    invalid
      ? `${provider.displayName}'s token endpoint sent an answer that failed validation: ${why}`
      : `${provider.displayName}'s token endpoint failed: ${why}`,
    {
      exit: Exit.PROVIDER,
      fix: invalid
        ? "check that the issuer (or a proxy in between) is the real provider; if it is, report this"
        : "this is usually temporary: try again in a minute",
      cause: e,
    },
  );
}

/**
 * oauth4webapi leaves the body of some failed responses (a 5xx, a body that
 * is not JSON) unread; release it so no connection is left hanging.
 */
export async function discardBody(response: Response | undefined): Promise<void> {
  if (response && !response.bodyUsed) await response.body?.cancel().catch(() => {});
}
