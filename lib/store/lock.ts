/**
 * The auth store lock: an exclusive `flock` on `$HERMES_HOME/auth.lock`,
 * the very lock Hermes's Python takes with `fcntl.flock`, so hermes-auth and
 * a running Hermes can change auth.json side by side without losing each
 * other's writes or replaying a rotated refresh token.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { dirname, resolve } from "./path.ts";
import { AuthError } from "../errors.ts";
import { ensurePrivateDir } from "./atomic.ts";

/** Hermes's `AUTH_LOCK_TIMEOUT_SECONDS`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

/** How often a waiting process retries, as Hermes does (0.05 s). */
const POLL_INTERVAL_MS = 50;

/** Options of {@link withLock}. */
export interface WithLockOptions {
  /** Give up after this many milliseconds; default 15000. */
  timeoutMs?: number;
}

/** Lock files held by the current async call chain. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Run `fn` while holding an exclusive flock on `lockPath` (created 0600 if
 * missing, its directory 0700). Waits at most `timeoutMs`, then throws
 * AuthError `lock_timeout`. Always unlocks and closes, also when `fn` throws.
 *
 * Waiting is a poll of `FsFile.tryLock` (flock with LOCK_NB) every 50 ms —
 * Hermes's own technique — so a timeout leaves no blocked operation behind.
 *
 * Reentrant like Hermes's lock: a `withLock` on the same path from inside
 * `fn` (a refresh that reads, calls the network and then updates auth.json)
 * joins the lock already held instead of waiting for itself. Independent
 * callers in the same process still exclude each other: every call opens its
 * own file description, and flock locks conflict between descriptions.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: WithLockOptions = {},
): Promise<T> {
  const key = resolve(lockPath);
  const mine = held.getStore();
  if (mine?.has(key)) return await fn();

  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  await ensurePrivateDir(dirname(key));
  const file = await Deno.open(key, { read: true, write: true, create: true, mode: 0o600 });
  try {
    await acquire(file, key, timeoutMs);
    try {
      return await held.run(new Set([...(mine ?? []), key]), fn);
    } finally {
      await file.unlock().catch(() => {});
    }
  } finally {
    file.close();
  }
}

async function acquire(file: Deno.FsFile, path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + Math.max(0, timeoutMs);
  while (!(await file.tryLock(true))) {
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
