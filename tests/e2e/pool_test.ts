/**
 * The credential pool end to end: a real `add` against the mock
 * accounts.x.ai, then `list`, `use`, `token --account`, `remove`, `model`,
 * `doctor` and `logout` as separate CLI processes on the same HERMES_HOME.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { jwt } from "../hermes/eras.ts";
import { runCli, spawnCli, tempHome } from "./harness.ts";
import { seedLogin } from "./seed_login.ts";

type Json = Record<string, unknown>;

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

function poolOf(auth: Json): Json[] {
  return ((auth.credential_pool as Json)["xai-oauth"] ?? []) as Json[];
}

Deno.test("add, list, use, token --account, remove, model, doctor and logout agree on one HERMES_HOME", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };

  // A real login: `add` prints the authorize URL, the test plays the browser.
  const login = async () => {
    const add = spawnCli(["add", "xai-oauth", "--json", "--port", "0", "--no-browser"], { env });
    const authorize = await add.event("authorize");
    await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
    const done = await add.done();
    assert.equal(done.code, 0, done.stderr);
    return JSON.parse(done.stdout.trim().split("\n").at(-1)!);
  };
  const first = await login();
  assert.deepEqual([first.index, first.label, first.updated], [1, "grok.user@example.com", false]);

  // A second account added by hand in Hermes (`hermes auth add xai-oauth`): a manual row.
  const auth = await readAuth(home.path);
  const mine = poolOf(auth)[0];
  const workToken = jwt({ sub: "work-sub", email: "work@example.com", exp: 4102444800 });
  poolOf(auth).push({
    ...mine,
    id: "f00d42",
    label: "work",
    priority: 1,
    source: "manual:device_code",
    access_token: workToken,
    refresh_token: "second-account-refresh-token-000",
    expires_at: "2100-01-01T00:00:00+00:00",
  });
  await Deno.writeTextFile(`${home.path}/auth.json`, JSON.stringify(auth, null, 2));

  // The same account again: its row is updated in place, #1 still, and the CLI says so.
  const again = await login();
  assert.deepEqual([again.index, again.id, again.updated], [1, mine.id, true]);
  assert.equal(poolOf(await readAuth(home.path)).length, 2);

  const listed = await runCli(["list", "xai-oauth", "--json"], { env });
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout).providers[0].credentials;
  // The mock's access token names the account by `sub` only; rows keep no ID token.
  assert.deepEqual(rows.map((r: Json) => [r.index, r.source, r.account, r.in_use]), [
    [1, "manual:loopback_pkce", "xai-user-0001", true],
    [2, "manual:device_code", "work@example.com", false],
  ]);
  const human = await runCli(["list"], { env });
  assert.match(
    human.stdout,
    /#1 +grok\.user@example\.com .*manual:loopback_pkce +account=xai-user-0001 +← in use\n/,
  );
  assert.match(
    human.stdout,
    /#2 +work +oauth +id=f00d42 +manual:device_code +account=work@example\.com\n/,
  );
  const current = poolOf(await readAuth(home.path))[0];
  for (const secret of [String(current.access_token), String(current.refresh_token)]) {
    assert.ok(!human.stdout.includes(secret) && !listed.stdout.includes(secret));
  }

  // token --account picks one explicitly; `use` changes which one is used by default.
  const work = await runCli(["token", "xai-oauth", "--account", "work"], { env });
  assert.equal(work.code, 0, work.stderr);
  assert.equal(work.stdout, `${workToken}\n`);
  const byIndex = await runCli(["token", "xai-oauth", "--account=#1"], { env });
  assert.equal(byIndex.stdout.trim(), current.access_token);
  const noSuch = await runCli(["token", "xai-oauth", "--account", "personal"], { env });
  assert.equal(noSuch.code, 2);
  assert.match(noSuch.stderr, /No xai-oauth credential matches "personal"/);
  assert.equal(noSuch.stdout, "");
  const used = await runCli(["use", "xai-oauth", "work"], { env });
  assert.equal(used.code, 0, used.stderr);
  assert.match(used.stderr, /xai-oauth now uses #1 "work" \(id=f00d42\)/);
  assert.deepEqual(poolOf(await readAuth(home.path)).map((r) => [r.id, r.priority]), [
    ["f00d42", 0],
    [mine.id, 1],
  ]);
  assert.equal((await runCli(["token", "xai-oauth"], { env })).stdout, `${workToken}\n`);
  const status = await runCli(["status", "xai-oauth"], { env });
  assert.match(status.stdout, /label work · account work@example\.com · source manual:device_code/);

  // Bad targets are usage errors that list the candidates; nothing changes.
  const before = await Deno.readTextFile(`${home.path}/auth.json`);
  const unknown = await runCli(["remove", "xai-oauth", "personal"], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /No xai-oauth credential matches "personal"/);
  assert.match(unknown.stderr, /#1 "work" \(id=f00d42\)/);
  const badProvider = await runCli(["remove", "grok", "1"], { env });
  assert.equal(badProvider.code, 2);
  assert.equal((await runCli(["use", "xai-oauth", "nobody"], { env })).code, 2);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json`), before);

  // Removing a manual row leaves the other account alone and suppresses nothing.
  const removed = await runCli(["remove", "grok-oauth", "work"], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /Removed xai-oauth credential #1/);
  let after = await readAuth(home.path);
  assert.equal(after.suppressed_sources, undefined);
  assert.deepEqual(poolOf(after).map((r) => [r.id, r.priority]), [[mine.id, 0]]);

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
  assert.match(logout.stderr, /removed credential #1 \("grok\.user@example\.com", id=/);
  after = await readAuth(home.path);
  assert.deepEqual(poolOf(after), []);
  assert.equal(after.active_provider, null);
  assert.match(await Deno.readTextFile(`${home.path}/config.yaml`), /provider: auto\n/);

  const twice = await runCli(["logout", "xai-oauth"], { env });
  assert.equal(twice.code, 0);
  assert.match(twice.stderr, /Not logged in to xAI Grok OAuth .*: nothing to remove/);
});

Deno.test("remove of Hermes's own mirror row sticks: the login state goes and its source is suppressed", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  await seedLogin(home.path, mock); // as Hermes's own login leaves it
  const removed = await runCli(["remove", "xai-oauth", "1", "--json"], { env });
  assert.equal(removed.code, 0, removed.stderr);
  const doc = JSON.parse(removed.stdout);
  assert.deepEqual([doc.cleared_login, doc.suppressed], [true, ["device_code"]]);
  const after = await readAuth(home.path);
  assert.equal((after.providers as Json)["xai-oauth"], undefined);
  assert.deepEqual(after.suppressed_sources, { "xai-oauth": ["device_code"] });
  assert.equal((await runCli(["token", "xai-oauth"], { env })).code, 3);
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
