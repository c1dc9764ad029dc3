/**
 * Pending two-step logins: `add <provider> --no-wait` saves one, `add
 * <provider> --callback-url URL` finishes it with the code exchange.
 *
 * Layout: one file per provider, `$HERMES_HOME/pending/<provider>.json`
 * (0600, directory 0700), so logins to different providers coexist and a new
 * `--no-wait` for the same provider replaces the older one — only the newest
 * authorize URL can be finished, which is also what the user expects after
 * starting again. The file holds the PKCE code verifier: it is a secret.
 *
 * Every save and finish runs under an exclusive flock on
 * `$HERMES_HOME/pending/pending.lock` (see lib/store/lock.ts): a finish reads,
 * checks, exchanges and deletes in one critical section, so when two
 * processes race for the same pending login exactly one finishes it, and a
 * finish can never delete a newer login saved while it was using the older
 * one.
 *
 * A pending login ends only on success, on an explicit denial, or when it
 * expires: a mistaken `--callback-url` (another login's address, a code the
 * provider refuses, text that is not a callback) leaves it in place, so the
 * right one can still finish it.
 *
 * @module
 */

import { join } from "./path.ts";
import { AuthError, Exit } from "../errors.ts";
import { ensurePrivateDir, tightenPrivateDir, writeFileAtomic } from "./atomic.ts";
import { guardWrite } from "./fs_errors.ts";
import { withLock } from "./lock.ts";

/** How long a pending login may wait for its callback URL by default: 10 minutes. */
export const DEFAULT_PENDING_MAX_AGE_MS = 10 * 60 * 1000;

/** Version of the pending file's layout. */
const PENDING_VERSION = 1;

/** What finishing a two-step login needs: the secrets and the endpoints it was started with. */
export interface PendingLogin {
  /** Canonical provider id. */
  provider: string;
  state: string;
  nonce?: string;
  /** Secret. */
  codeVerifier: string;
  codeChallenge: string;
  redirectUri: string;
  clientId: string;
  /** When the login was started, ISO 8601. */
  createdAt: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  issuer: string;
}

/** `$HERMES_HOME/pending`. */
export function pendingDir(home: string): string {
  return join(home, "pending");
}

/** `$HERMES_HOME/pending/<provider>.json`; refuses a provider id that is not a plain name. */
export function pendingPath(home: string, provider: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(provider)) {
    throw new AuthError("usage", `"${provider}" is not a valid provider id`, {
      exit: Exit.USAGE,
      fix: "use a provider id from `hermes-auth status`",
    });
  }
  return join(pendingDir(home), `${provider}.json`);
}

function lockPath(home: string): string {
  return join(pendingDir(home), "pending.lock");
}

/**
 * Save `pending` as the provider's pending login, replacing an older one.
 * Returns the file's path. A home that cannot be written is AuthError
 * `auth_write_failed` (lib/store/fs_errors.ts).
 */
export async function savePending(home: string, pending: PendingLogin): Promise<string> {
  const path = pendingPath(home, pending.provider);
  const dir = pendingDir(home);
  await guardWrite(home, dir, () => ensurePrivateDir(dir));
  await tightenPrivateDir(dir);
  const body = JSON.stringify({ version: PENDING_VERSION, ...pending }, null, 2) + "\n";
  await guardWrite(home, lockPath(home), () =>
    withLock(
      lockPath(home),
      // Under pending.lock: temp files next to it are from writers that died (they hold verifiers).
      () =>
        guardWrite(
          home,
          path,
          () => writeFileAtomic(path, body, { mode: 0o600, removeStaleTemps: true }),
        ),
    ));
  return path;
}

/** Options of {@link finishPending}. */
export interface FinishPendingOptions {
  /** Clock; default the real one. */
  now?: () => Date;
  /** A pending login older than this is expired; default 10 minutes. */
  maxAgeMs?: number;
  /**
   * Errors of `finish` that end the pending login all the same (an explicit
   * denial by the person). Every other error keeps it. Default: none.
   */
  ends?: (error: unknown) => boolean;
}

