import assert from "node:assert/strict";
import { join } from "node:path";
import type { Context } from "../../lib/cli/context.ts";
import { collectStatus, durationText, renderStatus } from "../../lib/cli/status.ts";
import { Output } from "../../lib/output.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "../e2e/seed_login.ts";
import { runCommand, Sink } from "./fake_context.ts";

async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-cli-status-" });
  return {
    path: join(dir, "hermes"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function ctxFor(home: string): Pick<Context, "env" | "now"> {
  return { env: (name) => name === "HERMES_HOME" ? home : undefined, now: () => new Date() };
}

Deno.test("a fresh login: ✓, logged in, expires in 60 min, label, account, source, active; exit 0", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const result = await runCommand(["status", "xai-oauth"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 0);
  assert.match(
    result.stdout,
    // Hermes labels its mirror row `device_code` when the access token names no e-mail; the
    // account comes from the login's ID token.
    /^✓ xai-oauth {2}logged in, expires (?:tomorrow )?\d\d:\d\d \(in 60 min\) · label device_code · account grok\.user@example\.com · source device_code · active\n$/,
  );
  assert.equal(mock.stats.tokenRequests, 1, "status makes no request (the 1 is the seed login)");
});

Deno.test("no login: ⚠ not logged in with the add command; exit 3", async () => {
  await using home = await tempHome();
  const result = await runCommand(["status", "xai-oauth"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 3);
  assert.equal(
    result.stdout,
    "⚠ xai-oauth  not logged in\n    → run `hermes-auth add xai-oauth`\n",
  );
});

Deno.test("a dead login shows the last error, when, and the fix; exit 3", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  mock.revokeAll();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  assert.equal((await runCommand(["token", "xai-oauth"], { env })).code, 3);
  const result = await runCommand(["status", "xai-oauth"], { env });
  assert.equal(result.code, 3);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "⚠ xai-oauth  not logged in: the login is no longer valid · active");
  assert.match(
    lines[1],
    /^ {4}last error (?:yesterday )?\d\d:\d\d \(\d+ s ago\): .*rejected the stored refresh token: HTTP 400 invalid_grant/,
  );
  assert.equal(lines[2], "    → run `hermes-auth add xai-oauth` again");
});

Deno.test("an expired token with a refresh token is still usable: renewed on next use", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3600 + 300 });
  const [status] = await collectStatus(ctxFor(home.path), ["xai-oauth"]);
  assert.equal(status.usable, true);
  assert.equal(status.refreshable, true);
  assert.ok(status.expiresIn! <= -299);
  const stdout = new Sink();
  renderStatus(
    new Output({ json: false, color: false, stdout, stderr: new Sink() }),
    [status],
  );
  assert.match(
    stdout.text,
    /access token expired (?:yesterday )?\d\d:\d\d \(5 min ago\), renewed on next use/,
  );
});

Deno.test("status --json carries every field and no token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const result = await runCommand(["status", "--json", "x-ai-oauth"], {
    env: { HERMES_HOME: home.path },
  });
  assert.equal(result.code, 0);
  const body = JSON.parse(result.stdout);
  assert.equal(body.providers.length, 1);
  const s = body.providers[0];
  assert.deepEqual(Object.keys(s).sort(), [
    "account",
    "active",
    "configError",
    "credentials",
    "displayName",
    "expiresAt",
    "expiresIn",
    "fix",
    "label",
    "lastError",
    "loggedIn",
    "provider",
    "refreshable",
    "source",
    "usable",
  ]);
  assert.equal(s.provider, "xai-oauth");
  assert.equal(s.credentials, 1);
  assert.equal(s.fix, null);
  for (const secret of [tokens.access_token, tokens.refresh_token!, tokens.id_token!]) {
    assert.ok(!result.stdout.includes(secret));
  }
});

Deno.test("status without a provider lists every provider; a provider never logged in to does not fail it", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const statuses = await collectStatus(ctxFor(home.path));
  assert.deepEqual(statuses.map((s) => s.provider), ["xai-oauth", "spotify"]);
  assert.deepEqual(statuses.map((s) => s.usable), [true, false]);
  const result = await runCommand(["status"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  for (const s of statuses) assert.match(result.stdout, new RegExp(`[✓⚠] ${s.provider} `));
  // Asked about Spotify by name, its missing login is the answer: exit 3.
  const spotify = await runCommand(["status", "spotify"], { env: { HERMES_HOME: home.path } });
  assert.equal(spotify.code, 3);
});

Deno.test("status with no login at all exits 3", async () => {
  await using home = await tempHome();
  const result = await runCommand(["status"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 3);
});

Deno.test("a corrupt auth.json is reported with what to do", async () => {
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  await Deno.writeTextFile(join(home.path, "auth.json"), "{ nope");
  const result = await runCommand(["status", "xai-oauth"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 3);
  assert.match(result.stdout, /auth\.json cannot be read as a Hermes auth store: .*not valid JSON/);
  assert.match(result.stdout, /xai-oauth +unknown: auth\.json cannot be read/);
  assert.match(result.stdout, /auth\.json\.corrupt/);
});

Deno.test("an unknown provider is a usage error", async () => {
  await using home = await tempHome();
  const result = await runCommand(["status", "nope"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 2);
});

Deno.test("durationText is coarse and readable", () => {
  assert.equal(durationText(42), "42 s");
  assert.equal(durationText(42 * 60), "42 min");
  assert.equal(durationText(5 * 3600), "5 h");
  assert.equal(durationText(3 * 86_400), "3 days");
  assert.equal(durationText(-3), "0 s");
});
