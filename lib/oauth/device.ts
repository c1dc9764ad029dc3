/**
 * Device authorization grant (RFC 8628): ask for a user code, then poll the
 * token endpoint until the person approves it on another device. Every
 * message is built and checked by oauth4webapi; this module adds the polling
 * policy (interval, `slow_down`, expiry) and Ctrl-C.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import {
  describeFailure,
  discardBody,
  failureStatus,
  isNetworkFailure,
  tokenFailure,
} from "./failures.ts";
import type { ProviderServer } from "./server.ts";
import { type TokenSet, toTokenSet } from "./tokens.ts";
import { sleep as realSleep } from "./sleep.ts";

/** RFC 8628 §3.2: the poll interval when the server names none. */
const DEFAULT_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: every `slow_down` adds this much to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;

/** What the person needs to approve the login, and what the poller needs to finish it. */
export interface DeviceAuthorization {
  /** The code the person types at `verificationUri`. */
  userCode: string;
  verificationUri: string;
  /** The verification URI with the user code already in it, when the server gives one. */
  verificationUriComplete?: string;
  /** Lifetime of the device code in seconds. */
  expiresIn: number;
  /** Seconds to wait between polls. */
  interval: number;
  /** Secret: proves to the token endpoint that we started this login. Never print it. */
  deviceCode: string;
}

/** Options of {@link startDeviceAuthorization}. */
export interface StartDeviceOptions {
  /** Scopes to ask for instead of the provider's. */
  scopes?: string[];
}

/**
 * POST to the device authorization endpoint named by discovery. A server
 * without one is AuthError `device_code_unsupported` (exit 2) advising the
 * browser login; a refusal or an unreachable server is exit 6 (exit 5 when
 * the provider's 403 means a subscription tier that is not allowed).
 */
export async function startDeviceAuthorization(
  server: ProviderServer,
  options: StartDeviceOptions = {},
): Promise<DeviceAuthorization> {
  const { provider, as, client, http } = server;
  if (!as.device_authorization_endpoint) {
    throw new AuthError(
      "device_code_unsupported",
      `${provider.displayName} does not offer a device code login (its server names no device ` +
        "authorization endpoint)",
      { exit: Exit.USAGE, fix: `log in with the browser instead: hermes-auth add ${provider.id}` },
    );
  }
  const scope = (options.scopes ?? provider.scopes).join(" ");
  let response: Response | undefined;
  try {
    response = await oauth.deviceAuthorizationRequest(
      as,
      client,
      oauth.None(),
      scope ? { scope } : {},
      http as oauth.DeviceAuthorizationRequestOptions,
    );
    const result = await oauth.processDeviceAuthorizationResponse(as, client, response);
    return {
      userCode: result.user_code,
      verificationUri: result.verification_uri,
      ...(result.verification_uri_complete
        ? { verificationUriComplete: result.verification_uri_complete }
        : {}),
      expiresIn: result.expires_in,
      interval: result.interval ?? DEFAULT_INTERVAL_SECONDS,
      deviceCode: result.device_code,
    };
  } catch (e) {
    await discardBody(response);
    throw deviceAuthorizationFailure(e, provider);
  }
}

/** Waits `ms` milliseconds; rejects (or resolves) early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Options of {@link pollDeviceToken}. */
export interface PollDeviceOptions {
  /** Abort to stop polling: rejects with AuthError `interrupted` (exit 130) at once. */
  signal?: AbortSignal;
  /** How to wait between polls; tests pass one that does not really wait. */
  sleep?: Sleep;
  /** Clock in epoch milliseconds, for the device code's expiry. Default `Date.now`. */
  now?: () => number;
  /** Called before each token request with its number, starting at 1. */
  onPoll?: (attempt: number) => void;
}

/**
 * Poll the token endpoint until the person answers (RFC 8628 §3.4, §3.5):
 * wait `interval` seconds before each request, keep going on
 * `authorization_pending`, add 5 s on `slow_down`. `access_denied` is
 * AuthError `access_denied` (exit 5); `expired_token`, or `expiresIn`
 * elapsing first, is `device_code_expired` (exit 4). Other failures map
 * through {@link tokenFailure}. Aborting `options.signal` rejects with
 * `interrupted` (exit 130) without waiting for the interval to end, and
 * leaves no timer or request behind.
 */
