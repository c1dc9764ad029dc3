import assert from "node:assert/strict";
import { join } from "node:path";
import { logout, RESET_BASE_URL } from "../../lib/cli/logout.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { pendingPath } from "../../lib/store/pending.ts";
import {
  assertCtrlCEndsLockWait,
  fakeContext,
  readAuthJson,
  run,
  withHome,
  writeAuthJson,
} from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

const CONFIG = `# my settings
model:
  provider: grok-oauth   # chosen by hermes model
  default: grok-4.3
  base_url: https://api.x.ai/v1
terminal:
  timeout: 180
`;

Deno.test("logout clears the login, every row, active_provider, and resets config.yaml", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.writeTextFile(configFilePath(home), CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-grok-oauth", {})), 0);
    const err = fake.stderr.text;
    assert.match(err, /Logged out of xAI Grok OAuth \(SuperGrok Subscription\)/);
    assert.match(err, /removed the xai-oauth login state/);
    assert.match(err, /removed credential #1 \("me@example\.com", id=aaa111\)/);
    assert.match(err, /removed credential #2 \("work", id=bbb222\)/);
    assert.match(err, /model\.provider is back to auto/);

    const data = await readAuthJson(home);
    assert.equal(data.providers["xai-oauth"], undefined);
    assert.equal(data.credential_pool["xai-oauth"], undefined);
    assert.equal(data.active_provider, null);
    assert.ok(data.providers.spotify, "another provider's login stays");
    assert.deepEqual(data.hermes_only, { kept: true });
    // Hermes's _reset_config_provider: provider auto, base_url to its default, comments kept.
    assert.equal(
      await Deno.readTextFile(configFilePath(home)),
      CONFIG.replace("provider: grok-oauth", "provider: auto").replace(
        "https://api.x.ai/v1",
        RESET_BASE_URL,
      ),
    );
  });
});

Deno.test("logout when not logged in is exit 0 with a note, and writes nothing", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.match(fake.stderr.text, /Not logged in to xAI Grok OAuth .*: nothing to remove\./);
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);

    const json = fakeContext(home, { json: true });
    assert.equal(await run(json, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.equal(JSON.parse(json.stdout.text).logged_out, false);
  });
});

Deno.test("logout leaves config.yaml alone when it selects another provider", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const other = CONFIG.replace("grok-oauth", "openrouter");
    await Deno.writeTextFile(configFilePath(home), other);
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    const doc = JSON.parse(fake.stdout.text);
    assert.equal(doc.config_reset, false);
    assert.equal(doc.active_provider_cleared, true);
    assert.deepEqual(doc.credentials.map((c: Record<string, unknown>) => c.id), [
      "aaa111",
      "bbb222",
    ]);
    assert.equal(await Deno.readTextFile(configFilePath(home)), other);
  });
});

Deno.test("resetting config.yaml waits for a busy auth.lock visibly, and Ctrl-C ends the wait", async () => {
  await withHome(async (home) => {
    // No xai-oauth login is stored, so the config reset is the only write.
    await writeAuthJson(home, { version: 1, providers: {}, credential_pool: {} });
    await Deno.writeTextFile(configFilePath(home), CONFIG);
    await assertCtrlCEndsLockWait(home, (ctx) => logout(ctx, "xai-oauth", {}));
    assert.equal(await Deno.readTextFile(configFilePath(home)), CONFIG);
  });
});

Deno.test("logout of Spotify never touches config.yaml or the active provider", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.writeTextFile(configFilePath(home), CONFIG.replace("grok-oauth", "spotify"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "spotify", {})), 0);
    const data = await readAuthJson(home);
    assert.equal(data.providers.spotify, undefined);
    assert.equal(data.active_provider, "xai-oauth");
    assert.match(await Deno.readTextFile(configFilePath(home)), /provider: spotify/);
  });
});

Deno.test("logout discards a pending two-step login of that provider", async () => {
  await withHome(async (home) => {
    const pending = pendingPath(home, "xai-oauth");
    await Deno.mkdir(join(pending, ".."), { recursive: true });
    await Deno.writeTextFile(pending, "{}");
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.equal(JSON.parse(fake.stdout.text).pending_discarded, true);
    await assert.rejects(Deno.stat(pending), Deno.errors.NotFound);
  });
});

Deno.test("logout warns when HERMES_INFERENCE_PROVIDER still selects the provider", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home, { env: { HERMES_INFERENCE_PROVIDER: "grok-oauth" } });
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.match(fake.stderr.text, /HERMES_INFERENCE_PROVIDER=grok-oauth is set/);
  });
});

Deno.test("logout with a malformed config.yaml still logs out and says what it skipped", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.writeTextFile(configFilePath(home), "model:\n  provider: [xai-oauth\n");
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assert.match(fake.stderr.text, /Invalid YAML .* at line \d+, column \d+/);
    assert.match(fake.stderr.text, /model\.provider was not checked/);
    assert.equal((await readAuthJson(home)).providers["xai-oauth"], undefined);
  });
});

Deno.test("logout of an unknown provider is exit 2", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "grok", {})), 2);
    assert.match(fake.stderr.text, /unknown provider "grok"/);
  });
});

Deno.test("logout in a HERMES_HOME that cannot be written fails clearly and keeps auth.json", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    await Deno.mkdir(join(home, "auth.lock"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, "xai-oauth", {})), 1);
    assert.match(fake.stderr.text, /Cannot write /);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});
