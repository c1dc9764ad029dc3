/**
 * Times shown to people: local clock time plus how far away, in the time
 * zone the context gives (so these tests do not depend on the machine).
 */
import assert from "node:assert/strict";
import { status } from "../../lib/cli/status.ts";
import { clockText, whenText } from "../../lib/cli/when.ts";
import { runCli, tempHome as e2eHome } from "../e2e/harness.ts";
import { fakeContext, NOW, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

const at = (iso: string) => new Date(iso);

Deno.test("clockText: the time today, tomorrow/yesterday next to it, else the date", () => {
  const clock = { now: at("2025-06-01T12:00:00Z"), timeZone: "Europe/Paris" }; // 14:00 there
  assert.equal(clockText(at("2025-06-01T16:42:00Z"), clock), "18:42");
  assert.equal(clockText(at("2025-06-01T22:30:00Z"), clock), "tomorrow 00:30");
  assert.equal(clockText(at("2025-05-31T21:15:00Z"), clock), "yesterday 23:15");
  assert.equal(clockText(at("2025-06-04T07:05:00Z"), clock), "2025-06-04 09:05");
  assert.equal(clockText(at("2024-12-31T23:00:00Z"), clock), "2025-01-01 00:00");
});

Deno.test("the time zone decides the day: 22:30 UTC is tomorrow in Paris, today in New York", () => {
  const now = at("2025-06-01T12:00:00Z");
  const date = at("2025-06-01T22:30:00Z");
  assert.equal(clockText(date, { now, timeZone: "Europe/Paris" }), "tomorrow 00:30");
  assert.equal(clockText(date, { now, timeZone: "America/New_York" }), "18:30");
  assert.equal(clockText(date, { now, timeZone: "Asia/Kolkata" }), "tomorrow 04:00");
});

Deno.test("whenText: clock time and relative time together", () => {
  const clock = { now: at("2025-06-01T12:00:00Z"), timeZone: "UTC" };
  assert.equal(whenText(at("2025-06-01T12:59:00Z"), clock), "12:59 (in 59 min)");
  assert.equal(whenText(at("2025-06-01T11:55:00Z"), clock), "11:55 (5 min ago)");
  assert.equal(whenText(at("2025-06-03T12:00:00Z"), clock), "2025-06-03 12:00 (in 2 days)");
});

Deno.test("status: expiry as local time plus relative, in the context's time zone", async () => {
  await withHome(async (home) => {
    // The xAI login of the fixture: refreshed 11:30 UTC, 3600 s, so it expires 12:30 UTC.
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home, { timeZone: "Europe/Paris" });
    assert.equal(await run(fake, (ctx) => status(ctx, "xai-oauth", {})), 0);
    assert.match(fake.stdout.text, /^✓ xai-oauth {2}logged in, expires 14:30 \(in 30 min\) · /);
    assert.equal(NOW.toISOString(), "2025-06-01T12:00:00.000Z");
  });
});

Deno.test("status: the last error's time the same way, never raw UTC with microseconds", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, {
      version: 1,
      providers: {
        "xai-oauth": {
          tokens: {},
          last_auth_error: {
            code: "refresh_rejected",
            message: "xAI rejected the stored refresh token: HTTP 400 invalid_grant",
            at: "2025-05-31T21:15:00.123456+00:00",
            relogin_required: true,
          },
        },
      },
    });
    const fake = fakeContext(home, { timeZone: "Europe/Paris" });
    assert.equal(await run(fake, (ctx) => status(ctx, "xai-oauth", {})), 3);
    const line = fake.stdout.text.split("\n")[1];
    assert.equal(
      line,
      "    last error yesterday 23:15 (15 h ago): xAI rejected the stored refresh token: " +
        "HTTP 400 invalid_grant",
    );
    assert.doesNotMatch(fake.stdout.text, /\.123456|\+00:00|T21:15/);
  });
});

Deno.test("the real CLI shows times in the zone TZ names", async () => {
  await using home = await e2eHome();
  const expires = new Date(Date.now() + 45 * 60_000);
  const store = poolStore() as { providers: Record<string, Record<string, unknown>> };
  store.providers["xai-oauth"].last_refresh = new Date(expires.getTime() - 3600_000).toISOString();
  await writeAuthJson(home.path, store);
  const kolkata = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Kolkata",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(expires);
  const result = await runCli(["status", "xai-oauth"], {
    env: { HERMES_HOME: home.path, TZ: "Asia/Kolkata" },
  });
  assert.match(result.stdout, new RegExp(`expires (?:tomorrow )?${kolkata} \\(in 4[45] min\\)`));
});