export async function pollDeviceToken(
  server: ProviderServer,
  auth: DeviceAuthorization,
  options: PollDeviceOptions = {},
): Promise<TokenSet> {
  const { provider, as, client, http } = server;
  const { signal, onPoll } = options;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + auth.expiresIn * 1000;
  let intervalMs = (auth.interval > 0 ? auth.interval : DEFAULT_INTERVAL_SECONDS) * 1000;
  const requestOptions: oauth.TokenEndpointRequestOptions = {
    ...(http as oauth.TokenEndpointRequestOptions),
    signal: (url) => withAbort(requestSignal(http.signal, url), signal),
  };

  for (let attempt = 1;; attempt++) {
    if (signal?.aborted) throw interrupted();
    const left = deadline - now();
    if (left <= 0) throw expired(provider);
    await abortable(sleep(Math.min(intervalMs, left), signal), signal);
    if (now() >= deadline) throw expired(provider);
    onPoll?.(attempt);
    let response: Response | undefined;
    try {
      response = await oauth.deviceCodeGrantRequest(
        as,
        client,
        oauth.None(),
        auth.deviceCode,
        requestOptions,
      );
      const result = await oauth.processDeviceCodeResponse(as, client, response);
      return toTokenSet(result, provider);
    } catch (e) {
      await discardBody(response);
      if (signal?.aborted) throw interrupted();
      if (!(e instanceof oauth.ResponseBodyError)) throw tokenFailure(e, provider, "device");
      switch (e.error) {
        case "authorization_pending":
          continue;
        case "slow_down":
          intervalMs += SLOW_DOWN_STEP_SECONDS * 1000;
          continue;
        case "access_denied":
          throw new AuthError(
            "access_denied",
            `${provider.displayName} authorization was denied${
              e.error_description ? `: ${e.error_description}` : ""
            }`,
            {
              exit: Exit.DENIED,
              fix: `run \`hermes-auth add ${provider.id} --device-code\` again and approve access`,
              cause: e,
            },
          );
        case "expired_token":
          throw expired(provider, e);
        default:
          throw tokenFailure(e, provider, "device");
      }
    }
  }
}

function expired(provider: ProviderSpec, cause?: unknown): AuthError {
  return new AuthError(
    "device_code_expired",
    `the ${provider.displayName} device code expired before the login was approved`,
    {
      exit: Exit.TIMEOUT,
      fix: `run \`hermes-auth add ${provider.id} --device-code\` again and enter the new code ` +
        "before it expires",
      cause,
    },
  );
}

function interrupted(): AuthError {
  return new AuthError("interrupted", "login interrupted", { exit: Exit.INTERRUPTED });
}

function deviceAuthorizationFailure(e: unknown, provider: ProviderSpec): AuthError {
  if (e instanceof AuthError) return e;
  const status = failureStatus(e);
  // tokenFailure already words these two the way the user needs them.
  if ((status === 403 && provider.forbiddenMessage) || isNetworkFailure(e)) {
    return tokenFailure(e, provider, "device");
  }
  const refused = status !== undefined && status >= 400 && status < 500;
  return new AuthError(
    "device_authorization_failed",
    `${provider.displayName} did not start a device code login: ${describeFailure(e)}`,
    {
      exit: Exit.PROVIDER,
      fix: refused
        ? `log in with the browser instead: hermes-auth add ${provider.id}`
        : "this is usually temporary: try again in a minute",
      cause: e,
    },
  );
}

/** The per-request signal of the server's HTTP options (a timeout), whatever its form. */
function requestSignal(
  value: oauth.HttpRequestOptions<"GET" | "POST", unknown>["signal"],
  url: string,
): AbortSignal | undefined {
  return typeof value === "function" ? value(url) : value;
}

function withAbort(base: AbortSignal | undefined, user: AbortSignal | undefined): AbortSignal {
  const signals = [base, user].filter((s): s is AbortSignal => s !== undefined);
  return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
}

/**
 * `promise`, or an `interrupted` rejection as soon as `signal` aborts: a
 * sleep that ignores its signal cannot keep Ctrl-C waiting.
 */
function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(interrupted());
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) reject(interrupted());
        else resolve();
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? interrupted() : e);
      },
    );
  });
}
