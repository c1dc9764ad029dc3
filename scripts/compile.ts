/**
 * `deno task compile [--output PATH]`: builds `dist/hermes-auth` for this
 * machine with `deno compile`, then runs it once (`--version`) to prove the
 * binary starts and is hermes-auth.
 *
 * Also the library behind `deno task release` and the binary end-to-end
 * test: the permissions baked into the binary, the release targets, where
 * the `denort` runtime comes from, and one-line failures a person can act on.
 *
 * `deno compile` wraps the program around `denort`, Deno's runtime without
 * its tools, which it downloads from dl.deno.land once per version and
 * target and caches under `$DENO_DIR/dl/`. Where that host is unreachable,
 * `DENORT_BIN` names a local denort for this machine's target, and
 * `DENORT_BIN_<TARGET>` (e.g. `DENORT_BIN_AARCH64_APPLE_DARWIN`) one for
 * another target. `DENORT_BIN=$(which deno)` does not work: the full deno CLI
 * ignores the program embedded in it, so the result is just `deno`; this
 * script refuses it.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import denoJson from "../deno.json" with { type: "json" };
import { LAZY_MODULES } from "../lib/lazy.ts";

/** The version the binary reports, from deno.json. */
export const VERSION: string = denoJson.version;

/**
 * The permissions baked into the binary, each chosen for a reason (the
 * binary never prompts: a login on a server must fail plainly, not hang on
 * a question nobody sees). Kept in step with docs/install.md.
 */
export const PERMISSIONS: readonly { flag: string; why: string }[] = [
  {
    flag: "--allow-net",
    why: "talk to the providers (accounts.x.ai, accounts.spotify.com, and custom issuers " +
      "from config.yaml or HERMES_XAI_ISSUER, known only at run time) and listen on " +
      "127.0.0.1 for the callback on a port chosen at run time",
  },
  {
    flag: "--allow-read",
    why: "$HERMES_HOME (auth.json, auth.lock, config.yaml), whose path is known only at " +
      "run time, and the files that tell a container or WSL apart",
  },
  {
    flag: "--allow-write",
    why: "$HERMES_HOME only in practice: auth.json written atomically through a temp file, " +
      "auth.lock, config.yaml, pending logins; the path is known only at run time",
  },
  {
    flag: "--allow-env",
    why: "HERMES_HOME, SSH_CONNECTION/SSH_TTY, BROWSER, DISPLAY, NO_COLOR, the provider " +
      "overrides and proxies; a fixed list would make every new variable fail only in the binary",
  },
  {
    flag: "--allow-run",
    why: "start the browser: $BROWSER (which may name any program), xdg-open, open or " +
      "rundll32; nothing else runs programs (doctor only looks them up on PATH)",
  },
  {
    flag: "--allow-sys=hostname",
    why: "the host name in the SSH tunnel hint; no other system information",
  },
  {
    flag: "--no-prompt",
    why: "never stop to ask for a permission: fail with the error instead",
  },
];
// Not granted: --allow-ffi (no native code), --allow-import (every module is
// embedded; nothing is fetched as code at run time), other --allow-sys APIs.

/** The release targets: `deno compile --target` names and the file name suffix. */
export const TARGETS: readonly { target: string; label: string }[] = [
  { target: "x86_64-unknown-linux-gnu", label: "Linux x86_64" },
  { target: "aarch64-unknown-linux-gnu", label: "Linux aarch64" },
  { target: "x86_64-apple-darwin", label: "macOS x86_64" },
  { target: "aarch64-apple-darwin", label: "macOS arm64" },
  { target: "x86_64-pc-windows-msvc", label: "Windows x86_64" },
];

/** This machine's target triple, as `deno compile --target` spells it. */
export function hostTarget(): string {
  return Deno.build.target;
}

