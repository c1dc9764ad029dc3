/**
 * The credential pool end to end: a real `add` against the mock
 * accounts.x.ai, then `list`, `remove`, `model`, `doctor` and `logout` as
 * separate CLI processes on the same HERMES_HOME.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { runCli, spawnCli, tempHome } from "./harness.ts";

type Json = Record<string, unknown>;

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

function poolOf(auth: Json): Json[] {
  return ((auth.credential_pool as Json)["xai-oauth"] ?? []) as Json[];
}

Deno.test("add, list, remove, model, doctor and logout agree on one HERMES_HOME", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };

  // A real login: `add` prints the authorize URL, the test plays the browser.
  const add = spawnCli(["add", "xai-oauth", "--json", "--port", "0", "--no-browser"], { env });
  const authorize = await add.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const added = await add.done();
  assert.equal(added.code, 0, added.stderr);

  // A second account added by hand in Hermes (`hermes auth add xai-oauth`): a manual row.
  const auth = await readAuth(home.path);
  const mirror = poolOf(auth)[0];
  poolOf(auth).push({
    ...mirror,
    id: "f00d42",
    label: "work",
    priority: 1,
    source: "manual:device_code",
    access_token: "second-account-access-token-0000",
    refresh_token: "second-account-refresh-token-000",
  });
  await Deno.writeTextFile(`${home.path}/auth.json`, JSON.stringify(auth, null, 2));

  const listed = await runCli(["list", "xai-oauth", "--json"], { env });
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout).providers[0].credentials;
  assert.deepEqual(rows.map((r: Json) => [r.index, r.source, r.in_use]), [
    [1, "device_code", true],
    [2, "manual:device_code", false],
  ]);
  const human = await runCli(["list"], { env });
  assert.match(human.stdout, /#1 .*device_code +← in use\n/);
  assert.match(human.stdout, /#2 +work +oauth +id=f00d42 +manual:device_code\n/);
  for (const secret of [String(mirror.access_token), String(mirror.refresh_token)]) {
    assert.ok(!human.stdout.includes(secret) && !listed.stdout.includes(secret));
  }

  // Bad targets are usage errors that list the candidates; nothing changes.
  const before = await Deno.readTextFile(`${home.path}/auth.json`);
  const unknown = await runCli(["remove", "xai-oauth", "personal"], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /No xai-oauth credential matches "personal"/);
  assert.match(unknown.stderr, /#2 "work" \(id=f00d42\)/);
  const badProvider = await runCli(["remove", "grok", "1"], { env });
  assert.equal(badProvider.code, 2);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json`), before);

  // Removing #1, the row that mirrors the login, clears the login and suppresses its source.
  const removed = await runCli(["remove", "grok-oauth", "1"], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /Removed xai-oauth credential #1/);
  let after = await readAuth(home.path);
  assert.equal((after.providers as Json)["xai-oauth"], undefined);
  assert.deepEqual(after.suppressed_sources, { "xai-oauth": ["device_code"] });
  assert.deepEqual(poolOf(after).map((r) => [r.id, r.priority]), [["f00d42", 0]]);

  // The remaining account is what `model` and `doctor` see.
  const model = await runCli(["model", "--provider", "xai-oauth", "--model", "grok-4.3"], {
    env: { ...env, XAI_BASE_URL: "https://xai-proxy.test/v1" },
  });
  assert.equal(model.code, 0, model.stderr);
  assert.equal(
    await Deno.readTextFile(`${home.path}/config.yaml`),
    "model:\n  provider: xai-oauth\n  default: grok-4.3\n  base_url: https://xai-proxy.test/v1\n",
  );
  const doctor = await runCli(["doctor", "--json"], { env });
  const report = JSON.parse(doctor.stdout);
  assert.equal(report.active_provider.id, "xai-oauth");
  assert.equal(report.providers.find((p: Json) => p.provider === "xai-oauth").usable, true);
  assert.equal(doctor.code, report.exit);
  assert.ok([0, 3].includes(doctor.code), doctor.stdout);

  // Logout: every row, active_provider, and config.yaml back to auto.
  const logout = await runCli(["logout", "xai-oauth"], { env });
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /removed credential #1 \("work", id=f00d42\)/);
  after = await readAuth(home.path);
  assert.deepEqual(poolOf(after), []);
  assert.equal(after.active_provider, null);
  assert.match(await Deno.readTextFile(`${home.path}/config.yaml`), /provider: auto\n/);

  const again = await runCli(["logout", "xai-oauth"], { env });
  assert.equal(again.code, 0);
  assert.match(again.stderr, /Not logged in to xAI Grok OAuth .*: nothing to remove/);
});

Deno.test("the pool commands' usage errors come through commander as exit 2", async () => {
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path };
  for (
    const argv of [["remove", "xai-oauth"], ["logout"], ["list", "nobody"], [
      "model",
      "--provider",
    ]]
  ) {
    const result = await runCli(argv, { env });
    assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
  }
  const list = await runCli(["list"], { env });
  assert.equal(list.code, 0);
  assert.match(list.stderr, /No stored credentials/);
});
