/**
 * The one place that picks the way in (lib/login/mod.ts chooseWay): on a
 * server the device code, where the provider has it; locally the browser;
 * a flag always wins, and flags that contradict each other are exit 2.
 */
import assert from "node:assert/strict";
import { isAuthError } from "../../lib/errors.ts";
import { chooseWay, type LoginRequest } from "../../lib/login/mod.ts";
import { spotify } from "../../lib/providers/spotify.ts";
import { xai } from "../../lib/providers/xai.ts";

const REMOTE = { remote: true };
const LOCAL = { remote: false };

function request(extra: Partial<LoginRequest> = {}): LoginRequest {
  return {
    redirect: xai.redirect,
    timeoutMs: 180_000,
    openBrowser: true,
    home: "/nonexistent",
    ...extra,
  };
}

Deno.test("a remote session logs in to xAI with the device code, chosen by the session", () => {
  assert.deepEqual(chooseWay(xai, request(), REMOTE), { way: "device-code", byDefault: true });
});

Deno.test("locally the browser login stays the default", () => {
  assert.deepEqual(chooseWay(xai, request(), LOCAL), { way: "loopback", byDefault: false });
});

Deno.test("Spotify has no device code: the browser login on a server too", () => {
  assert.equal(chooseWay(spotify, request({ redirect: spotify.redirect }), REMOTE).way, "loopback");
});

Deno.test("--loopback, --port and --redirect-uri ask for the browser login on a server", () => {
  assert.equal(chooseWay(xai, request({ loopback: true }), REMOTE).way, "loopback");
  assert.equal(chooseWay(xai, request({ redirectChosen: true }), REMOTE).way, "loopback");
});

Deno.test("--device-code locally is the device code, and not a default that may fall back", () => {
  assert.deepEqual(chooseWay(xai, request({ deviceCode: true }), LOCAL), {
    way: "device-code",
    byDefault: false,
  });
});

Deno.test("the two-step flags and --manual-paste win over the session", () => {
  assert.equal(chooseWay(xai, request({ noWait: true }), REMOTE).way, "two-step-start");
  assert.equal(chooseWay(xai, request({ callbackUrl: "x" }), REMOTE).way, "two-step-finish");
  assert.equal(chooseWay(xai, request({ manualPaste: true }), REMOTE).way, "manual-paste");
});

Deno.test("contradicting flags are a usage error naming both", () => {
  const cases: [Partial<LoginRequest>, RegExp][] = [
    [{ deviceCode: true, loopback: true }, /--device-code and --loopback/],
    [{ deviceCode: true, noWait: true }, /--device-code and --no-wait/],
    [{ manualPaste: true, callbackUrl: "x" }, /--manual-paste and --callback-url/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(
      () => chooseWay(xai, request(flags), LOCAL),
      (e) => isAuthError(e, "usage") && e.exit === 2 && message.test(e.message),
    );
  }
});

Deno.test("--device-code for a provider without the grant is a usage error with the way that works", () => {
  assert.throws(
    () => chooseWay(spotify, request({ deviceCode: true }), REMOTE),
    (e) =>
      isAuthError(e, "usage") && /has no device code login/.test(e.message) &&
      /hermes-auth add spotify/.test(e.fix ?? ""),
  );
});
