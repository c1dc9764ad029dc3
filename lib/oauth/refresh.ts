/**
 * A valid access token from the stored login, refreshing it first when it
 * is about to expire — safe when many processes ask at the same moment.
 *
 * Why it is safe: refresh tokens rotate, and a provider that sees a rotated
 * refresh token used twice revokes the whole login. So a refresh happens
 * only under the exclusive lock on `$HERMES_HOME/auth.lock` (the lock
 * Hermes's Python takes too), and the first thing done under the lock is to
 * read auth.json again: when the token found there is no longer the one seen
 * before waiting, another process refreshed meanwhile and its token is used
 * without a request. N processes on one expiring token thus make one
 * request and all hand out the same new token. The new tokens are written
 * with an atomic rename while the lock is still held, so a reader never sees
 * half a refresh.
 *
 * The token path stays light: a fresh token is read and returned without
 * loading oauth4webapi; the grant modules are imported only when a refresh
 * is due. A refresh goes straight to the stored token endpoint (checked
 * against the provider's endpoint policy first), without discovery.
 *
 * Failures: 400/401 from the token endpoint mean the login is dead: its
 * tokens are removed and `last_auth_error` recorded as Hermes does (exit 3).
 * 403 is the provider's "forbidden" meaning (xAI: subscription tier; tokens
 * kept). 429, 5xx and network failures are retried with backoff and then
 * reported (exit 6) with the stored credential unchanged; with `allowStale`
 * the current token is handed back instead while it has not expired.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import { lazy } from "../lazy.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { readAuthFile, updateAuthFile } from "../store/auth_store.ts";
import { applyRefresh, markLoginDead } from "../store/credentials.ts";
import {
  type AccessToken,
  expired,
  type Found,
  handOut,
  readCredential,
  refreshDue,
} from "./access_token.ts";

export { type AccessToken, expired, refreshDue } from "./access_token.ts";
import { isFsError, writeError } from "../store/fs_errors.ts";
import { type HeldLock, type LockWait, withLock } from "../store/lock.ts";
import { lockFilePath } from "../store/paths.ts";
import type { TokenSet } from "./tokens.ts";

/** Waits `ms` milliseconds; resolves early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Default waits before the second and third attempt of a refresh that failed transiently. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000];

/** Options of {@link getAccessToken}. */
export interface AccessTokenOptions {
  /** `$HERMES_HOME`. */
  home: string;
  env: (name: string) => string | undefined;
  fetch?: typeof fetch;
  /** Clock; default the real one. */
  now?: () => Date;
  /** Aborting it (Ctrl-C) stops a refresh: AuthError `interrupted`, exit 130. */
  signal?: AbortSignal;
  /** How to wait between attempts; tests pass one that does not really wait. */
  sleep?: Sleep;
  /** Waits before each retry; its length is the number of retries. Default 500 ms, 1 s. */
  retryDelaysMs?: readonly number[];
  /** Lock wait limit; default 15 s. */
  lockTimeoutMs?: number;
  /** Called once after about a second of waiting for auth.lock (the CLI says who holds it). */
  onLockWait?: (wait: LockWait) => void;
  /** Per-request timeout; default 20 s (Hermes's HERMES_XAI_REFRESH_TIMEOUT_SECONDS). */
  requestTimeoutMs?: number;
  /** Refresh even when the token is fresh (the `refresh` command). */
  force?: boolean;
  /**
   * Use this credential (`#N`, id or label, as `list` shows them) instead of
   * the one the pool order picks (`token --account`). A target that names no
   * row, or more than one, is a usage error (exit 2).
   */
  account?: string;
  /**
   * When a due refresh fails for a passing reason (network, 5xx, lock wait,
   * no refresh token, a home that cannot be written), return the current
   * token if it has not expired yet, with the failure in
   * {@link AccessToken.staleBecause}. Default false.
   */
  allowStale?: boolean;
}

/**
 * A usable access token for `provider` from auth.json under `options.home`,
 * refreshed first when it expires within the provider's skew (or always
 * with `force`). Throws AuthError: `not_logged_in` (exit 3) when there is no
 * usable login, `refresh_rejected` (exit 3) when the provider refused the
 * refresh token (the login is then quarantined on disk), the provider's
 * forbidden error (exit 5), `network_error` / `provider_error` (exit 6),
 * `lock_timeout`, `endpoint_refused` (exit 6), `interrupted` (exit 130).
 */
