/**
 * The auth store lock: an exclusive `flock` on `$HERMES_HOME/auth.lock`,
 * the very lock Hermes's Python takes with `fcntl.flock`, so hermes-auth and
 * a running Hermes can change auth.json side by side without losing each
 * other's writes or replaying a rotated refresh token.
 *
 * @module
 */

import { AuthError, Exit } from "../errors.ts";
import { ensurePrivateDir } from "./atomic.ts";
import { dirname, resolve } from "./path.ts";

/** Hermes's `AUTH_LOCK_TIMEOUT_SECONDS`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

/** How often a waiting process retries, as Hermes does (0.05 s). */
const POLL_INTERVAL_MS = 50;

/**
 * Proof that a {@link withLock} call holds a lock, handed to its `fn`. Pass
 * it on (`{ lock: held }`) to a nested `withLock`, `updateAuthFile` or
 * `updateConfig` on the same lock file so it joins the lock instead of
 * waiting for itself. It stops joining once that `withLock` has returned.
 */
export interface HeldLock {
  /** The lock file, absolute. */
  readonly path: string;
  /** True while the `withLock` that made it still holds the lock. */
  readonly active: boolean;
}

/** Options of {@link withLock}. */
export interface WithLockOptions {
  /** Give up after this many milliseconds; default 15000. */
  timeoutMs?: number;
  /**
   * A lock the caller already holds: when it is still held and is on the
   * same file, `fn` runs inside it at once (no wait, no timeout). Otherwise
   * (another file, or released) the lock is taken as usual.
   */
  lock?: HeldLock;
  /** Stop waiting when this aborts (Ctrl-C): AuthError `interrupted`, exit 130. */
  signal?: AbortSignal;
}

/**
 * Run `fn` while holding an exclusive flock on `lockPath` (created 0600 if
 * missing, its directory 0700). Waits at most `timeoutMs`, then throws
 * AuthError `lock_timeout`. Always unlocks and closes, also when `fn` throws.
 *
 * Waiting is a poll of `FsFile.tryLock` (flock with LOCK_NB) every 50 ms —
 * Hermes's own technique — so a timeout leaves no blocked operation behind.
 *
 * Reentrant like Hermes's lock, explicitly: `fn` receives a {@link HeldLock},
 * and a `withLock` on the same path given it as `options.lock` (a refresh
 * that reads, calls the network and then updates auth.json) joins the lock
 * already held instead of waiting for itself. Independent callers in the same
 * process still exclude each other: every call opens its own file
 * description, and flock locks conflict between descriptions. (The held lock
 * is passed by hand rather than found through AsyncLocalStorage so that the
 * store loads no `node:` module: that alone costs `token` ~13 ms.)
 */
export async function withLock<T>(
  lockPath: string,
  fn: (held: HeldLock) => Promise<T>,
  options: WithLockOptions = {},
): Promise<T> {
  const key = resolve(lockPath);
  const joined = options.lock;
  if (joined?.active && joined.path === key) return await fn(joined);

  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  await ensurePrivateDir(dirname(key));
  const file = await Deno.open(key, { read: true, write: true, create: true, mode: 0o600 });
  try {
    await acquire(file, key, timeoutMs, options.signal);
    let active = true;
    const held: HeldLock = {
      path: key,
      get active() {
        return active;
      },
    };
    try {
      return await fn(held);
    } finally {
      active = false;
      await file.unlock().catch(() => {});
    }
  } finally {
    file.close();
  }
}

async function acquire(
  file: Deno.FsFile,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + Math.max(0, timeoutMs);
  while (!(await file.tryLock(true))) {
    if (signal?.aborted) {
      throw new AuthError("interrupted", `interrupted while waiting for ${path}`, {
        exit: Exit.INTERRUPTED,
      });
    }
    const left = deadline - performance.now();
    if (left <= 0) throw lockTimeout(path, timeoutMs);
    await new Promise((done) => setTimeout(done, Math.min(POLL_INTERVAL_MS, left)));
  }
}

function lockTimeout(path: string, timeoutMs: number): AuthError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  const quoted = shellQuote(path);
  const fix = Deno.build.os === "windows"
    ? `Another process holds ${path} (a running Hermes or hermes-auth); close it and retry.`
    : `Another process holds it (a running Hermes or hermes-auth); find it with \`lsof ${quoted}\` or \`fuser ${quoted}\`, then retry.`;
  return new AuthError(
    "lock_timeout",
    `Timed out after ${seconds} s waiting for the auth store lock ${path}.`,
    { fix },
  );
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