/** The file name of the release binary for `target`. */
export function binaryName(target: string): string {
  return `hermes-auth-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** The variable that names a local denort for `target` (besides DENORT_BIN for the host). */
export function denortVariable(target: string): string {
  return `DENORT_BIN_${target.replaceAll("-", "_").toUpperCase()}`;
}

/** A compile that cannot go on, with a one-line reason saying what to do. */
export class CompileError extends Error {
  override name = "CompileError";
}

/** Where the denort runtime for a target comes from. */
export type DenortSource =
  | { kind: "file"; path: string; variable: string }
  | { kind: "cache"; path: string }
  | { kind: "download"; cachePath: string };

/** Inputs of {@link denortSource} and {@link compile}. */
export interface CompileEnv {
  env?: (name: string) => string | undefined;
  /** The deno executable doing the compile (default: this one). */
  deno?: string;
}

async function denoDir(deno: string, env: (name: string) => string | undefined): Promise<string> {
  const explicit = env("DENO_DIR");
  if (explicit) return explicit;
  const { stdout } = await new Deno.Command(deno, { args: ["info", "--json"], stderr: "null" })
    .output();
  return JSON.parse(new TextDecoder().decode(stdout)).denoDir;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * Where `deno compile` will take the runtime for `target` from: a variable
 * naming a local file, Deno's download cache, or a download still to do.
 */
export async function denortSource(
  target: string,
  options: CompileEnv = {},
): Promise<DenortSource> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const deno = options.deno ?? Deno.execPath();
  const variables = [denortVariable(target), ...(target === hostTarget() ? ["DENORT_BIN"] : [])];
  for (const variable of variables) {
    const path = env(variable);
    if (path) return { kind: "file", path, variable };
  }
  const version = /^(\d+\.\d+\.\d+)/.exec(Deno.version.deno)?.[1] ?? Deno.version.deno;
  const cachePath = `${await denoDir(deno, env)}/dl/release/v${version}/denort-${target}.zip`;
  if (await isFile(cachePath)) return { kind: "cache", path: cachePath };
  return { kind: "download", cachePath };
}

/** The fix to print when no runtime for `target` can be had. */
function setDenortHint(target: string): string {
  return target === hostTarget()
    ? "set DENORT_BIN to a local denort binary"
    : `set ${denortVariable(target)} to a local denort binary for ${target}`;
}

/** What kind of executable `head` (a file's first bytes) starts, as "<format> <arch>". */
export function executableKind(head: Uint8Array): string | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const u16 = (at: number) => at + 2 <= head.length ? view.getUint16(at, true) : -1;
  const u32 = (at: number) => at + 4 <= head.length ? view.getUint32(at, true) : -1;
  if (u32(0) === 0x464c457f) { // "\x7fELF"
    return { 0x3e: "ELF x86_64", 0xb7: "ELF aarch64" }[u16(18)] ?? "ELF other";
  }
  if (u32(0) === 0xfeedfacf) { // 64-bit Mach-O
    return { 0x01000007: "Mach-O x86_64", 0x0100000c: "Mach-O aarch64" }[u32(4)] ?? "Mach-O other";
  }
  if (u16(0) === 0x5a4d) { // "MZ"
    const pe = u32(0x3c);
    if (pe < 0 || u32(pe) !== 0x4550) return "PE other";
    return { 0x8664: "PE x86_64", 0xaa64: "PE aarch64" }[u16(pe + 4)] ?? "PE other";
  }
  return null;
}

/** The executable kind a runtime for `target` must be (see {@link executableKind}). */
export function expectedKind(target: string): string {
  const format = target.includes("windows") ? "PE" : target.includes("apple") ? "Mach-O" : "ELF";
  return `${format} ${target.split("-")[0]}`;
}

async function fileHead(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const head = new Uint8Array(4096);
  const n = await file.read(head);
  return head.subarray(0, n ?? 0);
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    return (await Deno.realPath(a)) === (await Deno.realPath(b));
  } catch {
    return false;
  }
}

/** Options of {@link compile}. */
export interface CompileOptions extends CompileEnv {
  /** The binary to write. */
  output: string;
  /** Default: this machine's. */
  target?: string;
  /** Show deno compile's own progress (default: only on failure). */
  verbose?: boolean;
}

/** The project's root folder. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/**
 * Compile main.ts into `options.output` with {@link PERMISSIONS}. For this
 * machine's target, also run the result with `--version` and check it says
 * {@link VERSION}. Throws {@link CompileError} with a one-line message.
 */
export async function compile(options: CompileOptions): Promise<DenortSource> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const deno = options.deno ?? Deno.execPath();
  const target = options.target ?? hostTarget();
  if (!TARGETS.some((t) => t.target === target) && target !== hostTarget()) {
    throw new CompileError(`unknown target ${target}`);
  }
  const source = await denortSource(target, { env, deno });
  const childEnv: Record<string, string> = { ...Deno.env.toObject() };
  // deno compile reads DENORT_BIN whatever the target: never let the host's
  // runtime end up inside another platform's binary.
  delete childEnv.DENORT_BIN;
  if (source.kind === "file") {
    if (!(await isFile(source.path))) {
      throw new CompileError(
        `${source.variable}=${source.path} is not a file: ${setDenortHint(target)}`,
      );
    }
    if (await sameFile(source.path, deno)) {
      throw new CompileError(
        `${source.variable} names the deno CLI, not denort: a binary built on it runs deno itself ` +
          `and ignores hermes-auth; ${setDenortHint(target)}`,
      );
    }
    const kind = executableKind(await fileHead(source.path));
    // Fat (universal) Mach-O files and the like are left to deno compile to judge.
    if (kind !== null && !kind.endsWith("other") && kind !== expectedKind(target)) {
      throw new CompileError(
        `${source.variable}=${source.path} is an executable for ${kind}; ${target} needs ` +
          `${expectedKind(target)}: ${setDenortHint(target)}`,
      );
    }
    childEnv.DENORT_BIN = source.path;
  }

  await Deno.mkdir(dirname(resolve(options.output)), { recursive: true });
  const args = [
    "compile",
    "--quiet",
    // Only what main.ts can reach: test-only npm packages (the mock OIDC
    // server) would otherwise ride along in every binary.
    "--exclude-unused-npm",
    ...PERMISSIONS.map((p) => p.flag),
    // Modules main.ts loads with a run-time specifier (lib/lazy.ts), which
    // deno compile cannot see by itself.
    ...LAZY_MODULES.flatMap((m) => ["--include", resolve(ROOT, m)]),
    "--target",
    target,
    "--output",
    resolve(options.output),
    resolve(ROOT, "main.ts"),
  ];
  const child = await new Deno.Command(deno, {
    args,
    cwd: ROOT,
    env: childEnv,
    clearEnv: true,
    stdout: options.verbose ? "inherit" : "piped",
    stderr: options.verbose ? "inherit" : "piped",
  }).output();
  if (!child.success) {
    const stderr = options.verbose ? "" : new TextDecoder().decode(child.stderr);
    // deno's own wording: "Setting up base binary" wraps every failure to get denort.
    if (source.kind === "download" && /base binary|denort|dl\.deno\.land/i.test(stderr)) {
      throw new CompileError(
        `cannot download the denort runtime for ${target} (dl.deno.land unreachable?): ` +
          setDenortHint(target),
      );
    }
    const firstError = stderr.split("\n").find((l) => /error/i.test(l))?.trim();
    throw new CompileError(
      `deno compile failed for ${target}${firstError ? `: ${firstError}` : ""}`,
    );
  }
  if (target === hostTarget()) await smokeTest(options.output, source);
  return source;
}

/** Run the new binary once: a runtime that is not denort shows here. */
async function smokeTest(binary: string, source: DenortSource): Promise<void> {
  const { stdout, stderr } = await new Deno.Command(binary, {
    args: ["--version"],
    stdin: "null",
  }).output().catch((e) => {
    throw new CompileError(`the compiled ${binary} does not start: ${e.message}`);
  });
  const said = new TextDecoder().decode(stdout).trim();
  if (said === VERSION) return;
  await Deno.remove(binary).catch(() => {});
  const from = source.kind === "file" ? ` (${source.variable}=${source.path})` : "";
  const why = /^deno \d/.test(said)
    ? "the runtime is the deno CLI, not denort"
    : `it printed ${JSON.stringify((said || new TextDecoder().decode(stderr)).slice(0, 80))}`;
  throw new CompileError(
    `the compiled binary does not run hermes-auth${from}: ${why}; ` +
      "set DENORT_BIN to a denort binary",
  );
}

/** The size of a file in MB, for the summary line. */
export async function sizeMb(path: string): Promise<string> {
  return ((await Deno.stat(path)).size / 1e6).toFixed(1);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { output: { type: "string" } } });
  const output = values.output ??
    resolve(ROOT, "dist/hermes-auth" + (Deno.build.os === "windows" ? ".exe" : ""));
  try {
    const source = await compile({ output });
    const from = {
      file: "the file in DENORT_BIN",
      cache: "Deno's cache",
      download: "dl.deno.land",
    };
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `${output}: hermes-auth ${VERSION} for ${hostTarget()}, ` +
          `${await sizeMb(output)} MB (denort from ${from[source.kind]})\n`,
      ),
    );
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    Deno.stderr.writeSync(new TextEncoder().encode(`compile: ${e.message}\n`));
    Deno.exit(1);
  }
}
