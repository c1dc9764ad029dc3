import assert from "node:assert/strict";
import { join } from "node:path";
import { use } from "../../lib/cli/use.ts";
import { pickCredential } from "../../lib/store/credentials.ts";
import { xai } from "../../lib/providers/xai.ts";
import { select } from "../hermes/eras.ts";
import { fakeContext, NOW, readAuthJson, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore, TOKENS } from "./pool_fixture.ts";

function order(data: { credential_pool: Record<string, { id: string; priority: number }[]> }) {
  return data.credential_pool["xai-oauth"].map((r) => [r.id, r.priority]);
}

Deno.test("use puts the account first, shifts the others, and Hermes's fill_first then picks it", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => use(ctx, "grok-oauth", "work", {})), 0);
    assert.match(fake.stderr.text, /xai-oauth now uses #1 "work" \(id=bbb222\)/);
    assert.match(fake.stderr.text, /It was #2/);
    const data = await readAuthJson(home);
    assert.deepEqual(order(data), [["bbb222", 0], ["aaa111", 1]]);
    // Both readers of the order agree: hermes-auth's token and Hermes's pool.
    assert.deepEqual(pickCredential(data, xai, NOW)!.ref, { kind: "row", id: "bbb222" });
    for (const era of ["loopback", "device_code"] as const) {
      assert.equal(select(data, era, NOW)?.row.id, "bbb222", era);
    }
    for (const token of TOKENS) assert.ok(!fake.stderr.text.includes(token));
  });
});

Deno.test("use of the account already first changes nothing and says so", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => use(ctx, "xai-oauth", "#1", { json: true })), 0);
    assert.deepEqual(JSON.parse(fake.stdout.text), {
      provider: "xai-oauth",
      account: { index: 1, id: "aaa111", label: "me@example.com", source: "device_code" },
      from: 1,
      changed: false,
      path: join(home, "auth.json"),
    });
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});

Deno.test("use of an unknown account is exit 2 listing the candidates, and writes nothing", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => use(ctx, "xai-oauth", "personal", {})), 2);
    assert.match(fake.stderr.text, /No xai-oauth credential matches "personal"/);
    assert.match(fake.stderr.text, /#2 "work" \(id=bbb222\)/);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});

Deno.test("use warns when the account no longer works, and when config.yaml rotates the pool", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    // deno-lint-ignore no-explicit-any
    Object.assign((data.credential_pool as any)["xai-oauth"][0], {
      last_status: "dead",
      access_token: "",
    });
    await writeAuthJson(home, data);
    await Deno.writeTextFile(
      join(home, "config.yaml"),
      "credential_pool_strategies:\n  xai-oauth: round_robin\n",
    );
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => use(ctx, "xai-oauth", "work", {})), 0);
    assert.match(fake.stderr.text, /that credential no longer works; log in to it again/);
    assert.match(fake.stderr.text, /credential_pool_strategies\.xai-oauth to round_robin/);
  });
});
