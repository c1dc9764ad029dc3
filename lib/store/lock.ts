/**
 * The auth store lock: an exclusive `flock` on `$HERMES_HOME/auth.lock`,
 * the very lock Hermes's Python takes with `fcntl.flock`, so hermes-auth and
 * a running Hermes can change auth.json side by side without losing each
 * other's writes or replaying a rotated refresh token. Waiters that only
 * need to see a holder's result take it shared ({@link WithLockAfterWait}).
 *
 * @module
 */

import { AuthError, Exit } from "../errors.ts";
import { dirname, resolve } from "./path.ts";

/** Hermes's `AUTH_LOCK_TIMEOUT_SECONDS`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

/**
 * How often a waiting process retries when nothing tells it the lock was
 * let go (no inotify, or it could not be used): Hermes's own 0.05 s.
 */
const POLL_INTERVAL_MS = 50;

/**
 * With inotify, a waiter is woken when a holder closes auth.lock, and
 * retries on its own only after a second, then every 2 s: for a holder that
 * unlocks without closing, or a close the kernel reports a moment before it
 * drops the lock (a killed holder). Rarely, because a timer that fires costs
 * a fresh process CPU (measured: ~4 ms for the first), and most waits — a
 * refresh storm's — are over sooner.
 */
const WATCHED_RETRY_MS = { first: 1_000, max: 2_000 };

/** Default of {@link WithLockOptions.noticeAfterMs}. */
export const DEFAULT_LOCK_NOTICE_MS = 1_000;

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

/** What {@link WithLockOptions.onWait} is told. */
export interface LockWait {
  /** The lock file, absolute. */
  path: string;
  /** How long this call has waited so far. */
  waitedMs: number;
  /** How long it waits in all before giving up. */
  timeoutMs: number;
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
  /**
   * Called once when the wait has lasted `noticeAfterMs`, so that the CLI
   * can say another process holds the lock (the store itself never prints).
   */
  onWait?: (wait: LockWait) => void;
  /** When to call `onWait`; default 1000 ms. */
  noticeAfterMs?: number;
}

/** Options of {@link withLock} for a caller that may find its work done by the holder. */
export interface WithLockAfterWait<T> extends WithLockOptions {
  /**
   * For a caller that, finding the lock busy, most likely waits for the very
   * change it was about to make (N processes refreshing one token): as soon
   * as the holder lets go, this runs under a *shared* lock, which all such
   * waiters hold at once and no writer can, so they look at the result side
   * by side instead of one after another. A value ends the call there;
   * `undefined` goes on to take the exclusive lock and run `fn`. Not called
   * when the lock was free at once.
   */
  afterWait?: () => Promise<NoInfer<T> | undefined>;
}

/**
 * Run `fn` while holding an exclusive flock on `lockPath` (created 0600 if
 * missing, its directory 0700). Waits at most `timeoutMs`, then throws
 * AuthError `lock_timeout`. Always unlocks and closes, also when `fn` throws.
 *
 * How a waiter waits: `FsFile.tryLockSync` (flock with LOCK_NB), retried when
 * inotify reports that someone closed auth.lock — every holder, Hermes and
 * hermes-auth alike, closes it right after unlocking, and the kernel closes
 * a killed one's — and otherwise after 1 s, then every 2 s; every 50 ms
 * (Hermes's own rate) where inotify is missing (macOS, Windows) or refused.
 * So a waiter costs no CPU while it waits and takes the lock the moment it
 * is free. It does not block in flock(2): Deno's `FsFile.lock()` runs that
 * in a runtime thread which nothing can interrupt — closing the file does
 * not end it — so a wait given up on (the 15 s limit, Ctrl-C) would stay
 * behind, keep the process alive and take the lock whenever the holder let
 * go. A watcher, by contrast, is closed and gone the moment the wait ends.
 * (A lock taken in a worker can be abandoned too, but a worker costs a
 * fresh process ~40 ms of CPU.)
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
  options: WithLockAfterWait<T> = {},
): Promise<T> {
  const key = resolve(lockPath);
  const joined = options.lock;
  if (joined?.active && joined.path === key) return await fn(joined);

  const file = openLockFile(key);
  try {
    if (!file.tryLockSync(true)) {
      const wait = new Wait(file, key, options);
      if (options.afterWait) {
        await wait.until(false);
        let early: T | undefined;
        try {
          early = await options.afterWait();
        } finally {
          unlockNow(file);
        }
        if (early !== undefined) return early;
      }
      await wait.until(true);
    }
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
      unlockNow(file);
    }
  } finally {
    file.close();
  }
}

/**
 * auth.lock, created 0600 when missing, and its directory 0700 when that is
 * missing too (a first login). The directory is made only after an open
 * that failed for want of it: the usual call opens the file and nothing else.
 *
 * This open and the lock calls (`tryLockSync`, `unlockSync`) are synchronous
 * on purpose: none of them can block (an open of a local file, flock with
 * LOCK_NB, LOCK_UN), and Deno's async forms send each through a runtime
 * thread, which costs a fresh process about 1 ms of CPU per lock taken — in
 * every waiter of a refresh storm.
 */
