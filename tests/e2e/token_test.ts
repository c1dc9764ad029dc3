/**
 * `hermes-auth token` and `refresh` end to end: the real CLI process against
 * the mock accounts.x.ai, as a script would call it.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { runCli, tempHome } from "./harness.ts";
import { seedLogin } from "./seed_login.ts";

type Json = Record<string, unknown>;

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

/** Does the mock's API accept this access token? */
async function accepted(issuer: string, token: string): Promise<boolean> {
  const response = await fetch(`${issuer}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.ok;
}

Deno.test("$(hermes-auth token xai-oauth) is exactly a working bearer token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const result = await runCli(["token", "xai-oauth"], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${tokens.access_token}\n`);
  assert.equal(result.stderr, "");
  assert.ok(await accepted(mock.issuer, result.stdout.trim()));
  assert.equal(mock.stats.refreshes, 0);
});

Deno.test("an expiring token is refreshed by the process, stored, and the new one works", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const result = await runCli(["token", "xai-oauth"], { env });
  assert.equal(result.code, 0, result.stderr);
  const token = result.stdout.trim();
  assert.notEqual(token, old.access_token);
  assert.ok(await accepted(mock.issuer, token));
  assert.equal(mock.stats.refreshes, 1);
  const state = ((await readAuth(home.path)).providers as Json)["xai-oauth"] as Json;
  assert.equal((state.tokens as Json).access_token, token);
  assert.equal((await Deno.stat(`${home.path}/auth.json`)).mode! & 0o777, 0o600);
});

Deno.test("no login: exit 3, nothing on stdout, the add command on stderr", async () => {
  await using home = await tempHome();
  const result = await runCli(["token", "xai-oauth"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /run `hermes-auth add xai-oauth`/);
});

Deno.test("a revoked login: exit 3, dead tokens removed, last_auth_error recorded, rest untouched", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const before = await readAuth(home.path);
  before.providers = { ...(before.providers as Json), other: { keep: true } };
  before.future_field = [1];
  await Deno.writeTextFile(`${home.path}/auth.json`, JSON.stringify(before));
  mock.revokeAll();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const result = await runCli(["refresh", "xai-oauth"], { env });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /hermes-auth add xai-oauth/);
  const after = await readAuth(home.path);
  const state = (after.providers as Json)["xai-oauth"] as Json;
  assert.equal((state.tokens as Json).access_token, undefined);
  assert.equal((state.tokens as Json).refresh_token, undefined);
  assert.equal((state.last_auth_error as Json).relogin_required, true);
  assert.deepEqual((after.providers as Json).other, { keep: true });
  assert.deepEqual(after.future_field, [1]);
  const status = await runCli(["status", "xai-oauth"], { env });
  assert.equal(status.code, 3);
  assert.match(status.stdout, /no longer valid/);
});