/**
 * Finish the provider's pending login: under the lock, read it, check its
 * age and (when the pasted callback carries one) its state, and run `finish`
 * with it. It is removed when `finish` succeeds or throws an error that
 * `options.ends` accepts; any other failure keeps it for another try.
 *
 * - none saved (or already finished): AuthError `no_pending_login`, exit 3 —
 *   login required: nothing can be finished, the user must start a login;
 * - older than `maxAgeMs`: `pending_login_expired`, exit 4, and it is removed;
 * - `state` given and different: `state_mismatch`, exit 5, and it is KEPT,
 *   so pasting another login's address does not destroy the login in
 *   progress. A `state` of null (a bare code, an address cut short) matches:
 *   PKCE still binds the code to this login's verifier.
 *
 * An unreadable file is removed and reported as `no_pending_login`.
 */
export async function finishPending<T>(
  home: string,
  provider: string,
  state: string | null,
  finish: (pending: PendingLogin) => Promise<T>,
  options: FinishPendingOptions = {},
): Promise<T> {
  const path = pendingPath(home, provider);
  const now = options.now ?? (() => new Date());
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_PENDING_MAX_AGE_MS;
  try {
    await Deno.lstat(pendingDir(home));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw noPending(provider);
    throw e;
  }
  return await guardWrite(
    home,
    lockPath(home),
    () => finishLocked(home, path, provider, state, now, maxAgeMs, finish, options),
  );
}

async function finishLocked<T>(
  home: string,
  path: string,
  provider: string,
  state: string | null,
  now: () => Date,
  maxAgeMs: number,
  finish: (pending: PendingLogin) => Promise<T>,
  options: FinishPendingOptions,
): Promise<T> {
  return await withLock(lockPath(home), async () => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw noPending(provider);
      throw e;
    }
    const pending = parsePending(text, provider);
    if (!pending) {
      await removeIfPresent(path);
      throw noPending(provider, "the saved pending login could not be read");
    }
    const age = now().getTime() - Date.parse(pending.createdAt);
    if (age > maxAgeMs) {
      await removeIfPresent(path);
      const minutes = Math.round(maxAgeMs / 60_000);
      throw new AuthError(
        "pending_login_expired",
        `the pending ${provider} login is older than ${minutes} minute${minutes === 1 ? "" : "s"}`,
        {
          exit: Exit.TIMEOUT,
          fix: `start again with \`hermes-auth add ${provider} --no-wait\` and finish it sooner`,
        },
      );
    }
    if (state !== null && state !== pending.state) {
      throw new AuthError(
        "state_mismatch",
        `the callback URL does not belong to the pending ${provider} login (state differs)`,
        {
          exit: Exit.DENIED,
          fix: "paste the address or code from the newest --no-wait login; " +
            "the pending login is kept",
        },
      );
    }
    let result: T;
    try {
      result = await finish(pending);
    } catch (e) {
      if (options.ends?.(e)) await removeIfPresent(path);
      throw e;
    }
    await removeIfPresent(path);
    return result;
  });
}

function noPending(provider: string, why?: string): AuthError {
  return new AuthError(
    "no_pending_login",
    `${why ? `${why}: ` : ""}no pending ${provider} login to finish`,
    {
      exit: Exit.LOGIN_REQUIRED,
      fix: `start one with \`hermes-auth add ${provider} --no-wait\`, then finish it with ` +
        "--callback-url",
    },
  );
}

const REQUIRED_STRINGS = [
  "provider",
  "state",
  "codeVerifier",
  "codeChallenge",
  "redirectUri",
  "clientId",
  "createdAt",
  "authorizationEndpoint",
  "tokenEndpoint",
  "issuer",
] as const;

/** The pending login in `text`, or undefined when it is not one for `provider`. */
function parsePending(text: string, provider: string): PendingLogin | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null) return undefined;
  const record = data as Record<string, unknown>;
  for (const key of REQUIRED_STRINGS) {
    if (typeof record[key] !== "string") return undefined;
  }
  if (record.nonce !== undefined && typeof record.nonce !== "string") return undefined;
  if (record.provider !== provider || Number.isNaN(Date.parse(record.createdAt as string))) {
    return undefined;
  }
  const pending: PendingLogin = {
    provider: record.provider as string,
    state: record.state as string,
    codeVerifier: record.codeVerifier as string,
    codeChallenge: record.codeChallenge as string,
    redirectUri: record.redirectUri as string,
    clientId: record.clientId as string,
    createdAt: record.createdAt as string,
    authorizationEndpoint: record.authorizationEndpoint as string,
    tokenEndpoint: record.tokenEndpoint as string,
    issuer: record.issuer as string,
  };
  if (typeof record.nonce === "string") pending.nonce = record.nonce;
  return pending;
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
