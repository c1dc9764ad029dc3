/**
 * The only place (with lib/cli) that talks to the terminal: human text on
 * stderr, data on stdout, or one JSON object per line with `--json`.
 * Colour is decided for each stream on its own (`hermes-auth status | grep`
 * from a terminal must get plain data while the warnings on stderr stay
 * coloured): {@link Output.style} styles stderr text, {@link Output.dataStyle}
 * stdout data, and each is plain unless its stream may have colour (see
 * {@link colorAllowed}).
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
  /** Colour on both streams, or per stream. */
  color: boolean | { stdout: boolean; stderr: boolean };
  stdout: SyncWriter;
  stderr: SyncWriter;
}

/**
 * May a stream carry colour: it is a terminal, `NO_COLOR` is unset or empty
 * (https://no-color.org) and `TERM` is not `dumb`.
 */
export function colorAllowed(
  isTerminal: boolean,
  env: (name: string) => string | undefined,
): boolean {
  return isTerminal && !env("NO_COLOR") && env("TERM") !== "dumb";
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

/** Control characters, and the bidi controls that reorder how a line reads. */
// deno-lint-ignore no-control-regex -- control characters are what is being matched
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to show on a terminal: control characters become visible
 * escapes (`\n`, `\t`, `\x1b`, `\u202e`), so a stored value (a label Hermes
 * or a provider wrote, an error message from a server) cannot move the
 * cursor, recolour the screen or hide part of a line. `keep` names
 * characters to leave as they are (e.g. `"\n"` for multi-line text).
 */
export function printable(text: string, keep = ""): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (keep.includes(c)) return c;
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
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

function styles(color: boolean): Styles {
  return Object.fromEntries(Object.entries(STYLES).map(([k, f]) => [k, f(color)])) as Styles;
}

/** Human or JSON rendering for one command run. */
export class Output {
  readonly json: boolean;
  #opts: OutputOptions;
  #color: { stdout: boolean; stderr: boolean };
  #style?: Styles;
  #dataStyle?: Styles;
  #secrets = new Set<string>();
  #promptOpen = false;

  constructor(options: OutputOptions) {
    this.#opts = options;
    this.json = options.json;
    this.#color = typeof options.color === "boolean"
      ? { stdout: options.color, stderr: options.color }
      : options.color;
  }

  /** Styles for human text on stderr ({@link info}, {@link warn}, …). */
  get style(): Styles {
    // Made on first use: `token` prints a bare token and never styles anything.
    return this.#style ??= styles(this.#color.stderr && !this.json);
  }

  /** Styles for data on stdout ({@link data}): plain when stdout is a pipe or a file. */
  get dataStyle(): Styles {
    return this.#dataStyle ??= styles(this.#color.stdout && !this.json);
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
    if (!this.json) this.#writeErr(this.#redact(text) + "\n");
  }

  /** Text on stderr without a newline (a prompt); suppressed with --json. */
  prompt(text: string): void {
    if (this.json) return;
    this.#writeErr(this.#redact(text));
    this.#promptOpen = true;
  }

  /**
   * The person answered the open prompt: their Enter ended its line, so the
   * next line needs no newline of ours.
   */
  answered(): void {
    this.#promptOpen = false;
  }

  /**
   * Write to stderr. A prompt still open (nobody pressed Enter: a timeout, a
   * callback from the listener) gets its line ended first, so a message never
   * lands after the prompt's text.
   */
  #writeErr(text: string): void {
    if (this.#promptOpen) {
      this.#promptOpen = false;
      writeAll(this.#opts.stderr, "\n");
    }
    writeAll(this.#opts.stderr, text);
  }

  /** A warning: `! text` on stderr, or a `warning` event with --json. */
  warn(text: string): void {
    if (this.json) this.event({ event: "warning", message: text });
    else this.#writeErr(this.#redact(`${this.style.yellow("!")} ${text}`) + "\n");
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
      this.#writeErr(this.#redact(`${this.style.green("✓")} ${text}`) + "\n");
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

  /**
   * An expected failure: message and fix on stderr, or an `error` event.
   * With `debug` (HERMES_AUTH_DEBUG) the causes follow, in the words of
   * whatever raised them (oauth4webapi, fetch, the OS): the detail a bug
   * report needs, kept out of the one line a person reads.
   */
  error(err: AuthError, debug = false): void {
    const causes = debug ? causeChain(err) : [];
    if (this.json) {
      this.event({
        event: "error",
        code: err.code,
        message: err.message,
        ...(err.fix ? { fix: err.fix } : {}),
        exit: err.exit,
        ...(causes.length ? { causes } : {}),
      });
      return;
    }
    const lines = [`${this.style.red("✗")} ${err.message}`];
    if (err.fix) lines.push(`  ${this.style.dim("→")} ${err.fix}`);
    for (const cause of causes) lines.push(this.style.dim(`  cause: ${cause}`));
    this.#writeErr(this.#redact(lines.join("\n")) + "\n");
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
    this.#writeErr(this.#redact(text) + "\n");
  }
}

/** `Name: message` of each cause under `err`, outermost first (at most 5). */
function causeChain(err: Error): string[] {
  const out: string[] = [];
  let cause = err.cause;
  while (cause !== undefined && out.length < 5) {
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      out.push(`${cause.name}${typeof code === "string" ? ` (${code})` : ""}: ${cause.message}`);
      cause = cause.cause;
    } else if (cause instanceof Response) {
      // oauth4webapi keeps the response it refused as the cause.
      out.push(`HTTP ${cause.status} ${cause.statusText} from ${cause.url || "the server"}`.trim());
      break;
    } else {
      out.push(String(cause));
      break;
    }
  }
  return out;
}
