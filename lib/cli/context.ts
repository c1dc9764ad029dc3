/**
 * What a command needs from the outside world, gathered in one place so that
 * tests can hand commands fakes instead of patching globals.
 *
 * @module
 */
import { colorAllowed, Output } from "../output.ts";

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
