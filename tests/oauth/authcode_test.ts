import assert from "node:assert/strict";
import { Exit } from "../../lib/errors.ts";
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../../lib/oauth/authcode.ts";
import { type ProviderServer, resolveServer } from "../../lib/oauth/server.ts";
import { decodeJwt } from "../mock/jwt.ts";
import { xai } from "../../lib/providers/xai.ts";
import { type MockXai, type MockXaiOptions, startMockXai } from "../mock/xai_mock.ts";
import { rejectsWith } from "../rejects.ts";

const REDIRECT_URI = "http://127.0.0.1:56121/callback";

interface Login {
  mock: MockXai;
  server: ProviderServer;
  pending: PendingExchange;
  /** The callback the consent page hands back (code, state, iss). */
  callback: URL;
}

async function login(options: MockXaiOptions = {}): Promise<Login> {
  const mock = await startMockXai(options);
  try {
    const server = await resolveServer(xai, {
      env: (name) => name === "HERMES_XAI_ISSUER" ? mock.issuer : undefined,
    });
    const pending = { ...(await createLoginSecrets(xai)), redirectUri: REDIRECT_URI };
    const callback = new URL(await mock.approve(authorizationUrl(server, pending).href));
    return { mock, server, pending, callback };
  } catch (e) {
    await mock.close();
    throw e;
  }
}

/** `callback` with only these parameters kept, as a person may paste it. */
function only(callback: URL, ...names: string[]): URL {
  const url = new URL(callback.origin + callback.pathname);
  for (const name of names) url.searchParams.set(name, callback.searchParams.get(name)!);
  return url;
}

Deno.test("an ID token that echoes the nonce is accepted and kept", async () => {
  const { mock, server, pending, callback } = await login();
  await using _ = mock;
  const tokens = await exchangeCode(server, callback, pending);
  assert.equal(decodeJwt(tokens.id_token!).payload.nonce, pending.nonce);
});

Deno.test("an ID token without a nonce is accepted: PKCE and state protect the code", async () => {
  const { mock, server, pending, callback } = await login({ idTokenNonce: "omit" });
  await using _ = mock;
  const tokens = await exchangeCode(server, callback, pending);
  assert.ok(tokens.refresh_token);
  assert.equal(decodeJwt(tokens.id_token!).payload.nonce, undefined);
});

Deno.test("an ID token with another nonce is an injected token: exit 5, not temporary", async () => {
  const { mock, server, pending, callback } = await login({ idTokenNonce: "wrong" });
  await using _ = mock;
  const e = await rejectsWith(exchangeCode(server, callback, pending), "id_token_nonce_mismatch");
  assert.equal(e.exit, Exit.DENIED);
  assert.match(e.fix ?? "", /nothing was stored/);
  assert.doesNotMatch(`${e.message} ${e.fix}`, /temporary/);
});

Deno.test("a pasted callback without iss is accepted; from the listener it is refused (RFC 9207)", async () => {
  const { mock, server, pending, callback } = await login();
  await using _ = mock;
  const cut = only(callback, "code", "state");
  await rejectsWith(exchangeCode(server, cut, pending), "state_mismatch");
  // The same code still works: the refused response never reached the token endpoint.
  assert.equal(mock.stats.codeExchanges, 0);
  const tokens = await exchangeCode(server, cut, pending, { pasted: true });
  assert.ok(tokens.access_token);
});

Deno.test("a pasted callback whose iss names another server is still refused", async () => {
  const { mock, server, pending, callback } = await login();
  await using _ = mock;
  const forged = only(callback, "code", "state");
  forged.searchParams.set("iss", "https://evil.example.com");
  const e = await rejectsWith(
    exchangeCode(server, forged, pending, { pasted: true }),
    "state_mismatch",
  );
  assert.match(e.message, /iss/);
  assert.equal(mock.stats.codeExchanges, 0);
});

Deno.test("a code the token endpoint refuses with invalid_grant is code_rejected, with what to do", async () => {
  const { mock, server, pending, callback } = await login();
  await using _ = mock;
  const wrong = new URL(callback);
  wrong.searchParams.set("code", "not-the-code");
  const e = await rejectsWith(exchangeCode(server, wrong, pending), "code_rejected");
  assert.equal(e.exit, Exit.DENIED);
  assert.match(e.message, /invalid_grant/);
  assert.match(e.fix ?? "", /open the login URL again/);
  assert.ok(!e.message.includes("not-the-code"), "the code is never echoed");
  // The verifier is still good for the login's real code.
  assert.ok((await exchangeCode(server, callback, pending)).access_token);
});

Deno.test("a token answer that fails validation is a provider error that is not called temporary", async () => {
  const { mock, server, pending, callback } = await login();
  await using _ = mock;
  mock.faults.tokenInvalidJson = true;
  const e = await rejectsWith(exchangeCode(server, callback, pending), "provider_error");
  assert.equal(e.exit, Exit.PROVIDER);
  assert.match(e.message, /failed validation/);
  assert.doesNotMatch(e.fix ?? "", /temporary/);
  // A 5xx stays what it is: usually temporary.
  const again = await login();
  await using __ = again.mock;
  again.mock.faults.tokenStatus = 503;
  const down = await rejectsWith(
    exchangeCode(again.server, again.callback, again.pending),
    "provider_error",
  );
  assert.match(down.fix ?? "", /temporary/);
});
