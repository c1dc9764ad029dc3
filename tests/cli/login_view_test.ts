/**
 * How `add` shows a login's events (lib/cli/login_view.ts): above all, a
 * flood of refused requests at the listener must not push the tunnel and
 * paste instructions off the screen.
 */
import assert from "node:assert/strict";
import { LoginView, WARNINGS_SHOWN } from "../../lib/cli/login_view.ts";
import { pasteWords } from "../../lib/providers/delivery.ts";
import { Output } from "../../lib/output.ts";
import { Sink } from "./fake_context.ts";

function view(json = false) {
  const stdout = new Sink();
  const stderr = new Sink();
  let clock = 0;
  const out = new Output({ json, color: false, stdout, stderr });
  const v = new LoginView(out, {
    provider: "xai-oauth",
    displayName: "xAI",
    qr: false,
    now: () => clock,
  });
  return { v, stdout, stderr, tick: (ms: number) => clock += ms };
}

const TUNNEL = "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 ada@198.51.100.7";

function authorize(v: LoginView) {
  v.render({
    type: "authorize",
    url: "https://auth.x.ai/oauth2/authorize?x=1",
    redirectUri: "http://127.0.0.1:56121/callback",
    port: 56121,
    remote: true,
    tunnel: TUNNEL,
    listening: true,
    paste: "the code the page shows",
    hint: ["In a NEW terminal on your laptop, before opening the URL, run:", `  ${TUNNEL}`],
  });
}

Deno.test("200 refused requests: the first few are shown, the rest counted, the tunnel said again", () => {
  const { v, stderr, tick } = view();
  authorize(v);
  const before = stderr.text;
  for (let i = 0; i < 200; i++) {
    tick(100); // 20 s of a page retrying in a loop
    v.render({ type: "listener_warning", message: `refused a callback #${i}` });
  }
  v.finish();
  const after = stderr.text.slice(before.length).trimEnd().split("\n");
  const shown = after.filter((l) => l.startsWith("! refused a callback"));
  assert.equal(shown.length, WARNINGS_SHOWN);
  assert.ok(after.length <= 12, `${after.length} lines:\n${after.join("\n")}`);
  assert.ok(after.includes("! more refused requests follow; they are counted, not shown"));
  assert.match(after.join("\n"), /! the listener has refused \d+ more request\(s\) so far/);
  assert.equal(after.at(-1), "! the listener refused 197 more request(s) in all (not shown)");
  // The instruction that matters comes back after the warnings, not only above them.
  assert.ok(after.filter((l) => l.includes(TUNNEL)).length >= 1);
});

Deno.test("a few refused requests are all shown, with no tally", () => {
  const { v, stderr } = view();
  for (let i = 0; i < WARNINGS_SHOWN; i++) {
    v.render({ type: "listener_warning", message: `refused #${i}` });
  }
  v.finish();
  v.finish();
  const lines = stderr.text.trimEnd().split("\n");
  assert.deepEqual(lines, ["! refused #0", "! refused #1", "! refused #2"]);
});

Deno.test("with --json the flood is capped the same way: warnings events, then a count", () => {
  const { v, stdout, stderr, tick } = view(true);
  for (let i = 0; i < 50; i++) {
    tick(10);
    v.render({ type: "listener_warning", message: `refused #${i}` });
  }
  v.finish();
  const events = stdout.text.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(stderr.text, "");
  assert.ok(events.length <= 6, JSON.stringify(events));
  assert.ok(events.every((e) => e.event === "warning"));
  assert.equal(events.at(-1).message, "the listener refused 47 more request(s) in all (not shown)");
});

Deno.test("after a flood during --manual-paste the paste prompt is shown again", () => {
  const { v, stderr } = view();
  v.render({ type: "paste_instructions", manual: true, words: pasteWords({ kind: "script" }) });
  for (let i = 0; i < 10; i++) v.render({ type: "listener_warning", message: `refused #${i}` });
  assert.ok(stderr.text.endsWith("Paste the code the page shows here: "), stderr.text);
});
