/**
 * scripts/compile.ts and scripts/release.ts: the runtime each target is
 * built on, the one-line failures when there is none, the release file
 * names and checksums, and the permissions baked into the binary.
 */
import assert from "node:assert/strict";
import {
  binaryName,
  compile,
  CompileError,
  denortSource,
  denortVariable,
  executableKind,
  expectedKind,
  hostTarget,
  PERMISSIONS,
  ROOT,
  TARGETS,
} from "../../scripts/compile.ts";
import { sha256sums } from "../../scripts/release.ts";

const noEnv = (vars: Record<string, string> = {}) => (name: string) => vars[name];

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "hermes-auth-compile-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** The first bytes of an ELF file for `machine` (e_machine), enough for executableKind. */
function elfHead(machine: number): Uint8Array {
  const head = new Uint8Array(64);
  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  new DataView(head.buffer).setUint16(18, machine, true);
  return head;
}

Deno.test("release covers Linux x86_64 and aarch64, macOS x86_64 and arm64, Windows x86_64", () => {
  assert.deepEqual(TARGETS.map((t) => binaryName(t.target)), [
    "hermes-auth-x86_64-unknown-linux-gnu",
    "hermes-auth-aarch64-unknown-linux-gnu",
    "hermes-auth-x86_64-apple-darwin",
    "hermes-auth-aarch64-apple-darwin",
    "hermes-auth-x86_64-pc-windows-msvc.exe",
  ]);
  assert.ok(TARGETS.some((t) => t.target === hostTarget()) || Deno.build.os === "windows");
});

Deno.test("executable headers are told apart by format and architecture", () => {
  assert.equal(executableKind(elfHead(0x3e)), "ELF x86_64");
  assert.equal(executableKind(elfHead(0xb7)), "ELF aarch64");
  const macho = new Uint8Array(32);
  new DataView(macho.buffer).setUint32(0, 0xfeedfacf, true);
  new DataView(macho.buffer).setUint32(4, 0x0100000c, true);
  assert.equal(executableKind(macho), "Mach-O aarch64");
  const pe = new Uint8Array(256);
  const view = new DataView(pe.buffer);
  view.setUint16(0, 0x5a4d, true);
  view.setUint32(0x3c, 0x80, true);
  view.setUint32(0x80, 0x4550, true);
  view.setUint16(0x84, 0x8664, true);
  assert.equal(executableKind(pe), "PE x86_64");
  assert.equal(executableKind(new TextEncoder().encode("#!/bin/sh\n")), null);
  assert.equal(expectedKind("aarch64-apple-darwin"), "Mach-O aarch64");
  assert.equal(expectedKind("x86_64-pc-windows-msvc"), "PE x86_64");
  assert.equal(expectedKind("aarch64-unknown-linux-gnu"), "ELF aarch64");
});

Deno.test("DENORT_BIN serves only this machine's target; others need DENORT_BIN_<TARGET>", async () => {
  const env = noEnv({ DENORT_BIN: "/opt/denort", DENO_DIR: "/nonexistent-deno-dir" });
  assert.deepEqual(await denortSource(hostTarget(), { env }), {
    kind: "file",
    path: "/opt/denort",
    variable: "DENORT_BIN",
  });
  const other = TARGETS.find((t) => t.target !== hostTarget())!.target;
  assert.equal((await denortSource(other, { env })).kind, "download");
  assert.deepEqual(
    await denortSource(other, { env: noEnv({ [denortVariable(other)]: "/opt/other" }) }),
    { kind: "file", path: "/opt/other", variable: denortVariable(other) },
  );
  assert.equal(denortVariable("aarch64-apple-darwin"), "DENORT_BIN_AARCH64_APPLE_DARWIN");
});

Deno.test("DENORT_BIN=$(which deno) is refused: the deno CLI ignores the program embedded in it", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    compile({ output: `${dir.path}/hermes-auth`, env: noEnv({ DENORT_BIN: Deno.execPath() }) }),
    (e: Error) => e instanceof CompileError && /names the deno CLI, not denort/.test(e.message),
  );
});

