/**
 * `hermes-auth model` on a real terminal: the CLI runs under a
 * pseudo-terminal (util-linux `script`, else tmux), the test reads the
 * screen and presses keys — Enter, arrow keys, Ctrl-C — as a person would.
 * Skipped, saying why, where neither tool exists.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { childEnv, cliArgv, tempHome } from "./harness.ts";

const ENTER = "\r";
const DOWN = "\x1b[B";
const CTRL_C = "\x03";

/** A program running on a pseudo-terminal. */
interface Terminal extends AsyncDisposable {
  /** Everything shown so far, without escape sequences. */
  screen(): Promise<string>;
  /** Type bytes (keys) into the terminal. */
  type(keys: string): Promise<void>;
  /** The program's exit code (waits for it). */
  exitCode(): Promise<number>;
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

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function plain(text: string): string {
  // deno-lint-ignore no-control-regex -- escape sequences are what is being removed
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b[()][0-9A-B]/g, "");
}

/** `script -qefc "<cmd>" /dev/null`: the test writes to script's stdin, which feeds the pty. */
function scriptTerminal(args: string[], env: Record<string, string>): Terminal {
  const command = [...cliArgv(), ...args].map(shellQuote).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    env: childEnv({ TERM: "xterm", ...env }),
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
async function tmuxTerminal(args: string[], env: Record<string, string>): Promise<Terminal> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-tmux-" });
  const session = `hermes-auth-${crypto.randomUUID().slice(0, 8)}`;
  const exports = Object.entries(childEnv({ TERM: "xterm", ...env }))
    .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
  const command = `env -i ${exports} ${[...cliArgv(), ...args].map(shellQuote).join(" ")}; ` +
    `echo $? > ${shellQuote(`${dir}/exit`)}; sleep 600`;
  const tmux = async (...argv: string[]) => {
    const out = await new Deno.Command("tmux", { args: argv, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout);
  };
  await tmux("new-session", "-d", "-s", session, "-x", "250", "-y", "50", command);
  return {
    screen: async () => plain(await tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", session)),
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

const driver = onPath("script") ? "script" : onPath("tmux") ? "tmux" : null;

function open(args: string[], env: Record<string, string>): Promise<Terminal> {
  return driver === "script" ? Promise.resolve(scriptTerminal(args, env)) : tmuxTerminal(args, env);
}

/** Wait until the screen matches `pattern`; returns the match. */
async function waitFor(term: Terminal, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = await term.screen();
    const match = pattern.exec(screen);
    if (match) return match[0];
    if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}:\n${screen}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (driver === null) {
  // deno-lint-ignore no-console -- the reason a test is skipped must be visible
  console.log("model_pty_test: skipped, neither `script` (util-linux) nor tmux is installed");
}

Deno.test({
  name: "on a terminal: pick xAI, log in when offered (pasting the redirect), arrow to a model",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await open(["model"], {
      HERMES_HOME: home.path,
      HERMES_XAI_ISSUER: mock.issuer,
    });
    await waitFor(term, /Which provider should Hermes use\?/);
    await waitFor(term, /xAI Grok OAuth \(SuperGrok Subscription\)/);
    await term.type(ENTER);
    await waitFor(term, /not logged in to xAI Grok OAuth .* Log in now\?/);
    await term.type(ENTER);

    // The login: open the printed URL in the "browser", paste back the address it lands on.
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
    await waitFor(term, /Waiting up to 180 s/);
    const callback = await mock.approve(url);
    await term.type(callback + ENTER);
    await waitFor(term, /Added xai-oauth OAuth credential #1/);

    await waitFor(term, /Which xAI Grok OAuth \(SuperGrok Subscription\) model\?/);
    await waitFor(term, /grok-4\.3 \(default\)/);
    await term.type(DOWN);
    await waitFor(term, /❯ grok-4\.20-0309-reasoning/);
    await term.type(ENTER);
    assert.equal(await term.exitCode(), 0, await term.screen());

    assert.equal(
      await Deno.readTextFile(`${home.path}/config.yaml`),
      "model:\n  provider: xai-oauth\n  default: grok-4.20-0309-reasoning\n" +
        "  base_url: https://api.x.ai/v1\n",
    );
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.equal(auth.active_provider, "xai-oauth");
    assert.ok(auth.credential_pool["xai-oauth"][0].refresh_token);
    assert.equal(mock.stats.codeExchanges, 1);
  },
});

Deno.test({
  name: "on a terminal: after a login through the listener, the first arrow key still counts",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await open(["model"], {
      HERMES_HOME: home.path,
      HERMES_XAI_ISSUER: mock.issuer,
    });
    await waitFor(term, /Which provider should Hermes use\?/);
    await term.type(ENTER);
    await waitFor(term, /Log in now\?/);
    await term.type(ENTER);
    // This time the browser reaches the listener, while the paste prompt is still reading.
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
    await waitFor(term, /Waiting up to 180 s/);
    await fetch(await mock.approve(url)).then((r) => r.body?.cancel());
    await waitFor(term, /grok-4\.3 \(default\)/);
    await term.type(DOWN);
    await waitFor(term, /❯ grok-4\.20-0309-reasoning/, 5_000);
    await term.type(DOWN + ENTER);
    assert.equal(await term.exitCode(), 0, await term.screen());
    assert.match(
      await Deno.readTextFile(`${home.path}/config.yaml`),
      /default: grok-4\.20-0309-non-reasoning/,
    );
  },
});

Deno.test({
  name: "on a terminal: Ctrl-C in the picker exits 130 and writes nothing",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    await using term = await open(["model"], { HERMES_HOME: home.path });
    await waitFor(term, /Which provider should Hermes use\?/);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130);
    assert.match(await term.screen(), /Cancelled: nothing was changed\./);
    await assert.rejects(Deno.stat(`${home.path}/config.yaml`), Deno.errors.NotFound);
  },
});
