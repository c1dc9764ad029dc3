/**
 * What a command needs from the outside world, gathered in one place so that
 * tests can hand commands fakes instead of patching globals.
 *
 * @module
 */
import { colorAllowed, Output } from "../output.ts";
import type { LockWait } from "../store/lock.ts";

/** The world as a command sees it. */
export interface Context {
  env: (name: string) => string | undefined;
  out: Output;
  /** Standard input as a stream, opened on first use. */
  stdin: () => ReadableStream<Uint8Array>;
  stdinIsTerminal: boolean;
  /** Standard output is a terminal (a person watches it); unset in most test contexts. */
  stdoutIsTerminal?: boolean;
  /** Standard error, where human text goes, is a terminal. */
  stderrIsTerminal?: boolean;
  fetch: typeof fetch;
  now: () => Date;
  /** IANA time zone for times shown to people; undefined: the system's (TZ). */
  timeZone?: string;
  /** Aborted on Ctrl-C (SIGINT) while a command waits. */
  signal: AbortSignal;
}

/** Options every command takes. */
export interface GlobalOptions {
  json?: boolean;
}

/** The real context for a process run. */
export function processContext(options: GlobalOptions, signal: AbortSignal): Context {
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  return {
    env,
    out: new Output({
      json: options.json === true,
      // Each stream on its own: `status | grep` keeps stdout plain while stderr stays coloured.
      color: {
        stdout: colorAllowed(Deno.stdout.isTerminal(), env),
        stderr: colorAllowed(Deno.stderr.isTerminal(), env),
      },
      stdout: Deno.stdout,
      stderr: Deno.stderr,
    }),
    stdin: () => Deno.stdin.readable,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    fetch: globalThis.fetch.bind(globalThis),
    now: () => new Date(),
    signal,
  };
}

/** The options with which a command's waits for auth.lock stay interruptible and visible. */
export interface LockWaitOptions {
  /**
   * Ctrl-C ends a wait (exit 130). The run's signal is asked for only when a
   * wait lasts until its notice: asking installs the Ctrl-C listener, which a
   * short wait (a refresh storm's) does without (lib/store/lock.ts Interrupt).
   */
  signal: () => AbortSignal;
  /** A wait that lasts about a second says, once, that another process holds the lock. */
  onLockWait: (wait: LockWait) => void;
}

/** Runs whose lock notice has been printed: one line per command run, however many waits. */
const noticed = new WeakSet<Output>();

/** Options for the store calls of a command run that may wait for auth.lock. */
export function lockWaitOptions(ctx: Context): LockWaitOptions {
  return {
    signal: () => ctx.signal,
    onLockWait: ({ path, timeoutMs }) => {
      if (noticed.has(ctx.out)) return;
      noticed.add(ctx.out);
      ctx.out.notice(
        `Waiting for ${path}: another process (Hermes or hermes-auth) holds it; ` +
          `waiting up to ${Math.round(timeoutMs / 1000)} s.`,
      );
    },
  };
}
