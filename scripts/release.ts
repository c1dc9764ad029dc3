/**
 * `deno task release`: the binaries people download — Linux x86_64 and
 * aarch64, macOS x86_64 and arm64, Windows x86_64 — as
 * `dist/hermes-auth-<target>[.exe]`, and `dist/SHA256SUMS` in the format
 * `sha256sum -c` reads. The binaries are built by {@link compile}, with the
 * same baked-in permissions as `deno task compile`.
 *
 * Each target needs its own denort runtime: downloaded by `deno compile`
 * (and cached), or named by `DENORT_BIN_<TARGET>` (`DENORT_BIN` serves this
 * machine's target too). All targets are tried; the task fails, one line per
 * target that could not be built, and writes SHA256SUMS only when all were.
 *
 * @module
 */
import { resolve } from "node:path";
import { binaryName, compile, CompileError, ROOT, sizeMb, TARGETS, VERSION } from "./compile.ts";

/** The SHA-256 of a file, hex. */
export async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA256SUMS text for `files` (names relative to `dir`), as sha256sum prints it. */
export async function sha256sums(dir: string, files: string[]): Promise<string> {
  const lines = [];
  for (const name of files) lines.push(`${await sha256(resolve(dir, name))}  ${name}`);
  return lines.join("\n") + "\n";
}

function say(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${text}\n`));
}

if (import.meta.main) {
  const dist = resolve(ROOT, "dist");
  await Deno.mkdir(dist, { recursive: true });
  // A SHA256SUMS left from an older release must not vouch for new files.
  await Deno.remove(resolve(dist, "SHA256SUMS")).catch(() => {});
  const built: string[] = [];
  const failed: string[] = [];
  for (const { target, label } of TARGETS) {
    const name = binaryName(target);
    try {
      await compile({ target, output: resolve(dist, name) });
      built.push(name);
      say(`dist/${name}: ${label}, ${await sizeMb(resolve(dist, name))} MB`);
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      failed.push(`release: ${label}: ${e.message}`);
    }
  }
  if (failed.length > 0) {
    for (const line of failed) say(line);
    say(`release: ${built.length} of ${TARGETS.length} targets built; no SHA256SUMS written`);
    Deno.exit(1);
  }
  await Deno.writeTextFile(resolve(dist, "SHA256SUMS"), await sha256sums(dist, built));
  say(`dist/SHA256SUMS: hermes-auth ${VERSION}, ${built.length} binaries`);
}
