/**
 * Labels and messages in auth.json come from Hermes, from a provider's token
 * (the e-mail claim) or from an older hermes-auth: whatever they hold, every
 * command shows them escaped, so they cannot move the cursor or recolour the
 * terminal.
 */
import assert from "node:assert/strict";
import { list } from "../../lib/cli/list.ts";
import { logout } from "../../lib/cli/logout.ts";
import { remove } from "../../lib/cli/remove.ts";
import { status } from "../../lib/cli/status.ts";
import { fakeContext, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

const EVIL = "evil\x1b[31m\nx\u202e";

function hostileStore(): Record<string, unknown> {
  const store = poolStore() as {
    credential_pool: Record<string, Record<string, unknown>[]>;
  };
  const rows = store.credential_pool["xai-oauth"];
  rows[1].label = EVIL;
  rows[1].source = "device_code\x07";
  rows[0].last_status = "dead";
  rows[0].last_error_message = "refused\x1b[2J";
  return store;
}

function assertNoControls(text: string): void {
  // Newlines between lines are ours; anything else would reach the terminal raw.
  // deno-lint-ignore no-control-regex -- control characters are what must not appear
  assert.doesNotMatch(text.replaceAll("\n", ""), /[\x00-\x1f\x7f\u202e]/, JSON.stringify(text));
}

Deno.test("list shows a stored label with control characters escaped", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, hostileStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => list(ctx, "xai-oauth", {})), 0);
    assertNoControls(fake.stdout.text);
    assert.match(fake.stdout.text, /evil\\x1b\[31m\\nx\\u202e/);
    assert.match(fake.stdout.text, /device_code\\x07/);
    assert.match(fake.stdout.text, /refused\\x1b\[2J/);
    assert.equal(fake.stdout.text.trimEnd().split("\n").length, 3, "one line per row");
  });
});

Deno.test("status shows a stored label and source with control characters escaped", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, hostileStore());
    const fake = fakeContext(home);
    await run(fake, (ctx) => status(ctx, "xai-oauth", {}));
    assertNoControls(fake.stdout.text);
    assert.match(fake.stdout.text, /label evil\\x1b\[31m\\nx\\u202e/);
  });
});

Deno.test("remove and logout echo a stored label escaped", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, hostileStore());
    const removed = fakeContext(home);
    assert.equal(await run(removed, (ctx) => remove(ctx, "xai-oauth", "bbb222", {})), 0);
    assertNoControls(removed.stderr.text);
    await writeAuthJson(home, hostileStore());
    const out = fakeContext(home);
    assert.equal(await run(out, (ctx) => logout(ctx, "xai-oauth", {})), 0);
    assertNoControls(out.stderr.text);
  });
});