Deno.test("a runtime for another architecture is refused before compiling", async () => {
  await using dir = await tempDir();
  const target = "aarch64-unknown-linux-gnu";
  await Deno.writeFile(`${dir.path}/denort`, elfHead(0x3e));
  await assert.rejects(
    compile({
      target,
      output: `${dir.path}/out`,
      env: noEnv({ [denortVariable(target)]: `${dir.path}/denort` }),
    }),
    (e: Error) =>
      e instanceof CompileError &&
      e.message.includes(
        "is an executable for ELF x86_64; aarch64-unknown-linux-gnu needs ELF aarch64",
      ),
  );
});

Deno.test("a copy of the deno CLI as DENORT_BIN is caught by running the binary, which is removed", async () => {
  await using dir = await tempDir();
  const copy = `${dir.path}/denort`;
  try {
    await Deno.link(Deno.execPath(), copy); // same bytes, another path
  } catch {
    await Deno.copyFile(Deno.execPath(), copy);
  }
  const output = `${dir.path}/hermes-auth`;
  await assert.rejects(
    compile({ output, env: noEnv({ DENORT_BIN: copy }) }),
    (e: Error) =>
      e instanceof CompileError &&
      /does not run hermes-auth .*the runtime is the deno CLI, not denort/.test(e.message),
  );
  await assert.rejects(Deno.lstat(output), Deno.errors.NotFound);
});

// Only where no runtime is cached: otherwise the compile would just succeed.
const hostSource = await denortSource(hostTarget(), { env: noEnv() });
Deno.test({
  name: "without a denort the compile task fails with one line that says to set DENORT_BIN",
  ignore: hostSource.kind !== "download",
  async fn() {
    await using dir = await tempDir();
    // A closed port as proxy: the download fails at once, whatever the network.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const proxy = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
    closed.close();
    const env: Record<string, string> = {
      ...Deno.env.toObject(),
      HTTPS_PROXY: proxy,
      https_proxy: proxy,
    };
    delete env.DENORT_BIN;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}scripts/compile.ts`, "--output", `${dir.path}/hermes-auth`],
      env,
      clearEnv: true,
    }).output();
    const lines = new TextDecoder().decode(stderr).trim().split("\n");
    assert.equal(code, 1);
    assert.equal(new TextDecoder().decode(stdout), "");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^compile: cannot download the denort runtime for .*: set DENORT_BIN/);
  },
});

Deno.test("SHA256SUMS lines read as sha256sum -c expects them", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/a`, "abc");
  await Deno.writeTextFile(`${dir.path}/b.exe`, "");
  assert.equal(
    await sha256sums(dir.path, ["a", "b.exe"]),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n" +
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.exe\n",
  );
});

/** Every `Deno.*` call that needs an --allow-sys grant, and what it is called there. */
const SYS_APIS: Record<string, string> = {
  "Deno.hostname": "hostname",
  "Deno.osRelease": "osRelease",
  "Deno.osUptime": "osUptime",
  "Deno.loadavg": "loadavg",
  "Deno.networkInterfaces": "networkInterfaces",
  "Deno.systemMemoryInfo": "systemMemoryInfo",
  "Deno.uid": "uid",
  "Deno.gid": "gid",
};

Deno.test("the binary's permissions cover what lib/ calls: --allow-sys names each API, no FFI", async () => {
  const flags = PERMISSIONS.map((p) => p.flag);
  const sys = flags.find((f) => f.startsWith("--allow-sys="))!.split("=")[1].split(",");
  const problems: string[] = [];
  for await (const file of walk(`${ROOT}lib`)) {
    const text = await Deno.readTextFile(file);
    for (const [call, api] of Object.entries(SYS_APIS)) {
      if (new RegExp(`${call.replace(".", "\\.")}\\(`).test(text) && !sys.includes(api)) {
        problems.push(`${file}: ${call}() needs --allow-sys=${api} in scripts/compile.ts`);
      }
    }
    if (/\bDeno\.dlopen\(/.test(text)) problems.push(`${file}: FFI is not granted to the binary`);
    if (/from "node:os"/.test(text)) {
      problems.push(`${file}: node:os needs --allow-sys grants; add them in scripts/compile.ts`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(!flags.includes("--allow-all") && !flags.includes("-A"));
});

Deno.test("docs/install.md documents every permission baked into the binary", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/install.md`);
  for (const { flag } of PERMISSIONS) assert.ok(doc.includes(`\`${flag}\``), `${flag} missing`);
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}
