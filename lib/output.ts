/**
 * The only place (with lib/cli) that talks to the terminal: human text on
 * stderr, data on stdout, or one JSON object per line with `--json`.
 * Colours are off when NO_COLOR is set or the stream is not a terminal.
 * Every line passes through a redactor that blanks registered secrets, a
 * last line of defence behind "never format a token into a message".
 *
 * @module
 */
import type { AuthError } from "./errors.ts";

/** A synchronous byte sink, like Deno.stdout. */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Options of {@link Output}. */
export interface OutputOptions {
  json: boolean;
  color: boolean;
  stdout: SyncWriter;
  stderr: SyncWriter;
}

const encoder = new TextEncoder();

/** Sinks whose reader went away (`hermes-auth add --json | head -1`). */
const closed = new WeakSet<SyncWriter>();

function writeAll(w: SyncWriter, text: string): void {
  if (closed.has(w)) return;
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
  } catch (e) {
    // A closed pipe is the reader's choice, not our failure: stop writing to it.
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    closed.add(w);
  }
}

function sgr(open: number, close: number) {
  return (on: boolean) => (s: string) => on ? `\x1b[${open}m${s}\x1b[${close}m` : s;
}
const STYLES = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

/** Styling functions; identity when colour is off. */
export type Styles = { [K in keyof typeof STYLES]: (s: string) => string };

/** Human or JSON rendering for one command run. */
export class Output {
  readonly json: boolean;
  readonly style: Styles;
  #opts: OutputOptions;
  #secrets = new Set<string>();

  constructor(options: OutputOptions) {
    this.#opts = options;
    this.json = options.json;
    const color = options.color && !options.json;
    this.style = Object.fromEntries(
      Object.entries(STYLES).map(([k, f]) => [k, f(color)]),
    ) as Styles;
  }

  /** Never print this value (tokens, codes, verifiers); it is replaced by `[redacted]`. */
  secret(value: string | undefined): void {
    if (value && value.length >= 8) this.#secrets.add(value);
  }

  #redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join("[redacted]");
    return out;
  }

  /** A line of human text on stderr (suppressed with --json). */
  info(text = ""): void {
    if (!this.json) writeAll(this.#opts.stderr, this.#redact(text) + "\n");
  }

  /** Text on stderr without a newline (a prompt); suppressed with --json. */
  prompt(text: string): void {
    if (!this.json) writeAll(this.#opts.stderr, this.#redact(text));
  }

  /** A warning: `! text` on stderr, or a `warning` event with --json. */
  warn(text: string): void {
    if (this.json) this.event({ event: "warning", message: text });
    else writeAll(this.#opts.stderr, this.#redact(`${this.style.yellow("!")} ${text}`) + "\n");
  }

  /**
   * A passing notice, `! text` on stderr in every mode (another process
   * holds a lock we wait for). With --json too: it is not data, and stdout
   * stays the one document or event stream a script parses.
   */
  notice(text: string): void {
    writeAll(this.#opts.stderr, this.#redact(`${this.style.yellow("!")} ${text}`) + "\n");
  }

  /** A success line: `✓ text` on stderr (suppressed with --json). */
  success(text: string): void {
    if (!this.json) {
      writeAll(this.#opts.stderr, this.#redact(`${this.style.green("✓")} ${text}`) + "\n");
    }
  }

  /** A line of result data on stdout, human mode only (e.g. a status table). */
  data(text: string): void {
    if (!this.json) writeAll(this.#opts.stdout, this.#redact(text) + "\n");
  }

  /** A raw value on stdout in every mode, unredacted: only the `token` command uses this. */
  raw(text: string): void {
    writeAll(this.#opts.stdout, text + "\n");
  }

  /** One JSON object on stdout (only with --json). */
  event(obj: Record<string, unknown>): void {
    if (this.json) writeAll(this.#opts.stdout, this.#redact(JSON.stringify(obj)) + "\n");
  }

  /** A JSON document on stdout (only with --json), for commands that answer once. */
  result(obj: unknown): void {
    if (this.json) writeAll(this.#opts.stdout, this.#redact(JSON.stringify(obj, null, 2)) + "\n");
  }

  /** An expected failure: message and fix on stderr, or an `error` event. */
  error(err: AuthError): void {
    if (this.json) {
      this.event({
        event: "error",
        code: err.code,
        message: err.message,
        ...(err.fix ? { fix: err.fix } : {}),
        exit: err.exit,
      });
      return;
    }
    const lines = [`${this.style.red("✗")} ${err.message}`];
    if (err.fix) lines.push(`  ${this.style.dim("→")} ${err.fix}`);
    writeAll(this.#opts.stderr, this.#redact(lines.join("\n")) + "\n");
  }

  /** An unexpected failure (a bug): one line, plus the stack when HERMES_AUTH_DEBUG is set. */
  crash(e: unknown, debug: boolean): void {
    const message = e instanceof Error ? e.message : String(e);
    if (this.json) {
      this.event({ event: "error", code: "internal_error", message, exit: 1 });
      return;
    }
    const text =
      `${this.style.red("✗")} unexpected error: ${message}\n  ${
        this.style.dim("→")
      } run again with HERMES_AUTH_DEBUG=1 and report it` +
      (debug && e instanceof Error && e.stack ? `\n${e.stack}` : "");
    writeAll(this.#opts.stderr, this.#redact(text) + "\n");
  }
}
