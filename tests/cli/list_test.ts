import assert from "node:assert/strict";
import { list } from "../../lib/cli/list.ts";
import { fakeContext, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore, TOKENS } from "./pool_fixture.ts";

function noTokens(text: string) {
  for (const token of TOKENS) assert.ok(!text.includes(token), "a token was printed");
}

Deno.test("list shows rows by priority with index, label, type, id, source and the one in use", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, undefined, {})), 0);
    const lines = fake.stdout.text.trimEnd().split("\n");
    assert.match(
      lines[0],
      /^xai-oauth — xAI Grok OAuth \(SuperGrok Subscription\) \(2 credentials\):$/,
    );
    assert.match(
      lines[1],
      /^ {2}#1 {2}me@example\.com {2}oauth {2}id=aaa111 {2}device_code +← in use$/,
    );
    assert.match(lines[2], /^ {2}#2 {2}work {12}oauth {2}id=bbb222 {2}manual:device_code$/);
    assert.equal(lines.length, 3, "Spotify keeps no pool rows and is not listed");
    noTokens(fake.stdout.text + fake.stderr.text);
  });
});

Deno.test("list names each row's account when its label does not, never its token", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replaceAll("=", "");
    // deno-lint-ignore no-explicit-any
    const rows = (data.credential_pool as any)["xai-oauth"];
    const token = `${b64({ alg: "none" })}.${b64({ sub: "u-9", email: "work@example.com" })}.sig`;
    rows[0].access_token = token;
    await writeAuthJson(home, data);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, "xai-oauth", {})), 0);
    assert.match(
      fake.stdout.text,
      /#2 {2}work +oauth {2}id=bbb222 {2}manual:device_code {2}account=work@example\.com\n/,
    );
    assert.match(
      fake.stdout.text,
      /#1 {2}me@example\.com .*device_code +← in use\n/,
      "label is the account",
    );
    assert.ok(!fake.stdout.text.includes(token));
    const json = fakeContext(home, { json: true });
    await run(json, (ctx) => list(ctx, "xai-oauth", { json: true }));
    const accounts = JSON.parse(json.stdout.text).providers[0].credentials
      .map((c: Record<string, unknown>) => c.account);
    assert.deepEqual(accounts, ["me@example.com", "work@example.com"]);
  });
});

Deno.test("list marks a dead row and moves 'in use' to the next healthy one", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    // deno-lint-ignore no-explicit-any
    const rows = (data.credential_pool as any)["xai-oauth"];
    Object.assign(rows[1], {
      last_status: "dead",
      last_error_message: "refresh token rejected",
    });
    await writeAuthJson(home, data);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, "grok-oauth", {})), 0);
    assert.match(fake.stdout.text, /#1 .*\[dead: refresh token rejected; log in again\]\n/);
    assert.match(fake.stdout.text, /#2 .*work.*← in use/);
  });
});

Deno.test("list --json gives every row without a token", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => list(ctx, "xai-oauth", { json: true })), 0);
    const doc = JSON.parse(fake.stdout.text);
    assert.equal(doc.providers.length, 1);
    const [group] = doc.providers;
    assert.equal(group.provider, "xai-oauth");
    assert.equal(group.login_state, true);
    assert.deepEqual(
      group.credentials.map((c: Record<string, unknown>) => [c.index, c.id, c.label, c.in_use]),
      [[1, "aaa111", "me@example.com", true], [2, "bbb222", "work", false]],
    );
    assert.equal(group.credentials[1].source, "manual:device_code");
    assert.equal(group.credentials[1].expires_at, "2025-06-01T12:30:00+00:00");
    noTokens(fake.stdout.text);
  });
});

Deno.test("list with nothing stored is a friendly line and exit 0, and creates nothing", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, undefined, {})), 0);
    assert.equal(fake.stdout.text, "");
    assert.match(fake.stderr.text, /No stored credentials for any provider\./);
    assert.match(fake.stderr.text, /hermes-auth add <provider>/);
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);

    const one = fakeContext(home, { json: true });
    assert.equal(await run(one, (ctx) => list(ctx, "xai-oauth", {})), 0);
    assert.equal(JSON.parse(one.stdout.text).providers[0].credentials.length, 0);
  });
});

Deno.test("list of a provider whose login lives outside the pool says so", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, "spotify", {})), 0);
    assert.match(fake.stderr.text, /A spotify login is stored outside the pool/);
  });
});

Deno.test("list of an unknown provider or alias is a usage error (exit 2)", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, "grok", {})), 2);
    assert.match(fake.stderr.text, /unknown provider "grok"/);
    assert.match(fake.stderr.text, /xai-oauth/);
  });
});

Deno.test("list also shows rows of providers only Hermes knows", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, {
      version: 1,
      providers: {},
      credential_pool: {
        openrouter: [{
          id: "eee555",
          label: "api-key-1",
          auth_type: "api_key",
          priority: 0,
          source: "manual",
          access_token: "sk-or-not-a-real-key-000",
        }],
      },
    });
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, undefined, {})), 0);
    assert.match(
      fake.stdout.text,
      /^openrouter — openrouter \(1 credential\):\n {2}#1 {2}api-key-1/,
    );
  });
});
