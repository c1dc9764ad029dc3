import assert from "node:assert/strict";
import { join } from "node:path";
import { remove } from "../../lib/cli/remove.ts";
import { fakeContext, readAuthJson, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore, TOKENS } from "./pool_fixture.ts";

Deno.test("remove by label drops that row, renumbers, keeps the login state", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "WORK", {})), 0);
    assert.match(fake.stderr.text, /Removed xai-oauth credential #2 \("work", id=bbb222\)/);
    const data = await readAuthJson(home);
    assert.deepEqual(
      data.credential_pool["xai-oauth"].map((r: Record<string, unknown>) => [r.id, r.priority]),
      [["aaa111", 0]],
    );
    assert.ok(data.providers["xai-oauth"].tokens.access_token);
    assert.deepEqual(data.hermes_only, { kept: true });
    assert.equal(data.suppressed_sources, undefined);
  });
});

Deno.test("removing the mirror row clears the xAI login and suppresses device_code", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => remove(ctx, "grok-oauth", "#1", { json: true })), 0);
    const doc = JSON.parse(fake.stdout.text);
    assert.deepEqual(doc.removed, {
      index: 1,
      id: "aaa111",
      label: "me@example.com",
      source: "device_code",
    });
    assert.equal(doc.cleared_login, true);
    assert.deepEqual(doc.suppressed, ["device_code"]);
    assert.deepEqual(doc.also_removed, []);
    assert.equal(doc.remaining, 1);
    for (const token of TOKENS) assert.ok(!fake.stdout.text.includes(token));
    const data = await readAuthJson(home);
    assert.equal(data.providers["xai-oauth"], undefined);
    assert.ok(data.providers.spotify);
    assert.deepEqual(data.suppressed_sources, { "xai-oauth": ["device_code"] });
    assert.deepEqual(
      data.credential_pool["xai-oauth"].map((r: Record<string, unknown>) => [r.id, r.priority]),
      [["bbb222", 0]],
    );
  });
});

Deno.test("removing the last row says how to log in again", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    // deno-lint-ignore no-explicit-any
    (data.credential_pool as any)["xai-oauth"].splice(0, 1);
    await writeAuthJson(home, data);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "1", {})), 0);
    assert.match(fake.stderr.text, /No xai-oauth credentials are left\. Log in again with/);
  });
});

Deno.test("an unknown row is a usage error listing the candidates, and nothing is written", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "personal", {})), 2);
    assert.match(fake.stderr.text, /No xai-oauth credential matches "personal"/);
    assert.match(fake.stderr.text, /#1 "me@example\.com" \(id=aaa111\)/);
    assert.match(fake.stderr.text, /#2 "work" \(id=bbb222\)/);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});

Deno.test("an ambiguous label is a usage error naming both rows", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    // deno-lint-ignore no-explicit-any
    (data.credential_pool as any)["xai-oauth"][1].label = "Work";
    await writeAuthJson(home, data);
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "work", {})), 2);
    const event = JSON.parse(fake.stdout.text);
    assert.equal(event.code, "usage");
    assert.match(event.message, /matches more than one/);
    assert.match(event.message, /aaa111/);
    assert.match(event.message, /bbb222/);
  });
});

Deno.test("remove with nothing stored, or an unknown provider, is exit 2 and creates nothing", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "1", {})), 2);
    assert.match(fake.stderr.text, /No xai-oauth credentials are stored/);
    const unknown = fakeContext(home);
    assert.equal(await run(unknown, (ctx) => remove(ctx, "xai", "1", {})), 2);
    assert.match(unknown.stderr.text, /unknown provider "xai"/);
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("a HERMES_HOME that cannot be written is a clear error and auth.json stays as it was", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    // Root ignores permission bits: a directory where the lock file must go stops every write.
    await Deno.mkdir(join(home, "auth.lock"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => remove(ctx, "xai-oauth", "work", {})), 1);
    assert.match(fake.stderr.text, /Cannot write .*auth\.lock: it is a directory, not a file/);
    assert.match(fake.stderr.text, /move it aside \(mv /);
    assert.doesNotMatch(fake.stderr.text, /unexpected error/);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});
