/**
 * A HERMES_HOME that cannot be written — on a read-only file system, or on a
 * full disk — is AuthError `auth_write_failed` naming the path and the cause
 * in every command that writes, never an "unexpected error", and leaves the
 * stored files as they were.
 *
 * The real conditions are made in a private mount namespace (`unshare -rm`):
 * the home is bind-mounted read-only over itself, or copied onto a tiny
 * tmpfs that is then filled. Where unprivileged namespaces are not allowed
 * the tests skip and say so; tests/store/fs_errors_test.ts covers the same
 * mapping with injected errors everywhere.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "./seed_login.ts";
import { childEnv, cliArgv, tempHome } from "./harness.ts";

function canUnshare(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const probe = new Deno.Command("unshare", {
      args: [
        "-rm",
        "sh",
        "-c",
        "mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp",
      ],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return probe.success;
  } catch {
    return false;
  }
}

const ns = canUnshare();
if (!ns) {
  // deno-lint-ignore no-console -- the reason a test is skipped must be visible
  console.log("unwritable_home_test: skipped, `unshare -rm` (mount namespaces) is not available");
}

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Run the CLI after `setup` (sh, in a private mount namespace); returns what it printed. */
async function runIn(setup: string, args: string[], env: Record<string, string>) {
  const script = `${setup} && exec "$@"`;
  const out = await new Deno.Command("unshare", {
    args: ["-rm", "sh", "-c", script, "sh", ...cliArgv(), ...args],
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Every command that writes, as a user runs it. */
const WRITERS: string[][] = [
  ["refresh", "xai-oauth"],
  ["logout", "xai-oauth"],
  ["remove", "xai-oauth", "1"],
  ["config", "set", "model.default", "grok-4.3"],
  ["model", "--provider", "xai-oauth", "--model", "grok-4.3"],
  ["add", "xai-oauth", "--no-wait"],
];

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) files[entry.name] = await Deno.readTextFile(`${dir}/${entry.name}`);
  }
  return files;
}

Deno.test({
  name:
    "a read-only HERMES_HOME: every writing command says so (auth_write_failed), nothing changes",
  ignore: !ns,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await seedLogin(home.path, mock);
    await Deno.writeTextFile(`${home.path}/config.yaml`, "model:\n  provider: xai-oauth\n");
    const before = await snapshot(home.path);
    const h = quote(home.path);
    const readOnly = `mount --bind ${h} ${h} && mount -o remount,ro,bind ${h} ${h}`;
    const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
    for (const args of WRITERS) {
      const human = await runIn(readOnly, args, env);
      const what = args.join(" ");
      assert.equal(human.code, 1, `${what}: ${human.stderr}`);
      assert.match(human.stderr, /^✗ Cannot write \S+: \S+ is on a read-only file system\n/, what);
      assert.match(human.stderr, /→ Point HERMES_HOME at a directory on a writable file system/);
      assert.doesNotMatch(human.stderr, /unexpected error|report it/, what);
      const json = await runIn(readOnly, [...args, "--json"], env);
      const event = JSON.parse(json.stdout.trim().split("\n").at(-1)!);
      assert.equal(event.code, "auth_write_failed", `${what} --json: ${json.stdout}`);
    }
    assert.deepEqual(await snapshot(home.path), before);
    assert.equal(mock.stats.refreshes, 0, "no refresh was sent that could not be stored");
  },
});

Deno.test({
  name: "a read-only HERMES_HOME: token still hands out the valid token, with a warning",
  ignore: !ns,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    const tokens = await seedLogin(home.path, mock, { ageSeconds: 3570 });
    const h = quote(home.path);
    const result = await runIn(
      `mount --bind ${h} ${h} && mount -o remount,ro,bind ${h} ${h}`,
      ["token", "xai-oauth"],
      { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), tokens.access_token);
    assert.match(result.stderr, /could not refresh .*read-only file system/);
  },
});

Deno.test({
  name: "a full disk: every writing command says the disk is full (auth_write_failed)",
  ignore: !ns,
  async fn() {
    await using mock = await startMockXai();
    await using seeded = await tempHome();
    await seedLogin(seeded.path, mock);
    await Deno.writeTextFile(`${seeded.path}/config.yaml`, "model:\n  provider: xai-oauth\n");
    const mountPoint = await Deno.makeTempDir({ prefix: "hermes-auth-full-" });
    try {
      const m = quote(mountPoint);
      const home = `${mountPoint}/hermes`;
      // A 64 KiB tmpfs holding a copy of the home, then filled to the last byte.
      const full = `mount -t tmpfs -o size=64k tmpfs ${m} && cp -a ${quote(seeded.path)} ${m}/ ` +
        `&& (cat /dev/zero > ${m}/filler 2>/dev/null; true)`;
      const env = { HERMES_HOME: home, HERMES_XAI_ISSUER: mock.issuer };
      for (const args of WRITERS.filter((a) => a[0] !== "refresh")) {
        const result = await runIn(full, [...args, "--json"], env);
        const what = args.join(" ");
        const event = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
        assert.equal(result.code, 1, `${what}: ${result.stdout}${result.stderr}`);
        assert.equal(event.code, "auth_write_failed", what);
        assert.match(event.message, /^Cannot write \S+: the disk is full$/, what);
        assert.match(event.fix, /Free some space/, what);
      }
    } finally {
      await Deno.remove(mountPoint, { recursive: true });
    }
  },
});