export async function getAccessToken(
  provider: ProviderSpec,
  options: AccessTokenOptions,
): Promise<AccessToken> {
  const now = options.now ?? (() => new Date());
  // The target is resolved to a row id once: positions and labels may shift under the lock.
  // The pool module loads only then, keeping the plain token path as small as it was.
  const only = options.account === undefined ? undefined : (await lazy<
    typeof import("../store/pool.ts")
  >("../store/pool.ts", import.meta.url)).findRow(
    (await readAuthFile(options.home)).data,
    provider.id,
    options.account,
  ).row.id;
  const seen = await readCredential(provider, options.home, now(), only);
  if (!options.force && !refreshDue(seen.login, now(), provider.refreshSkewSeconds)) {
    return handOut(seen.login, "stored");
  }
  let latest = seen;
  /**
   * The token found after waiting for another holder of the lock, when that
   * holder (another `token`, most likely) has done the refresh this call was
   * about to make: then no request is made. Compare tokens, not expiry: with
   * lifetimes shorter than the skew, a token another process has just
   * fetched is already "due", and refreshing it again would turn N waiting
   * processes into N requests.
   */
  const settled = async (): Promise<AccessToken | undefined> => {
    latest = await readCredential(provider, options.home, now(), only);
    if (options.force) return undefined;
    const changed = latest.login.accessToken !== seen.login.accessToken;
    if (changed && !expired(latest.login, now())) {
      return handOut(latest.login, "refreshed_elsewhere");
    }
    if (!refreshDue(latest.login, now(), provider.refreshSkewSeconds)) {
      return handOut(latest.login, "stored");
    }
    return undefined;
  };
  try {
    return await withLock(lockFilePath(options.home), async (lock) => {
      return await settled() ?? await refreshLocked(provider, latest, options, now, lock);
    }, {
      timeoutMs: options.lockTimeoutMs,
      signal: options.signal,
      onWait: options.onLockWait,
      // Waiters of a refresh storm read the new token side by side, under a shared lock.
      afterWait: options.force ? undefined : settled,
    });
  } catch (caught) {
    // Opening auth.lock writes too: a read-only or unwritable home fails there, before any
    // request, as auth_write_failed (and `token` can still hand out the current token).
    const e = isFsError(caught)
      ? await writeError(options.home, lockFilePath(options.home), caught)
      : caught;
    if (
      options.allowStale && e instanceof AuthError && isPassing(e) &&
      !expired(latest.login, now())
    ) {
      return { ...handOut(latest.login, "stored"), staleBecause: e };
    }
    throw e;
  }
}

/** Failures after which the current token may still be handed out. */
function isPassing(e: AuthError): boolean {
  return ["network_error", "provider_error", "lock_timeout", "not_refreshable", "auth_write_failed"]
    .includes(e.code);
}

/**
 * Under `lock`: refresh `found`, store the result (or quarantine a dead
 * login). The writes join `lock`, so the re-read, the request and the write
 * happen in one hold of auth.lock.
 */
async function refreshLocked(
  provider: ProviderSpec,
  found: Found,
  options: AccessTokenOptions,
  now: () => Date,
  lock: HeldLock,
): Promise<AccessToken> {
  const refreshToken = found.login.refreshToken;
  if (!refreshToken) {
    throw new AuthError(
      "not_refreshable",
      `the stored ${provider.displayName} login has no refresh token, so it cannot be renewed`,
      { exit: Exit.LOGIN_REQUIRED, fix: `run \`hermes-auth add ${provider.id}\` to log in again` },
    );
  }
  const grant = await lazy<typeof import("./refresh_grant.ts")>(
    "./refresh_grant.ts",
    import.meta.url,
  );
  const server = await grant.refreshServer(provider, found.login, {
    env: options.env,
    fetch: options.fetch,
    issuer: found.issuer(),
    timeoutMs: options.requestTimeoutMs,
  });
  let tokens: TokenSet;
  try {
    tokens = await grant.refreshWithRetry(server, refreshToken, {
      signal: options.signal,
      sleep: options.sleep,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    });
  } catch (e) {
    if (e instanceof grant.RefreshFailure && e.dead) {
      await updateAuthFile(options.home, (data) =>
        markLoginDead(data, {
          provider,
          ref: found.ref,
          message: e.error.message,
          status: e.status,
          reason: e.reason,
          now: now(),
        }), { now, lock });
    }
    throw e instanceof grant.RefreshFailure ? e.error : e;
  }
  const stored = await updateAuthFile(options.home, (data) =>
    applyRefresh(data, {
      provider,
      ref: found.ref,
      tokens,
      tokenEndpoint: server.as.token_endpoint,
      now: now(),
    }), { now, lock });
  return handOut(stored, "refreshed");
}
