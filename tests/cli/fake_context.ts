/**
 * A command context for tests: captured stdout and stderr, an environment
 * of the test's choosing, the real fetch (for the mocks on 127.0.0.1) and a
 * clock the test may set. Runs argv through the real command tree.
 *
 * @module
 */
import type { Context } from "../../lib/cli/context.ts";
import { run } from "../../lib/cli/mod.ts";
import { Output, type SyncWriter } from "../../lib/output.ts";

/** An in-memory stream. */
export class Sink implements SyncWriter {
  #chunks: Uint8Array[] = [];
  writeSync(p: Uint8Array): number {
    this.#chunks.push(p.slice());
    return p.length;
  }
  get text(): string {
    const decoder = new TextDecoder();
    return this.#chunks.map((c) => decoder.decode(c)).join("");
  }
}

/** What {@link runCommand} saw. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  env: Record<string, string>;
  now?: () => Date;
  /** Time zone of the times shown; default UTC, so outputs do not depend on the machine. */
  timeZone?: string;
}

/** Run `argv` through lib/cli/mod.ts with a fake context; never exits the test process. */
export async function runCommand(argv: string[], options: RunOptions): Promise<CommandResult> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await run(argv, (globals, signal): Context => ({
    env: (name) => options.env[name],
    out: new Output({ json: globals.json === true, color: false, stdout, stderr }),
    stdin: () => new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
    stdinIsTerminal: false,
    fetch: globalThis.fetch.bind(globalThis),
    now: options.now ?? (() => new Date()),
    timeZone: options.timeZone ?? "UTC",
    signal,
  }));
  return { code, stdout: stdout.text, stderr: stderr.text };
}
