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
 * loading this module; this one brings only the lock, so that the waiters
 * of a refresh storm load nothing more. The grant, the writer and
 * oauth4webapi (lib/oauth/refresh_locked.ts) load in the one process that
 * makes the request. A refresh goes straight to the stored token endpoint
 * (checked against the provider's endpoint policy first), without discovery.
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
import { AuthError } from "../errors.ts";
import { lazy, preloadPackage } from "../lazy.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { readAuthFile } from "../store/auth_file.ts";
import {
  type AccessToken,
  expired,
  type Found,
  handOut,
  readCredential,
  refreshDue,
} from "./access_token.ts";
import { type Interrupt, type LockWait, withLock } from "../store/lock.ts";
import { lockFilePath } from "../store/paths.ts";

/** Waits `ms` milliseconds; resolves early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Options of {@link getAccessToken}. */
export interface AccessTokenOptions {
  /** `$HERMES_HOME`. */
  home: string;
  env: (name: string) => string | undefined;
  fetch?: typeof fetch;
  /** Clock; default the real one. */
  now?: () => Date;
  /**
   * Aborting it (Ctrl-C) stops a refresh: AuthError `interrupted`, exit 130.
   * A function is asked for its signal when a lock wait reaches its notice or
   * the request starts, not before (lib/store/lock.ts Interrupt).
   */
  signal?: Interrupt;
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
  /**
   * The credential the caller has just read (with {@link readCredential},
   * for the pool's own pick), so that it is not read again before the lock.
   * Ignored with `account`.
   */
  seen?: Found;
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
  const seen = only === undefined && options.seen
    ? options.seen
    : await readCredential(provider, options.home, now(), only);
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
      const done = await settled();
      if (done) return done;
      // Only the one process that is to make the request loads the grant and the writer, and
      // oauth4webapi first, from Deno's code cache (lib/lazy.ts preloadPackage).
      await preloadPackage("oauth4webapi");
      const { refreshLocked } = await lazy<typeof import("./refresh_locked.ts")>(
        "./refresh_locked.ts",
        import.meta.url,
      );
      return await refreshLocked(provider, latest, options, now, lock);
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
    const e = await asWriteError(options.home, caught);
    if (
      options.allowStale && e instanceof AuthError && isPassing(e) &&
      !expired(latest.login, now())
    ) {
      return { ...handOut(latest.login, "stored"), staleBecause: e };
    }
    throw e;
  }
}

/** A filesystem failure on auth.lock as `auth_write_failed`; anything else as it is. */
async function asWriteError(home: string, caught: unknown): Promise<unknown> {
  if (caught instanceof AuthError) return caught;
  const { isFsError, writeError } = await lazy<typeof import("../store/fs_errors.ts")>(
    "../store/fs_errors.ts",
    import.meta.url,
  );
  return isFsError(caught) ? await writeError(home, lockFilePath(home), caught) : caught;
}

/** Failures after which the current token may still be handed out. */
function isPassing(e: AuthError): boolean {
  return ["network_error", "provider_error", "lock_timeout", "not_refreshable", "auth_write_failed"]
    .includes(e.code);
}
