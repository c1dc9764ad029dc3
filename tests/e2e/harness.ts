/**
 * Spawning the real CLI for end-to-end tests: `deno run main.ts` under
 * exactly the permissions `deno compile` bakes into the binary
 * (scripts/compile.ts PERMISSIONS, never `--allow-all`), or the compiled
 * binary itself when HERMES_AUTH_BIN names one. So a permission the binary
 * lacks fails an e2e test here, where no binary can be built. Set
 * HERMES_AUTH_E2E_ALLOW_ALL=1 to run with `--allow-all` instead, to tell a
 * missing permission from another failure.
 *
 * The child gets a clean environment plus what Deno needs to resolve npm
 * packages here (TLS variables, DENO_DIR, proxies), so no test depends on
 * the developer's shell, and HERMES_HOME always points at a temp directory.
 *
 * @module
 */
import { PERMISSIONS } from "../../scripts/compile.ts";

const ROOT = new URL("../../", import.meta.url);
const MAIN = new URL("main.ts", ROOT).pathname;

/** Variables passed through from the test runner's environment. */
const PASS_THROUGH = [
  "PATH",
  "HOME",
  "TMPDIR",
  "DENO_DIR",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "XDG_CACHE_HOME",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "CURL_CA_BUNDLE",
  "REQUESTS_CA_BUNDLE",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "SYSTEMROOT",
];

/** The permission flags `deno run` gets: the binary's, or `--allow-all` when asked for. */
export function cliPermissions(): string[] {
  if (Deno.env.get("HERMES_AUTH_E2E_ALLOW_ALL")) return ["--allow-all", "--no-prompt"];
  return PERMISSIONS.map((p) => p.flag);
}

/** The command line that starts the CLI under test. */
export function cliArgv(): string[] {
  const bin = Deno.env.get("HERMES_AUTH_BIN");
  if (bin) return [bin];
  return [Deno.execPath(), "run", "--quiet", ...cliPermissions(), MAIN];
}

/**
 * A clean environment for the child, with `extra` on top. `DENO_NO_UPDATE_CHECK`: `deno run`
 * would otherwise fetch its latest version from dl.deno.land in every child that lives 500 ms,
 * and tests talk to loopback only (the compiled binary has no such check).
 */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of PASS_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Options of {@link spawnCli}. */
export interface SpawnOptions {
  /** Environment on top of the clean one; must include HERMES_HOME. */
  env: Record<string, string> & { HERMES_HOME: string };
  /** Give the child a stdin pipe (default: null). */
  stdin?: boolean;
}

/** A running CLI process with line-by-line access to its stdout. */
export class CliProcess {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  #lines: string[] = [];
  #waiters: (() => void)[] = [];
  #pumps: Promise<void>[];
  #stdinWriter?: WritableStreamDefaultWriter<Uint8Array>;

  constructor(args: string[], options: SpawnOptions) {
    const [cmd, ...rest] = cliArgv();
    this.child = new Deno.Command(cmd, {
      args: [...rest, ...args],
      env: childEnv(options.env),
      clearEnv: true,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#stdinWriter = this.child.stdin.getWriter();
    this.#pumps = [
      this.#pump(this.child.stdout, (t) => {
        this.stdout += t;
        this.#split();
      }),
      this.#pump(this.child.stderr, (t) => {
        this.stderr += t;
        this.#notify();
      }),
    ];
  }

  async #pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
    this.#notify();
  }

  #consumed = 0;
  #split() {
    const nl = this.stdout.lastIndexOf("\n");
    if (nl >= this.#consumed) {
      this.#lines.push(...this.stdout.slice(this.#consumed, nl).split("\n").filter(Boolean));
      this.#consumed = nl + 1;
    }
    this.#notify();
  }

  #notify() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Wait for the next JSON event line on stdout with this `event` name. */
  async event(name: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (true) {
      for (; seen < this.#lines.length; seen++) {
        try {
          const obj = JSON.parse(this.#lines[seen]);
          if (obj?.event === name) return obj;
        } catch { /* not JSON */ }
      }
      if (Date.now() > deadline) {
        throw new Error(`no "${name}" event; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await this.#waitChange(deadline);
    }
  }

  /** Wait until stderr contains `text`. */
  async stderrIncludes(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes(text)) {
      if (Date.now() > deadline) throw new Error(`stderr never said "${text}":\n${this.stderr}`);
      await this.#waitChange(deadline);
    }
  }

  async #waitChange(deadline: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#changed(),
      new Promise<void>((r) =>
        timer = setTimeout(r, Math.max(1, Math.min(250, deadline - Date.now())))
      ),
    ]);
    clearTimeout(timer);
  }

  /** How the child ended, or "still running" when it has not within `ms`. */
  async doneWithin(ms: number): Promise<Awaited<ReturnType<CliProcess["done"]>> | "still running"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"still running">((r) => timer = setTimeout(r, ms, "still running"));
    const result = await Promise.race([this.done(), late]);
    clearTimeout(timer);
    return result;
  }

  /** Type into the child's stdin. */
  async write(text: string): Promise<void> {
    await this.#stdinWriter!.write(new TextEncoder().encode(text));
  }

  /** Wait for exit; closes stdin and drains the pipes. */
  async done(): Promise<
    { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
  > {
    if (this.#stdinWriter) await this.#stdinWriter.close().catch(() => {});
    const status = await this.child.status;
    await Promise.all(this.#pumps);
    return { code: status.code, signal: status.signal, stdout: this.stdout, stderr: this.stderr };
  }
}

/** Poll `probe` every 20 ms until it returns a value other than undefined; throws after `ms`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Start the CLI. Always `await p.done()` (or kill then done) before the test ends. */
export function spawnCli(args: string[], options: SpawnOptions): CliProcess {
  return new CliProcess(args, options);
}

/** Run the CLI to completion. */
export function runCli(
  args: string[],
  options: SpawnOptions,
): Promise<{ code: number; signal: Deno.Signal | null; stdout: string; stderr: string }> {
  return spawnCli(args, options).done();
}

/** A fresh HERMES_HOME; remove it with `await using`. */
export async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "hermes-auth-e2e-" });
  return {
    path: `${path}/hermes`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