function openLockFile(path: string): Deno.FsFile {
  const options = { read: true, write: true, create: true, mode: 0o600 };
  try {
    return Deno.openSync(path, options);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return Deno.openSync(path, options);
  }
}

/** LOCK_UN; best effort (closing the file drops the lock anyway). */
function unlockNow(file: Deno.FsFile): void {
  try {
    file.unlockSync();
  } catch {
    // The close that follows lets go of it.
  }
}

/** Is there inotify, which reports a close of auth.lock by any process? */
const inotify = Deno.build.os === "linux" || Deno.build.os === "android";

/** One caller's wait for a busy lock: one deadline and one notice across its phases. */
class Wait {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  readonly #options: WithLockOptions;
  readonly #timeoutMs: number;
  readonly #started = performance.now();
  #noticeAt: number;
  /** Safety retries so far (they space out), and when the lock was last tried. */
  #retries = 0;
  #lastTry = this.#started;

  constructor(file: Deno.FsFile, path: string, options: WithLockOptions) {
    this.#file = file;
    this.#path = path;
    this.#options = options;
    this.#timeoutMs = Math.max(0, options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    this.#noticeAt = options.onWait
      ? this.#started + (options.noticeAfterMs ?? DEFAULT_LOCK_NOTICE_MS)
      : Infinity;
  }

  /** Take the lock, exclusive or shared, or throw `lock_timeout` / `interrupted`. */
  async until(exclusive: boolean): Promise<void> {
    if (this.#file.tryLockSync(exclusive)) return;
    const watcher = inotify ? watch(this.#path) : undefined;
    const events = watcher?.[Symbol.asyncIterator]();
    let event = events?.next();
    try {
      // A first retry right after the watch is in place: a close before it went unseen.
      while (!this.#file.tryLockSync(exclusive)) {
        const signal = this.#options.signal;
        if (signal?.aborted) {
          throw new AuthError("interrupted", `interrupted while waiting for ${this.#path}`, {
            exit: Exit.INTERRUPTED,
          });
        }
        const now = performance.now();
        const deadline = this.#started + this.#timeoutMs;
        if (now >= deadline) throw lockTimeout(this.#path, this.#timeoutMs);
        if (now >= this.#noticeAt) {
          this.#noticeAt = Infinity;
          this.#options.onWait?.({
            path: this.#path,
            waitedMs: now - this.#started,
            timeoutMs: this.#timeoutMs,
          });
        }
        const interval = watcher
          ? Math.min(WATCHED_RETRY_MS.max, WATCHED_RETRY_MS.first * 2 ** this.#retries)
          : POLL_INTERVAL_MS;
        const retryAt = this.#lastTry + interval;
        const next = Math.min(retryAt, deadline, this.#noticeAt);
        const woke = await pause(next - now, signal, event);
        if (woke === "event") event = events!.next();
        if (woke === "time" && performance.now() >= retryAt) this.#retries++;
        this.#lastTry = performance.now();
      }
    } finally {
      watcher?.close();
      await event?.catch(() => {});
    }
  }
}

/** An inotify watch on the lock file, or undefined when it cannot be had (then: polling). */
function watch(path: string): Deno.FsWatcher | undefined {
  try {
    // Out of inotify instances (fs.inotify.max_user_instances), no read permission…
    return Deno.watchFs(path, { recursive: false });
  } catch {
    return undefined;
  }
}

/**
 * Sleep `ms`, or less when `event` settles or `signal` aborts.
 *
 * With a watch, the timer is an `Atomics.waitAsync` timeout: the watch's
 * pending read keeps the process alive, and while anything does V8 fires
 * that timeout on time, for a fraction of what a fresh process pays for its
 * first timer (~2 ms of CPU, in each of a storm's waiters). Left to run out
 * when the wait ends early, it holds nothing: it keeps no process alive and
 * its late firing finds the pause settled. Without a watch (polling) the
 * timer must itself keep the process alive, so it is AbortSignal.timeout's
 * (Deno's global setTimeout loads its Node-compatible timers on first use,
 * ~10 ms).
 */
function pause(
  ms: number,
  signal: AbortSignal | undefined,
  event: Promise<unknown> | undefined,
): Promise<"event" | "time" | "abort"> {
  return new Promise((settle) => {
    let timer: AbortSignal | undefined;
    const done = (why: "event" | "time" | "abort") => {
      // Without a listener Deno's timeout timer no longer keeps the process alive.
      timer?.removeEventListener("abort", onTime);
      signal?.removeEventListener("abort", onAbort);
      settle(why);
    };
    const onTime = () => done("time");
    const onAbort = () => done("abort");
    if (event) {
      const wait = Atomics.waitAsync(
        new Int32Array(new SharedArrayBuffer(4)),
        0,
        0,
        Math.max(0, ms),
      );
      if (wait.async) wait.value.then(onTime);
      else queueMicrotask(onTime);
      event.then(() => done("event"), () => done("event"));
    } else {
      timer = AbortSignal.timeout(Math.max(0, ms));
      timer.addEventListener("abort", onTime);
    }
    signal?.addEventListener("abort", onAbort);
  });
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
