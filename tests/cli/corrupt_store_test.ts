/**
 * An auth.json that is not a Hermes store, or whose pool holds entries that
 * are not credentials (`[null, 1, "s"]`): commands count and judge only what
 * is a credential, never call a login they cannot read "no longer valid",
 * and `logout` says exactly what it removed — and changes nothing it cannot
 * read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { doctorWith } from "../../lib/cli/doctor.ts";
import { list } from "../../lib/cli/list.ts";
import { logout } from "../../lib/cli/logout.ts";
import { status } from "../../lib/cli/status.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { pendingPath } from "../../lib/store/pending.ts";
import {
  fakeContext,
  QUIET_DOCTOR,
  readAuthJson,
  run,
  withHome,
  writeAuthJson,
} from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

const CONFIG = "model:\n  provider: xai-oauth\n  default: grok-4.3\n";

async function corruptHome(home: string): Promise<void> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(home, "auth.json"), '{"version": 1, "providers": {"xai-oau');
  await Deno.writeTextFile(configFilePath(home), CONFIG);
}

Deno.test("status of an unreadable auth.json: every provider unknown, never 'no longer valid'", async () => {
  await withHome(async (home) => {
    await corruptHome(home);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => status(ctx, undefined, {})), 3);
    const lines = fake.stdout.text.trimEnd().split("\n");
    assert.match(
      lines[0],
      /^⚠ \S+auth\.json cannot be read as a Hermes auth store: auth\.json is not valid JSON\.$/,
    );
    assert.match(
      lines[1],
      /→ repair \S+ or move it aside; `hermes-auth add <provider>` would keep it/,
    );
    assert.equal(lines[2], "⚠ xai-oauth  unknown: auth.json cannot be read");
    assert.equal(lines[3], "⚠ spotify    unknown: auth.json cannot be read");
    assert.equal(lines.length, 4, "the problem is said once");
    assert.doesNotMatch(fake.stdout.text, /no longer valid|last error/);
  });
});

Deno.test('a pool of [null, 1, "s"] next to a login: status does not count 3 credentials', async () => {
  await withHome(async (home) => {
    const store = poolStore() as { credential_pool: Record<string, unknown> };
    store.credential_pool["xai-oauth"] = [null, 1, "s"];
    await writeAuthJson(home, store);
    const fake = fakeContext(home, { json: true });
    await run(fake, (ctx) => status(ctx, "xai-oauth", {}));
    const [xai] = JSON.parse(fake.stdout.text).providers;
    assert.equal(xai.loggedIn, true, "the login state itself is fine");
    assert.equal(xai.credentials, 0);
    const human = fakeContext(home);
    await run(human, (ctx) => status(ctx, "xai-oauth", {}));
    assert.doesNotMatch(human.stdout.text, /credentials/);
  });
});

Deno.test("list says pool entries that are not credentials are there and ignored", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, {
      version: 1,
      providers: {},
      credential_pool: { "xai-oauth": [null, 1, "s"] },
    });
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, undefined, {})), 0);
    assert.match(
      fake.stderr.text,
      /! auth\.json credential_pool\.xai-oauth holds 3 entries that are not credentials .*ignored/,
    );
    assert.match(fake.stderr.text, /No stored credentials for any provider/);
  });
});

Deno.test("logout of an unreadable auth.json refuses and changes nothing, config.yaml included", async () => {
  await withHome(async (home) => {
    await corruptHome(home);
    const pending = pendingPath(home, "xai-oauth");
    await Deno.mkdir(join(pending, ".."), { recursive: true });
    await Deno.writeTextFile(pending, "{}");
    const before = await Deno.readTextFile(join(home, "auth.json"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 1);
    assert.match(
      fake.stderr.text,
      /✗ \S+auth\.json cannot be read as a Hermes auth store \(auth\.json is not valid JSON\), so the xai-oauth login in it cannot be removed; nothing was changed\./,
    );
    assert.doesNotMatch(fake.stderr.text, /Logged out|back to auto/);
    assert.equal(await Deno.readTextFile(configFilePath(home)), CONFIG);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
    assert.equal(await Deno.readTextFile(pending), "{}", "the pending login is kept too");
    const json = fakeContext(home, { json: true });
    assert.equal(await run(json, (ctx) => logout(ctx, "xai-oauth", {})), 1);
    assert.equal(JSON.parse(json.stdout.text).code, "auth_file_corrupt");
  });
});

Deno.test("logout of entries that are not credentials says what it removed, and nothing more", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, {
      version: 1,
      providers: { "xai-oauth": 1, spotify: { access_token: "spotify-access-token-1" } },
      credential_pool: { "xai-oauth": [null, 1, "s"] },
    });
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    const err = fake.stderr.text;
    assert.match(err, /removed auth\.json providers\.xai-oauth, which held no login/);
    assert.match(err, /removed 3 entries of credential_pool\.xai-oauth that were not credentials/);
    assert.doesNotMatch(err, /removed credential #|login state/);
    const data = await readAuthJson(home);
    assert.equal(data.credential_pool["xai-oauth"], undefined);
    assert.ok(data.providers.spotify);
  });
});

Deno.test("logout with no login stored does not say 'Logged out'; a config.yaml naming it is reset as Hermes does", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, { version: 1, providers: {}, credential_pool: {} });
    await Deno.writeTextFile(configFilePath(home), CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.doesNotMatch(fake.stderr.text, /Logged out/);
    assert.match(fake.stderr.text, /No xAI Grok OAuth .* login was stored in /);
    assert.match(
      fake.stderr.text,
      /config\.yaml still selected xai-oauth: model\.provider is back to auto/,
    );
    assert.match(await Deno.readTextFile(configFilePath(home)), /provider: auto/);
    await Deno.writeTextFile(configFilePath(home), CONFIG);
    const json = fakeContext(home, { json: true });
    await run(json, (ctx) => logout(ctx, "xai-oauth", {}));
    const doc = JSON.parse(json.stdout.text);
    assert.equal(doc.logged_out, false);
    assert.equal(doc.config_reset, true);
  });
});

Deno.test("doctor counts only credentials and warns about the rest", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, {
      version: 1,
      providers: {},
      credential_pool: { "xai-oauth": [null, 1, "s", { id: "abc123", label: "x" }] },
    });
    const fake = fakeContext(home);
    await run(fake, (ctx) => doctorWith(ctx, {}, QUIET_DOCTOR));
    assert.match(fake.stdout.text, /0 provider logins, 1 pool credential\n/);
    assert.match(
      fake.stdout.text,
      /! auth\.json pool: credential_pool\.xai-oauth holds entries that are not credentials/,
    );
  });
});
