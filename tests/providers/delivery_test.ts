import assert from "node:assert/strict";
import { callbackOrigins, pasteWords } from "../../lib/providers/delivery.ts";
import { xai } from "../../lib/providers/xai.ts";
import { spotify } from "../../lib/providers/spotify.ts";

Deno.test("xAI's page is reached by script and shows a code; Spotify redirects", () => {
  assert.equal(pasteWords(xai.callbackDelivery).what, "the code the page shows");
  assert.equal(
    pasteWords(spotify.callbackDelivery).what,
    "the address of the page that failed to load",
  );
});

Deno.test("allowed origins: the authorization endpoint's own, then accounts.x.ai and auth.x.ai", () => {
  assert.deepEqual(callbackOrigins(xai.callbackDelivery, "https://auth.x.ai/oauth2/authorize"), [
    "https://auth.x.ai",
    "https://accounts.x.ai",
  ]);
  // HERMES_XAI_ISSUER pointing at a local server: its pages are the provider's pages.
  assert.deepEqual(
    callbackOrigins(xai.callbackDelivery, "http://127.0.0.1:4010/oauth2/authorize"),
    ["http://127.0.0.1:4010", "https://accounts.x.ai", "https://auth.x.ai"],
  );
  assert.deepEqual(
    callbackOrigins(spotify.callbackDelivery, "https://accounts.spotify.com/authorize"),
    ["https://accounts.spotify.com"],
  );
  assert.deepEqual(callbackOrigins({ corsOrigins: [] }, "not a url"), []);
});
