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

/** Default of {@link WithLockOptions.noticeAfterMs}. */
export const DEFAULT_LOCK_NOTICE_MS = 1_000;

/**
 * What ends a wait early (Ctrl-C): a signal, or a function that gives one,
 * asked only once the wait has lasted until its notice. The CLI's Ctrl-C
 * listener is installed when its signal is first asked for, so a short wait
 * (every waiter of a refresh storm) is left to SIGINT's default action: it
 * ends a process that holds nothing, with the shell's status 130.
 */
export type Interrupt = AbortSignal | (() => AbortSignal);

/** The signal of `interrupt`, asking for it now. */
export function signalOf(interrupt: Interrupt | undefined): AbortSignal | undefined {
  return typeof interrupt === "function" ? interrupt() : interrupt;
}

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
  /**
   * Stop waiting when this aborts (Ctrl-C): AuthError `interrupted`, exit 130.
   * A function is asked for its signal only at the notice ({@link Interrupt}).
   */
  signal?: Interrupt;
  /**
   * Called once when the wait has lasted `noticeAfterMs`, so that the CLI
   * can say another process holds the lock (the store itself never prints).
   */
  onWait?: (wait: LockWait) => void;
  /** When to call `onWait` and ask a function `signal` for its signal; default 1000 ms. */
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
 * How a waiter waits: `FsFile.tryLockSync` (flock with LOCK_NB) first; when
 * the lock is busy, it blocks in flock(2) (`FsFile.lock()`, which Deno runs
 * in a runtime thread) while a timer keeps the notice and the deadline, and
 * the signal ends the wait. So a waiter costs no CPU while it waits, on
 * every system, and the kernel hands it the lock the moment the holder lets
 * go, however the holder lets go (unlock, close, or death).
 *
 * A wait given up on (the 15 s limit, Ctrl-C) cannot be called back: nothing
 * interrupts that thread, and closing the file does not end it. It stays
 * blocked, keeping the process alive, until the holder lets go; it is then
 * granted the lock on a file description that nothing else holds any more
 * and lets it go at once. The CLI ends its process with `Deno.exit` after
 * every command, which ends such a wait with it; a long-lived caller sees
 * it only as one more, brief, holder, and can wait for it to be gone with
 * {@link abandonedWaits}. (A lock taken in a worker could be
 * abandoned cleanly, but a worker costs a fresh process ~40 ms of CPU. A
 * watch for the holder's close of auth.lock, which this lock used before,
 * wakes on time too, but costs each waiter more than the thread, needs a
 * safety retry for a holder that unlocks without closing, and exists only
 * where there is inotify: elsewhere it polled, like Hermes, every 50 ms.)
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
 * This open and the lock calls that cannot block (`tryLockSync`,
 * `unlockSync`: an open of a local file, flock with LOCK_NB, LOCK_UN) are
 * synchronous on purpose: Deno's async forms send each through a runtime
 * thread, which costs a fresh process about 1 ms of CPU per call. Only the
 * wait itself, which does block, takes that thread (`FsFile.lock()` in
 * {@link Wait}).
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

/** The blocked flocks of waits given up on, until each is granted (and so let go). */
const abandoned = new Set<Promise<void>>();

/**
 * Settles once every wait this process gave up on (the limit, Ctrl-C) has
 * been granted its lock and has let it go, which happens when their holders
 * let go ({@link withLock}): for a caller that lives on, and for tests, whose
 * ops sanitizer must not see such a flock outlive the test.
 */
export async function abandonedWaits(): Promise<void> {
  while (abandoned.size > 0) await Promise.all(abandoned);
}

/** One caller's wait for a busy lock: one deadline and one notice across its phases. */
class Wait {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  readonly #options: WithLockOptions;
  readonly #started = performance.now();
  readonly #timeoutMs: number;
  readonly #deadline: number;
  #noticeAt: number;
  /** The signal that ends the wait, once it has been asked for (at the notice, for a function). */
  #signal: AbortSignal | undefined;

  constructor(file: Deno.FsFile, path: string, options: WithLockOptions) {
    this.#file = file;
    this.#path = path;
    this.#options = options;
    this.#timeoutMs = Math.max(0, options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    // Kept apart from the deadline: `started + timeout - started` is not always `timeout` in floats.
    this.#deadline = this.#started + this.#timeoutMs;
    this.#noticeAt = this.#started + (options.noticeAfterMs ?? DEFAULT_LOCK_NOTICE_MS);
    if (typeof options.signal !== "function") this.#signal = options.signal;
  }

  /** Take the lock, exclusive or shared, or throw `lock_timeout` / `interrupted`. */
  async until(exclusive: boolean): Promise<void> {
    if (this.#file.tryLockSync(exclusive)) return;
    // Blocks in flock(2) until the kernel grants the lock; what rejects it (ENOLCK on some
    // network file systems) is thrown below.
    let outcome: { failure?: unknown } | undefined;
    const granted = this.#file.lock(exclusive).then(
      () => void (outcome = {}),
      (failure) => void (outcome = { failure }),
    );
    for (;;) {
      if (outcome) {
        if ("failure" in outcome) throw outcome.failure;
        return;
      }
      if (this.#signal?.aborted) {
        throw abandon(
          granted,
          new AuthError("interrupted", `interrupted while waiting for ${this.#path}`, {
            exit: Exit.INTERRUPTED,
          }),
        );
      }
      const now = performance.now();
      if (now >= this.#deadline) {
        throw abandon(granted, lockTimeout(this.#path, this.#timeoutMs));
      }
      if (now >= this.#noticeAt) {
        this.#noticeAt = Infinity;
        this.#signal ??= signalOf(this.#options.signal);
        this.#options.onWait?.({
          path: this.#path,
          waitedMs: now - this.#started,
          timeoutMs: this.#timeoutMs,
        });
        continue;
      }
      await pause(Math.min(this.#deadline, this.#noticeAt) - now, this.#signal, granted);
    }
  }
}

/** Give up on the blocked flock `granted` (it cannot be called back); returns `error`, to throw. */
function abandon(granted: Promise<void>, error: AuthError): AuthError {
  abandoned.add(granted);
  granted.then(() => abandoned.delete(granted));
  return error;
}

/**
 * Sleep `ms`, or less when `granted` settles or `signal` aborts.
 *
 * The timer is an `Atomics.waitAsync` timeout: the pending lock keeps the
 * process alive, and while anything does V8 fires that timeout on time, for
 * a fraction of what a fresh process pays for its first timer (~2 ms of
 * CPU, in each of a storm's waiters; Deno's global setTimeout loads its
 * Node-compatible timers on first use, ~10 ms). Left to run out when the
 * wait ends early, it holds nothing: it keeps no process alive and its late
 * firing finds the pause settled.
 */
function pause(ms: number, signal: AbortSignal | undefined, granted: Promise<void>): Promise<void> {
  return new Promise((settle) => {
    const done = () => {
      signal?.removeEventListener("abort", done);
      settle();
    };
    const wait = Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));
    if (wait.async) wait.value.then(done);
    else queueMicrotask(done);
    granted.then(done);
    signal?.addEventListener("abort", done);
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
    // Lower case and no full stop, like every message: `token` quotes it inside its warning.
    `timed out after ${seconds} s waiting for the auth store lock ${path}`,
    { fix },
  );
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
