/**
 * The real CLI on a pseudo-terminal (util-linux `script`, else tmux), for
 * tests that read the screen and press keys — Enter, arrow keys, Ctrl-C — as
 * a person would. {@link driver} is null where neither tool exists; tests
 * then skip and say so.
 *
 * @module
 */
import { childEnv, cliArgv } from "./harness.ts";

export const ENTER = "\r";
export const DOWN = "\x1b[B";
export const CTRL_C = "\x03";

/** A program running on a pseudo-terminal. */
export interface Terminal extends AsyncDisposable {
  /** Everything shown so far, without escape sequences. */
  screen(): Promise<string>;
  /** Everything shown so far, escape sequences included. */
  raw(): Promise<string>;
  /** Type bytes (keys) into the terminal. */
  type(keys: string): Promise<void>;
  /** The program's exit code (waits for it). */
  exitCode(): Promise<number>;
}

/** Options of {@link openTerminal}. */
export interface TerminalOptions {
  /** Environment on top of the clean one (see harness.ts). */
  env: Record<string, string>;
  /**
   * Turn the quoted CLI command line into the shell command the terminal
   * runs, e.g. `(cmd) => cmd + " | cat -v"`; the exit code is the shell's.
   */
  wrap?: (command: string) => string;
}

function onPath(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Quote a word for sh. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `text` without terminal escape sequences. */
export function plain(text: string): string {
  // deno-lint-ignore no-control-regex -- escape sequences are what is being removed
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b[()][0-9A-B]/g, "");
}

function commandLine(args: string[], options: TerminalOptions): string {
  const command = [...cliArgv(), ...args].map(shellQuote).join(" ");
  return options.wrap ? options.wrap(command) : command;
}

/** `script -qefc "<cmd>" /dev/null`: the test writes to script's stdin, which feeds the pty. */
function scriptTerminal(args: string[], options: TerminalOptions): Terminal {
  const child = new Deno.Command("script", {
    args: ["-qefc", commandLine(args, options), "/dev/null"],
    env: childEnv({ TERM: "xterm", ...options.env }),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let output = "";
  const decoder = new TextDecoder();
  const pumps = [
    (async () => {
      for await (const chunk of child.stdout) output += decoder.decode(chunk, { stream: true });
    })(),
    child.stderr.cancel(),
  ];
  let exited: Promise<number> | undefined;
  const exitCode = () =>
    exited ??= (async () => {
      const status = await child.status;
      await writer.close().catch(() => {});
      await Promise.all(pumps);
      return status.code;
    })();
  return {
    screen: () => Promise.resolve(plain(output)),
    raw: () => Promise.resolve(output),
    type: (keys) => writer.write(new TextEncoder().encode(keys)),
    exitCode,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await exitCode();
    },
  };
}

/** tmux: a detached session running the command, keys sent as hex bytes, the pane captured. */
async function tmuxTerminal(args: string[], options: TerminalOptions): Promise<Terminal> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-tmux-" });
  const session = `hermes-auth-${crypto.randomUUID().slice(0, 8)}`;
  const exports = Object.entries(childEnv({ TERM: "xterm", ...options.env }))
    .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
  const command = `env -i ${exports} sh -c ${shellQuote(commandLine(args, options))}; ` +
    `echo $? > ${shellQuote(`${dir}/exit`)}; sleep 600`;
  const tmux = async (...argv: string[]) => {
    const out = await new Deno.Command("tmux", { args: argv, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout);
  };
  await tmux("new-session", "-d", "-s", session, "-x", "250", "-y", "50", command);
  const capture = (...flags: string[]) =>
    tmux("capture-pane", "-p", "-J", ...flags, "-S", "-500", "-t", session);
  return {
    screen: async () => plain(await capture()),
    raw: () => capture("-e"),
    type: async (keys) => {
      const hex = [...new TextEncoder().encode(keys)].map((b) => b.toString(16).padStart(2, "0"));
      await tmux("send-keys", "-t", session, "-H", ...hex);
    },
    async exitCode() {
      for (;;) {
        try {
          return Number((await Deno.readTextFile(`${dir}/exit`)).trim());
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    async [Symbol.asyncDispose]() {
      await tmux("kill-session", "-t", session);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Which tool makes the terminal, or null when there is none. */
export const driver: "script" | "tmux" | null = onPath("script")
  ? "script"
  : onPath("tmux")
  ? "tmux"
  : null;

/** Start `hermes-auth <args>` on a pseudo-terminal. */
export function openTerminal(args: string[], options: TerminalOptions): Promise<Terminal> {
  return driver === "script"
    ? Promise.resolve(scriptTerminal(args, options))
    : tmuxTerminal(args, options);
}

/** Wait until the screen matches `pattern`; returns the match. */
export async function waitFor(
  term: Terminal,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = await term.screen();
    const match = pattern.exec(screen);
    if (match) return match[0];
    if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}:\n${screen}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
