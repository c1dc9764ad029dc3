/**
 * A writer killed in the middle of a write (SIGKILL) leaves its temp file
 * `.auth.json.<16 hex>.tmp` behind, mode 0600, holding refresh tokens. The
 * next writer removes such files — only files of exactly that name, and only
 * while holding the lock every writer holds, so no live writer's temp file
 * is touched — and doctor reports any it finds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { doctorWith } from "../../lib/cli/doctor.ts";
import { findStaleTemps } from "../../lib/store/atomic.ts";
import { updateAuthFile } from "../../lib/store/auth_store.ts";
import { configFilePath, updateConfig } from "../../lib/store/config.ts";
import { pendingDir, type PendingLogin, savePending } from "../../lib/store/pending.ts";
import { fakeContext, QUIET_DOCTOR, run, withHome } from "../cli/command_context.ts";

const STALE = /^\.auth\.json\.[0-9a-f]{16}\.tmp$/;

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

/** Start a process that keeps rewriting a large auth.json, and SIGKILL it mid-write. */
async function killMidWrite(home: string): Promise<string> {
  const script = join(home, "..", "writer.ts");
  const store = new URL("../../lib/store/auth_store.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { updateAuthFile } from ${JSON.stringify(store)};\n` +
      `const big = "refresh-token-".repeat(2_000_000);\n` +
      `for (;;) await updateAuthFile(Deno.args[0], (d) => {\n` +
      `  d.providers.x = { tokens: { refresh_token: big } };\n});\n`,
  );
  for (let attempt = 0; attempt < 5; attempt++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "-A", script, home],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 30_000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      seen = (await names(home).catch(() => [])).some((n) => STALE.test(n));
      if (!seen) await new Promise((r) => setTimeout(r, 2));
    }
    child.kill("SIGKILL");
    await child.status;
    const left = (await names(home)).filter((n) => STALE.test(n));
    if (left.length > 0) return join(home, left[0]);
  }
  throw new Error("the writer never died in the middle of a write");
}

Deno.test("after a SIGKILL mid-write, the next change under the lock removes the temp file", async () => {
  await withHome(async (home) => {
    const stale = await killMidWrite(home);
    assert.equal((await Deno.stat(stale)).mode! & 0o777, 0o600);
    // Killed at any point of the write: empty, or the start of the new auth.json with its token.
    const text = await Deno.readTextFile(stale);
    assert.ok(text === "" || text.startsWith("{"), text.slice(0, 40));
    await updateAuthFile(home, (data) => {
      data.providers.x = { tokens: {} };
    });
    assert.deepEqual((await names(home)).filter((n) => n.endsWith(".tmp")), []);
  });
});

Deno.test("only our own temp names are removed: not Hermes's, not a symlink, not a lookalike", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home, { recursive: true });
    const ours = ".auth.json.0123456789abcdef.tmp";
    const keep = [
      ".auth_k3j2h1.tmp", // Hermes's own (tempfile.mkstemp(prefix=".auth_"))
      ".auth.json.0123.tmp", // too short to be ours
      ".auth.json.0123456789ABCDEF.tmp", // upper case: not ours
      ".auth.json.0123456789abcdef.tmp.bak",
      "auth.json.0123456789abcdef.tmp",
      ".other.json.0123456789abcdef.tmp",
    ];
    for (const name of [ours, ...keep]) await Deno.writeTextFile(join(home, name), "x");
    await Deno.symlink("/etc/hostname", join(home, ".auth.json.fedcba9876543210.tmp"));
    await Deno.mkdir(join(home, ".auth.json.00000000000000aa.tmp"));
    await updateAuthFile(home, () => {});
    const left = await names(home);
    assert.ok(!left.includes(ours));
    for (const name of keep) assert.ok(left.includes(name), name);
    assert.ok(left.includes(".auth.json.fedcba9876543210.tmp"), "a symlink is not ours");
    assert.ok(left.includes(".auth.json.00000000000000aa.tmp"), "a directory is not ours");
  });
});

Deno.test("config.yaml and pending logins clean up their own leftovers the same way", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(pendingDir(home)), { recursive: true });
    const configTemp = join(home, ".config.yaml.00112233445566ff.tmp");
    const pendingTemp = join(pendingDir(home), ".xai-oauth.json.aabbccddeeff0011.tmp");
    await Deno.writeTextFile(configTemp, "model: {}\n");
    await Deno.writeTextFile(pendingTemp, '{"codeVerifier": "secret"}');
    await updateConfig(home, { "model.default": "grok-4.3" });
    await savePending(
      home,
      {
        provider: "xai-oauth",
        state: "s",
        codeVerifier: "v".repeat(43),
        codeChallenge: "c",
        redirectUri: "http://127.0.0.1:56121/callback",
        clientId: "id",
        createdAt: new Date().toISOString(),
        authorizationEndpoint: "https://auth.x.ai/oauth2/authorize",
        tokenEndpoint: "https://auth.x.ai/oauth2/token",
        issuer: "https://auth.x.ai",
      } satisfies PendingLogin,
    );
    await assert.rejects(Deno.stat(configTemp), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(pendingTemp), Deno.errors.NotFound);
    assert.deepEqual(await findStaleTemps(configFilePath(home)), []);
  });
});

Deno.test("doctor reports leftover temp files, ours and Hermes's, with their paths", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(pendingDir(home)), { recursive: true, mode: 0o700 });
    await Deno.chmod(home, 0o700);
    const ours = join(home, ".auth.json.0123456789abcdef.tmp");
    const pending = join(pendingDir(home), ".spotify.json.0123456789abcdef.tmp");
    const hermes = join(home, ".auth_x81kq.tmp");
    for (const path of [ours, pending, hermes]) {
      await Deno.writeTextFile(path, "{}", { mode: 0o600 });
    }
    const fake = fakeContext(home);
    await run(fake, (ctx) => doctorWith(ctx, {}, QUIET_DOCTOR));
    const out = fake.stdout.text;
    assert.match(
      out,
      /! leftover temp files: 2 temp files left by a hermes-auth write that was killed/,
    );
    assert.ok(out.includes(ours) && out.includes(pending), out);
    assert.match(out, /! Hermes temp files: 1 temp file that looks left by a Hermes write/);
    assert.ok(out.includes(hermes));
    // doctor only reports: the files are still there.
    for (const path of [ours, pending, hermes]) await Deno.stat(path);
  });
});
