/**
 * The OAuth layer against a real authorization server (oidc-provider, see
 * oidc_server.ts): a custom provider from config.yaml data, discovery, the
 * server's own sign-in and consent pages, the PKCE code exchange. Also
 * proves the server is configured as the suite claims (PKCE required,
 * refresh tokens rotated, offline_access only with consent), so a green CLI
 * run means what it says.
 */
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { isAuthError } from "../../lib/errors.ts";
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../../lib/oauth/authcode.ts";
import { type ProviderServer, resolveServer } from "../../lib/oauth/server.ts";
import { parseCustomProviders } from "../../lib/providers/custom.ts";
import { playBrowser } from "./browser.ts";
import { type OidcServer, startOidcServer } from "./oidc_server.ts";

/** A redirect URI on a port nobody listens on: these tests hand the callback over themselves. */
const REDIRECT_URI = "http://127.0.0.1:54321/callback";

async function localProvider(
  server: OidcServer,
  settings: Record<string, unknown> = {},
): Promise<ProviderServer> {
  const [provider] = parseCustomProviders({
    "local-oidc": {
      display_name: "Local OIDC",
      issuer: server.issuer,
      client_id: server.clientId,
      scopes: ["openid", "offline_access"],
      extra_authorize_params: { prompt: "consent" },
      ...settings,
    },
  }, []);
  return await resolveServer(provider, { env: () => undefined });
}

async function login(
  ps: ProviderServer,
  approve = true,
): Promise<{ pending: PendingExchange; callback: URL; pages: string[] }> {
  const pending = { ...await createLoginSecrets(ps.provider), redirectUri: REDIRECT_URI };
  const url = authorizationUrl(ps, pending);
  const { callback, pages } = await playBrowser(url.href, { redirectUri: REDIRECT_URI, approve });
  return { pending, callback, pages };
}

function refreshRequest(ps: ProviderServer, refreshToken: string): Promise<Response> {
  return oauth.refreshTokenGrantRequest(
    ps.as,
    ps.client,
    oauth.None(),
    refreshToken,
    ps.http as oauth.TokenEndpointRequestOptions,
  );
}

Deno.test("discovery of oidc-provider passes the endpoint policy and advertises S256 only", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  assert.equal(ps.as.issuer, server.issuer);
  assert.equal(ps.as.authorization_endpoint, `${server.issuer}/auth`);
  assert.equal(ps.as.token_endpoint, `${server.issuer}/token`);
  assert.deepEqual(ps.as.code_challenge_methods_supported, ["S256"]);
  assert.equal(ps.as.authorization_response_iss_parameter_supported, true);
});

Deno.test("a login through the server's own sign-in and consent pages gets tokens for a public client", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  const { pending, callback, pages } = await login(ps);
  assert.deepEqual(pages, ["Sign-in", "Authorize"]);
  assert.equal(callback.searchParams.get("state"), pending.state);
  assert.equal(callback.searchParams.get("iss"), server.issuer);
  const tokens = await exchangeCode(ps, callback, pending);
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token, "offline_access with prompt=consent gives a refresh token");
  assert.ok(tokens.id_token, "openid gives an id_token (its nonce checked by exchangeCode)");
  assert.equal(tokens.expires_in, 3600);
  assert.equal(tokens.scope, "openid offline_access");
  assert.deepEqual(server.stats.tokenGrants, ["authorization_code"]);
});

Deno.test("the server requires PKCE: an authorize request without a code challenge is refused", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  const url = authorizationUrl(ps, {
    ...await createLoginSecrets(ps.provider),
    redirectUri: REDIRECT_URI,
  });
  url.searchParams.delete("code_challenge");
  url.searchParams.delete("code_challenge_method");
  const response = await fetch(url, { redirect: "manual" });
  await response.body?.cancel();
  const back = new URL(response.headers.get("location")!);
  assert.equal(back.searchParams.get("error"), "invalid_request");
  assert.match(String(back.searchParams.get("error_description")), /PKCE/);
});

Deno.test("the server requires the verifier: a code exchanged with the wrong one is invalid_grant", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  const { pending, callback } = await login(ps);
  await assert.rejects(
    exchangeCode(ps, callback, { ...pending, codeVerifier: oauth.generateRandomCodeVerifier() }),
    (e: unknown) => isAuthError(e) && /invalid_grant/.test(e.message),
  );
});

Deno.test("the server rotates refresh tokens and refuses a used one", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  const { pending, callback } = await login(ps);
  const first = await exchangeCode(ps, callback, pending);
  const rotated = await oauth.processRefreshTokenResponse(
    ps.as,
    ps.client,
    await refreshRequest(ps, first.refresh_token!),
  );
  assert.ok(rotated.refresh_token);
  assert.notEqual(rotated.refresh_token, first.refresh_token);
  assert.notEqual(rotated.access_token, first.access_token);
  const reused = await refreshRequest(ps, first.refresh_token!);
  assert.equal(reused.status, 400);
  assert.equal((await reused.json()).error, "invalid_grant");
});

Deno.test("Cancel on the consent page comes back as access_denied (exit 5)", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server);
  const { pending, callback } = await login(ps, false);
  assert.equal(callback.searchParams.get("error"), "access_denied");
  await assert.rejects(exchangeCode(ps, callback, pending), (e: unknown) => {
    assert.ok(isAuthError(e, "access_denied"));
    assert.equal(e.exit, 5);
    assert.match(String(e.fix), /hermes-auth add local-oidc/);
    return true;
  });
  assert.deepEqual(server.stats.tokenGrants, []);
});

Deno.test("without prompt=consent the server drops offline_access, and the login says so", async () => {
  await using server = await startOidcServer();
  const ps = await localProvider(server, { extra_authorize_params: {} });
  const { pending, callback } = await login(ps);
  await assert.rejects(exchangeCode(ps, callback, pending), (e: unknown) => {
    assert.ok(isAuthError(e, "no_refresh_token"));
    assert.match(String(e.fix), /offline_access/);
    return true;
  });
});
