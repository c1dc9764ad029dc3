import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { decodeJwt, verifyJwt } from "./jwt.ts";
import {
  CONSENT_TITLE,
  FOREIGN_ORIGIN,
  MOCK_USER,
  type MockXai,
  startMockXai,
  UNREACHABLE_TEXT,
  XAI_CLIENT_ID,
  XAI_SCOPES,
} from "./xai_mock.ts";

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const client: oauth.Client = { client_id: XAI_CLIENT_ID };
const REDIRECT_URI = "http://127.0.0.1:56121/callback";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

interface Login {
  url: URL;
  verifier: string;
  challenge: string;
  state: string;
  nonce: string;
}

async function discover(mock: MockXai): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(mock.issuer);
  return await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, insecure),
  );
}

/** The authorize URL Hermes builds; `overrides` replace parameters, null removes one. */
async function startLogin(
  mock: MockXai,
  overrides: Record<string, string | null> = {},
): Promise<Login> {
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(`${mock.issuer}/oauth2/authorize`);
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: XAI_CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: XAI_SCOPES.join(" "),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    plan: "generic",
    referrer: "hermes-agent",
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return { url, verifier, challenge, state, nonce };
}

/** The token request body Hermes sends for a code exchange; `overrides` as in startLogin. */
function codeExchangeBody(
  login: Login,
  code: string,
  overrides: Record<string, string | null> = {},
): Record<string, string | null> {
  return {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    client_id: XAI_CLIENT_ID,
    code_verifier: login.verifier,
    code_challenge: login.challenge,
    code_challenge_method: "S256",
    ...overrides,
  };
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function postForm(url: string, fields: Record<string, string | null>): Promise<Answer> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== null) body.set(name, value);
  const response = await fetch(url, { method: "POST", body });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

function token(mock: MockXai, fields: Record<string, string | null>): Promise<Answer> {
  return postForm(`${mock.issuer}/oauth2/token`, fields);
}

/** Approves `login` and returns the code from the callback URL. */
async function codeFor(mock: MockXai, login: Login): Promise<string> {
  const callback = new URL(await mock.approve(login.url.href));
  const code = callback.searchParams.get("code");
  assert.ok(code, `no code in ${callback}`);
  return code;
}

/** A complete code flow through oauth4webapi. */
async function logIn(mock: MockXai): Promise<oauth.TokenEndpointResponse> {
  const as = await discover(mock);
  const login = await startLogin(mock);
  const callback = new URL(await mock.approve(login.url.href));
  const params = oauth.validateAuthResponse(as, client, callback, login.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    REDIRECT_URI,
    login.verifier,
    {
      ...insecure,
      additionalParameters: { code_challenge: login.challenge, code_challenge_method: "S256" },
    },
  );
  return await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: login.nonce,
    requireIdToken: true,
  });
}

function refresh(mock: MockXai, refreshToken: string): Promise<Answer> {
  return token(mock, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: XAI_CLIENT_ID,
  });
}

function assertOAuthError(answer: Answer, status: number, error: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error, error);
  assert.equal(typeof answer.body.error_description, "string");
  assert.equal(answer.headers.get("cache-control"), "no-store");
}

async function getManual(url: string): Promise<Response> {
  return await fetch(url, { redirect: "manual" });
}

async function startDevice(
  mock: MockXai,
): Promise<{ as: oauth.AuthorizationServer; device: oauth.DeviceAuthorizationResponse }> {
  const as = await discover(mock);
  const response = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), {
    scope: XAI_SCOPES.join(" "),
  }, insecure);
  return { as, device: await oauth.processDeviceAuthorizationResponse(as, client, response) };
}

function poll(mock: MockXai, deviceCode: string): Promise<Answer> {
  return token(mock, {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: XAI_CLIENT_ID,
  });
}

Deno.test("discovery names the xAI endpoints on the issuer and passes oauth4webapi", async () => {
  await using mock = await startMockXai();
  assert.match(mock.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  const as = await discover(mock);
  assert.equal(as.issuer, mock.issuer);
  assert.equal(as.authorization_endpoint, `${mock.issuer}/oauth2/authorize`);
  assert.equal(as.token_endpoint, `${mock.issuer}/oauth2/token`);
  assert.equal(as.device_authorization_endpoint, `${mock.issuer}/oauth2/device/code`);
  assert.equal(as.jwks_uri, `${mock.issuer}/jwks`);
  assert.deepEqual(as.response_types_supported, ["code"]);
  assert.deepEqual(as.grant_types_supported, ["authorization_code", "refresh_token", DEVICE_GRANT]);
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
  assert.deepEqual(as.token_endpoint_auth_methods_supported, ["none"]);
  assert.deepEqual(as.id_token_signing_alg_values_supported, ["RS256"]);
  assert.deepEqual(as.scopes_supported, XAI_SCOPES);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
});

Deno.test("code flow through oauth4webapi yields signed tokens with the nonce", async () => {
  await using mock = await startMockXai();
  const as = await discover(mock);
  const login = await startLogin(mock);
  const callback = new URL(await mock.approve(login.url.href));
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  assert.equal(callback.searchParams.get("state"), login.state);
  assert.equal(callback.searchParams.get("iss"), mock.issuer);
  const params = oauth.validateAuthResponse(as, client, callback, login.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    REDIRECT_URI,
    login.verifier,
    {
      ...insecure,
      additionalParameters: { code_challenge: login.challenge, code_challenge_method: "S256" },
    },
  );
  assert.equal(response.headers.get("cache-control"), "no-store");
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: login.nonce,
    requireIdToken: true,
  });
  assert.equal(tokens.token_type, "bearer"); // oauth4webapi lower-cases it
  assert.equal(tokens.expires_in, 3600);
  assert.equal(tokens.scope, XAI_SCOPES.join(" "));
  assert.ok(tokens.refresh_token);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  assert.equal(claims.nonce, login.nonce);
  assert.equal(claims.aud, XAI_CLIENT_ID);
  assert.equal(claims.email, MOCK_USER.email);

  const jwks = await (await fetch(as.jwks_uri!)).json();
  const verified = await verifyJwt(tokens.id_token!, jwks);
  assert.equal(verified.iss, mock.issuer);
  assert.equal(verified.sub, MOCK_USER.sub);
  const access = decodeJwt(tokens.access_token).payload;
  for (const claim of ["iss", "sub", "aud", "exp", "iat", "scope", "jti"]) {
    assert.ok(access[claim] !== undefined, `access token lacks ${claim}`);
  }
  assert.equal((access.exp as number) - (access.iat as number), 3600);
  await verifyJwt(tokens.access_token, jwks);

  const sent = mock.stats.lastTokenParams!;
  assert.equal(sent.get("code_challenge"), login.challenge);
  assert.equal(mock.stats.lastAuthorizeParams?.get("plan"), "generic");
  assert.equal(mock.stats.authorizeRequests, 1);
  assert.equal(mock.stats.codeExchanges, 1);
  assert.equal(mock.stats.tokenRequests, 1);
});

Deno.test("consent page shows the title, the scopes and approve/deny buttons", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const response = await getManual(login.url.href);
  assert.equal(response.status, 200);
  const page = await response.text();
  assert.ok(page.includes(`<title>${CONSENT_TITLE}</title>`));
  for (const scope of XAI_SCOPES) assert.ok(page.includes(`<li>${scope}</li>`), scope);
  assert.match(page, /<form method="post" action="\/oauth2\/authorize\/decision">/);
  assert.match(page, /<input type="hidden" name="transaction_id" value="[^"]+">/);
  assert.match(page, /id="approve"/);
  assert.match(page, /id="deny"/);
});

Deno.test("autoApprove with approval redirect sends the browser straight back with a code", async () => {
  await using mock = await startMockXai({ autoApprove: true, approval: "redirect" });
  const login = await startLogin(mock);
  const response = await getManual(login.url.href);
  await response.body?.cancel();
  assert.equal(response.status, 302);
  const callback = new URL(response.headers.get("location")!);
  assert.ok(callback.searchParams.get("code"));
  assert.equal(callback.searchParams.get("state"), login.state);
  assert.equal(callback.searchParams.get("iss"), mock.issuer);
});

Deno.test("a consent transaction answers once", async () => {
  await using mock = await startMockXai({ approval: "redirect" });
  const login = await startLogin(mock);
  const page = await (await getManual(login.url.href)).text();
  const id = /name="transaction_id" value="([^"]+)"/.exec(page)![1];
  const decide = () =>
    fetch(`${mock.issuer}/oauth2/authorize/decision`, {
      method: "POST",
      body: new URLSearchParams({ transaction_id: id, decision: "approve" }),
      redirect: "manual",
    });
  const first = await decide();
  await first.body?.cancel();
  assert.equal(first.status, 302);
  const second = await decide();
  assert.equal(second.status, 400);
  assert.match(await second.text(), /expired or was already answered/);
});

/** Press a decision on the consent page of `login`; the raw answer, redirects not followed. */
async function decide(
  mock: MockXai,
  login: Login,
  decision: "approve" | "deny",
): Promise<Response> {
  const page = await (await getManual(login.url.href)).text();
  const id = /name="transaction_id" value="([^"]+)"/.exec(page)![1];
  return await fetch(`${mock.issuer}/oauth2/authorize/decision`, {
    method: "POST",
    body: new URLSearchParams({ transaction_id: id, decision }),
    redirect: "manual",
  });
}

Deno.test("by default Approve does not redirect: the page's script calls the callback with a preflighted fetch", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const answer = await decide(mock, login, "approve");
  assert.equal(answer.status, 200, "the address bar stays on the provider's page");
  assert.equal(answer.headers.get("location"), null);
  const page = await answer.text();
  const callback = new URL(
    /data-callback="([^"]+)"/.exec(page)![1].replaceAll("&amp;", "&"),
  );
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  assert.equal(callback.searchParams.get("state"), login.state);
  assert.equal(callback.searchParams.get("iss"), mock.issuer);
  const code = callback.searchParams.get("code")!;
  // The call: fetch with a header that is not CORS-safelisted, so browsers preflight it.
  assert.match(
    page,
    /await fetch\(outcome\.dataset\.callback, \{\s*headers: \{"Content-Type":"application\/json"\}/,
  );
  assert.match(page, /credentials: "omit"/);
  // Done only when the answer passed (a failed CORS check rejects the fetch), else the code.
  assert.match(page, /show\(answer\.ok \? "done" : "unreachable"\)/);
  assert.match(page, /catch \{\s*show\("unreachable"\)/);
  assert.ok(page.includes(UNREACHABLE_TEXT.replace("'", "&#39;")));
  assert.ok(page.includes(`<code id="code">${code}</code>`));
  assert.match(page, /<div id="unreachable" hidden>/);
  // approve() returns that same URL, not called.
  const next = await startLogin(mock);
  const played = new URL(await mock.approve(next.url.href));
  assert.equal(played.searchParams.get("state"), next.state);
  assert.ok(played.searchParams.get("code"));
  assert.equal(mock.stats.codeExchanges, 0);
});

Deno.test("approval redirect: Approve is a plain 302 to the callback, as Spotify and most servers do", async () => {
  await using mock = await startMockXai({ approval: "redirect" });
  const login = await startLogin(mock);
  const answer = await decide(mock, login, "approve");
  await answer.body?.cancel();
  assert.equal(answer.status, 302);
  const callback = new URL(answer.headers.get("location")!);
  assert.equal(callback.searchParams.get("state"), login.state);
  assert.equal(
    new URL(await mock.approve((await startLogin(mock)).url.href)).pathname,
    "/callback",
  );
});

Deno.test("by default Deny also goes back by script, with error=access_denied and no code shown", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const page = await (await decide(mock, login, "deny")).text();
  const callback = /data-callback="([^"]+)"/.exec(page)![1].replaceAll("&amp;", "&");
  assert.equal(new URL(callback).searchParams.get("error"), "access_denied");
  assert.doesNotMatch(page, /id="code"/);
});

/** A stand-in for the app's listener: how it answers CORS decides what the page shows. */
function app(cors: { preflight: boolean; get: boolean }) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const origin = request.headers.get("origin") ?? "";
    const grant = {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": "GET, OPTIONS",
      "access-control-allow-headers": "Content-Type",
      vary: "Origin",
    };
    if (request.method === "OPTIONS") {
      return cors.preflight
        ? new Response(null, { status: 204, headers: grant })
        : new Response("Method not allowed.", { status: 405 });
    }
    return new Response("received", { headers: cors.get ? grant : {} });
  });
}

Deno.test("the page says done only when the app answered the preflight and the GET with CORS headers", async () => {
  await using mock = await startMockXai();
  const cases = [
    { cors: { preflight: true, get: true }, shown: "done" },
    { cors: { preflight: false, get: true }, shown: "unreachable" }, // hermes-auth before CORS
    { cors: { preflight: true, get: false }, shown: "unreachable" },
  ];
  for (const { cors, shown } of cases) {
    await using server = app(cors);
    const login = await startLogin(mock, {
      redirect_uri: `http://127.0.0.1:${server.addr.port}/callback`,
    });
    const callback = await mock.approve(login.url.href);
    const outcome = await mock.callFromPage(callback);
    assert.equal(outcome.shown, shown, JSON.stringify(cors));
    if (outcome.shown === "unreachable") {
      assert.equal(outcome.code, new URL(callback).searchParams.get("code"));
    }
  }
  // Nothing listening at all: unreachable, and the code is what the person can paste.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const login = await startLogin(mock, { redirect_uri: `http://127.0.0.1:${port}/callback` });
  const outcome = await mock.callFromPage(await mock.approve(login.url.href));
  assert.equal(outcome.shown, "unreachable");
  assert.ok(outcome.shown === "unreachable" && outcome.code);
});

/** The nonce claim of the ID token a login gets from `mock`. */
async function idTokenNonce(mock: MockXai): Promise<{ sent: string; got: unknown }> {
  const login = await startLogin(mock);
  const answer = await token(mock, codeExchangeBody(login, await codeFor(mock, login)));
  assert.equal(answer.status, 200);
  return { sent: login.nonce, got: decodeJwt(String(answer.body.id_token)).payload.nonce };
}

Deno.test("the ID token echoes the nonce by default, and idTokenNonce omits it or sends a wrong one", async () => {
  {
    await using mock = await startMockXai();
    const { sent, got } = await idTokenNonce(mock);
    assert.equal(got, sent);
  }
  {
    await using mock = await startMockXai({ idTokenNonce: "omit" });
    assert.equal((await idTokenNonce(mock)).got, undefined);
  }
  {
    await using mock = await startMockXai({ idTokenNonce: "wrong" });
    const { sent, got } = await idTokenNonce(mock);
    assert.equal(typeof got, "string");
    assert.notEqual(got, sent);
  }
});

Deno.test("authorize without plan=generic is an HTML error page, not a redirect", async () => {
  await using mock = await startMockXai({ autoApprove: true });
  const login = await startLogin(mock, { plan: null });
  const response = await getManual(login.url.href);
  assert.equal(response.status, 400);
  assert.match(response.headers.get("content-type")!, /text\/html/);
  assert.match(await response.text(), /plan=generic/);
  await assert.rejects(mock.approve(login.url.href), /plan=generic/);
});

Deno.test("authorize shows a page for a bad client_id or redirect_uri and never redirects", async () => {
  await using mock = await startMockXai({ autoApprove: true });
  const cases: Record<string, string | null>[] = [
    { client_id: "someone-else" },
    { client_id: null },
    { redirect_uri: "https://attacker.example.com/callback" },
    { redirect_uri: "http://192.168.1.5:56121/callback" },
    { redirect_uri: "http://127.0.0.1:56121/callback#frag" },
    { redirect_uri: null },
  ];
  for (const overrides of cases) {
    const response = await getManual((await startLogin(mock, overrides)).url.href);
    await response.body?.cancel();
    assert.equal(response.status, 400, JSON.stringify(overrides));
    assert.equal(response.headers.get("location"), null);
  }
});

Deno.test("authorize accepts loopback redirects on any port and localhost", async () => {
  await using mock = await startMockXai({ autoApprove: true });
  for (const uri of ["http://127.0.0.1:40123/cb", "http://localhost:8080/x/y"]) {
    const callback = new URL(
      await mock.approve((await startLogin(mock, { redirect_uri: uri })).url.href),
    );
    assert.equal(callback.origin + callback.pathname, uri);
    assert.ok(callback.searchParams.get("code"));
  }
});

Deno.test("authorize redirects back with an error for other bad requests", async () => {
  await using mock = await startMockXai({ autoApprove: true });
  const cases: [Record<string, string | null>, string][] = [
    [{ code_challenge: null }, "invalid_request"],
    [{ code_challenge_method: null }, "invalid_request"],
    [{ code_challenge_method: "plain" }, "invalid_request"],
    [{ state: null }, "invalid_request"],
    [{ response_type: "token" }, "unsupported_response_type"],
    [{ scope: "profile email" }, "invalid_scope"],
    [{ scope: "openid admin" }, "invalid_scope"],
  ];
  for (const [overrides, error] of cases) {
    const login = await startLogin(mock, overrides);
    const callback = new URL(await mock.approve(login.url.href));
    assert.equal(callback.searchParams.get("error"), error, JSON.stringify(overrides));
    assert.equal(callback.searchParams.get("iss"), mock.issuer);
    assert.equal(callback.searchParams.get("code"), null);
    assert.equal(callback.searchParams.get("state"), overrides.state === null ? null : login.state);
  }
});

Deno.test("pressing Deny sends access_denied with state and iss", async () => {
  for (const autoApprove of [false, true]) {
    await using mock = await startMockXai({ autoApprove });
    const as = await discover(mock);
    const login = await startLogin(mock);
    const callback = new URL(await mock.deny(login.url.href));
    assert.equal(callback.searchParams.get("error"), "access_denied");
    assert.ok(callback.searchParams.get("error_description"));
    assert.equal(callback.searchParams.get("state"), login.state);
    assert.equal(callback.searchParams.get("iss"), mock.issuer);
    assert.throws(
      () => oauth.validateAuthResponse(as, client, callback, login.state),
      (error) =>
        error instanceof oauth.AuthorizationResponseError && error.error === "access_denied",
    );
  }
});

Deno.test("token endpoint refuses a verifier that does not match the challenge", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const other = oauth.generateRandomCodeVerifier();
  const answer = await token(mock, codeExchangeBody(login, code, { code_verifier: other }));
  assertOAuthError(answer, 400, "invalid_grant");
  assert.match(String(answer.body.error_description), /code_verifier/);
});

Deno.test("token endpoint refuses a second use of a code and revokes what it issued", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const first = await token(mock, codeExchangeBody(login, code));
  assert.equal(first.status, 200);
  assertOAuthError(await token(mock, codeExchangeBody(login, code)), 400, "invalid_grant");
  assertOAuthError(await refresh(mock, String(first.body.refresh_token)), 400, "invalid_grant");
  const userinfo = await fetch(`${mock.issuer}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${first.body.access_token}` },
  });
  await userinfo.body?.cancel();
  assert.equal(userinfo.status, 401);
});

Deno.test("token endpoint refuses a redirect_uri that differs from the authorize request", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const answer = await token(
    mock,
    codeExchangeBody(login, code, { redirect_uri: "http://127.0.0.1:56122/callback" }),
  );
  assertOAuthError(answer, 400, "invalid_grant");
});

Deno.test("token endpoint requires code_challenge in the token request, like xAI", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const missing = await token(mock, codeExchangeBody(login, code, { code_challenge: null }));
  assertOAuthError(missing, 400, "invalid_request");
  assert.equal(missing.body.error_description, "code_challenge is required");
  const noMethod = await token(
    mock,
    codeExchangeBody(login, code, { code_challenge_method: null }),
  );
  assertOAuthError(noMethod, 400, "invalid_request");
  // Neither refusal burned the code.
  assert.equal((await token(mock, codeExchangeBody(login, code))).status, 200);
});

Deno.test("token endpoint refuses a code_challenge other than the authorize request's", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const otherChallenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
  const answer = await token(
    mock,
    codeExchangeBody(login, code, { code_challenge: otherChallenge }),
  );
  assertOAuthError(answer, 400, "invalid_grant");
});

Deno.test("token endpoint refuses an expired code", async () => {
  let clock = Date.now();
  await using mock = await startMockXai({ codeTtl: 60, now: () => clock });
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  clock += 61_000;
  const answer = await token(mock, codeExchangeBody(login, code));
  assertOAuthError(answer, 400, "invalid_grant");
  assert.match(String(answer.body.error_description), /expired/);
});

Deno.test("token endpoint wants a urlencoded body, the public client_id and no secret", async () => {
  await using mock = await startMockXai();
  const asJson = await fetch(`${mock.issuer}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "x" }),
  });
  assertOAuthError(
    { status: asJson.status, headers: asJson.headers, body: await asJson.json() },
    400,
    "invalid_request",
  );
  const base = { grant_type: "refresh_token", refresh_token: "x" };
  assertOAuthError(await token(mock, { ...base, client_id: null }), 401, "invalid_client");
  assertOAuthError(await token(mock, { ...base, client_id: "other" }), 401, "invalid_client");
  assertOAuthError(
    await token(mock, { ...base, client_id: XAI_CLIENT_ID, client_secret: "s" }),
    401,
    "invalid_client",
  );
  assertOAuthError(
    await token(mock, { grant_type: "password", client_id: XAI_CLIENT_ID }),
    400,
    "unsupported_grant_type",
  );
  const twice = new URLSearchParams(`client_id=${XAI_CLIENT_ID}&grant_type=refresh_token`);
  twice.append("refresh_token", "a");
  twice.append("refresh_token", "b");
  const duplicated = await fetch(`${mock.issuer}/oauth2/token`, { method: "POST", body: twice });
  assert.equal((await duplicated.json()).error, "invalid_request");
  assert.equal(mock.stats.tokenRequests, 6);
});

Deno.test("refresh rotates the refresh token and invalidates the old one", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  const as = await discover(mock);
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    oauth.None(),
    tokens.refresh_token!,
    insecure,
  );
  const refreshed = await oauth.processRefreshTokenResponse(as, client, response);
  assert.ok(refreshed.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal(refreshed.expires_in, 3600);
  const next = await refresh(mock, refreshed.refresh_token!);
  assert.equal(next.status, 200);
  assert.equal(mock.stats.refreshes, 2);
});

Deno.test("reusing a rotated refresh token revokes the whole token family", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  const rotated = await refresh(mock, tokens.refresh_token!);
  assert.equal(rotated.status, 200);
  assertOAuthError(await refresh(mock, tokens.refresh_token!), 400, "invalid_grant");
  assertOAuthError(await refresh(mock, String(rotated.body.refresh_token)), 400, "invalid_grant");
  assert.equal(mock.stats.refreshes, 3);
});

Deno.test("revokeAll makes the next refresh fail with invalid_grant", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  mock.revokeAll();
  assertOAuthError(await refresh(mock, tokens.refresh_token!), 400, "invalid_grant");
});

Deno.test("refresh may narrow the scope but not widen it", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  const narrowed = await token(mock, {
    grant_type: "refresh_token",
    refresh_token: tokens.refresh_token!,
    client_id: XAI_CLIENT_ID,
    scope: "openid offline_access",
  });
  assert.equal(narrowed.status, 200);
  assert.equal(narrowed.body.scope, "openid offline_access");
  const widened = await token(mock, {
    grant_type: "refresh_token",
    refresh_token: String(narrowed.body.refresh_token),
    client_id: XAI_CLIENT_ID,
    scope: "openid admin",
  });
  assertOAuthError(widened, 400, "invalid_scope");
});

Deno.test("device flow: authorization_pending until approveDevice, then tokens", async () => {
  await using mock = await startMockXai({ deviceInterval: 0 });
  const { as, device } = await startDevice(mock);
  assert.match(device.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  assert.equal(device.verification_uri, `${mock.issuer}/oauth2/device`);
  assert.equal(
    device.verification_uri_complete,
    `${mock.issuer}/oauth2/device?user_code=${device.user_code}`,
  );
  assert.equal(device.expires_in, 600);
  assert.equal(device.interval, 1); // 0 is not a valid interval; the mock enforces none
  const pollOnce = async () =>
    await oauth.processDeviceCodeResponse(
      as,
      client,
      await oauth.deviceCodeGrantRequest(as, client, oauth.None(), device.device_code, insecure),
    );
  await assert.rejects(
    pollOnce(),
    (error) => error instanceof oauth.ResponseBodyError && error.error === "authorization_pending",
  );
  mock.approveDevice(device.user_code.toLowerCase());
  const tokens = await pollOnce();
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token);
  assert.ok(oauth.getValidatedIdTokenClaims(tokens));
  assertOAuthError(await poll(mock, device.device_code), 400, "invalid_grant");
  assert.equal(mock.stats.deviceAuthorizations, 1);
  assert.equal(mock.stats.devicePolls, 3);
});

Deno.test("device flow: polling sooner than the interval gets slow_down and 5 s more", async () => {
  let clock = Date.now();
  await using mock = await startMockXai({ deviceInterval: 1, now: () => clock });
  const { device } = await startDevice(mock);
  assert.equal(device.interval, 1);
  assertOAuthError(await poll(mock, device.device_code), 400, "authorization_pending");
  const tooSoon = await poll(mock, device.device_code);
  assertOAuthError(tooSoon, 400, "slow_down");
  assert.match(String(tooSoon.body.error_description), /6 s/);
  clock += 2_000; // enough for the old interval, not for the new one
  assertOAuthError(await poll(mock, device.device_code), 400, "slow_down");
  clock += 11_001;
  assertOAuthError(await poll(mock, device.device_code), 400, "authorization_pending");
});

Deno.test("device flow: denyDevice gives access_denied", async () => {
  await using mock = await startMockXai({ deviceInterval: 0 });
  const { device } = await startDevice(mock);
  mock.denyDevice(device.user_code);
  assertOAuthError(await poll(mock, device.device_code), 400, "access_denied");
  assert.throws(() => mock.approveDevice(device.user_code), /already answered/);
  assert.throws(() => mock.approveDevice("ZZZZ-ZZZZ"), /no device authorization/);
});

Deno.test("device flow: an expired device code gives expired_token", async () => {
  let clock = Date.now();
  await using mock = await startMockXai({ deviceInterval: 0, deviceCodeTtl: 30, now: () => clock });
  const { device } = await startDevice(mock);
  assert.equal(device.expires_in, 30);
  mock.approveDevice(device.user_code);
  clock += 30_000;
  assertOAuthError(await poll(mock, device.device_code), 400, "expired_token");
});

Deno.test("device flow: the verification page approves a user code", async () => {
  await using mock = await startMockXai({ deviceInterval: 0 });
  const { device } = await startDevice(mock);
  const page = await (await fetch(device.verification_uri_complete!)).text();
  assert.ok(page.includes(`value="${device.user_code}"`));
  assert.match(page, /id="approve"/);
  const answer = await fetch(device.verification_uri, {
    method: "POST",
    body: new URLSearchParams({ user_code: device.user_code, decision: "approve" }),
  });
  assert.equal(answer.status, 200);
  assert.match(await answer.text(), /Device connected/);
  assert.equal((await poll(mock, device.device_code)).status, 200);
});

Deno.test("device authorization refuses an unknown client_id and unknown scopes", async () => {
  await using mock = await startMockXai();
  const url = `${mock.issuer}/oauth2/device/code`;
  assertOAuthError(await postForm(url, { client_id: "other" }), 401, "invalid_client");
  assertOAuthError(
    await postForm(url, { client_id: XAI_CLIENT_ID, scope: "openid admin" }),
    400,
    "invalid_scope",
  );
});

Deno.test("fault deny: authorize redirects back with access_denied", async () => {
  await using mock = await startMockXai({ autoApprove: true });
  mock.faults.deny = true;
  const login = await startLogin(mock);
  const callback = new URL(await mock.approve(login.url.href));
  assert.equal(callback.searchParams.get("error"), "access_denied");
  assert.equal(callback.searchParams.get("state"), login.state);
  assert.equal(callback.searchParams.get("iss"), mock.issuer);
});

Deno.test("fault discoveryStatus and discoveryInvalidJson break discovery", async () => {
  await using mock = await startMockXai();
  const issuer = new URL(mock.issuer);
  const refused = async () => {
    const response = await oauth.discoveryRequest(issuer, insecure);
    await assert.rejects(
      oauth.processDiscoveryResponse(issuer, response),
      (error) => error instanceof oauth.OperationProcessingError,
    );
    if (!response.bodyUsed) await response.body?.cancel();
    return response.status;
  };
  mock.faults.discoveryStatus = 503;
  assert.equal(await refused(), 503);
  mock.faults.discoveryStatus = undefined;
  mock.faults.discoveryInvalidJson = true;
  assert.equal(await refused(), 200);
});

Deno.test("fault foreignEndpoints and foreignIssuer point discovery elsewhere", async () => {
  await using mock = await startMockXai();
  mock.faults.foreignEndpoints = true;
  const as = await discover(mock);
  assert.equal(as.issuer, mock.issuer);
  assert.equal(as.token_endpoint, `${FOREIGN_ORIGIN}/oauth2/token`);
  assert.equal(as.authorization_endpoint, `${FOREIGN_ORIGIN}/oauth2/authorize`);
  mock.faults.foreignEndpoints = false;
  mock.faults.foreignIssuer = true;
  await assert.rejects(
    discover(mock),
    (error) =>
      error instanceof oauth.OperationProcessingError &&
      error.code === oauth.JSON_ATTRIBUTE_COMPARISON,
  );
});

Deno.test("fault tokenStatus answers the code exchange with 403 forbidden or 500", async () => {
  await using mock = await startMockXai();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  mock.faults.tokenStatus = 403;
  assertOAuthError(await token(mock, codeExchangeBody(login, code)), 403, "forbidden");
  mock.faults.tokenStatus = 500;
  assertOAuthError(await token(mock, codeExchangeBody(login, code)), 500, "server_error");
  mock.faults.tokenStatus = undefined;
  assert.equal((await token(mock, codeExchangeBody(login, code))).status, 200);
  assert.equal(mock.stats.codeExchanges, 3);
});

Deno.test("fault refreshStatus answers refreshes with that status", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  mock.faults.refreshStatus = 400;
  assertOAuthError(await refresh(mock, tokens.refresh_token!), 400, "invalid_grant");
  mock.faults.refreshStatus = 403;
  assertOAuthError(await refresh(mock, tokens.refresh_token!), 403, "forbidden");
  mock.faults.refreshStatus = 502;
  assertOAuthError(await refresh(mock, tokens.refresh_token!), 502, "server_error");
  mock.faults.refreshStatus = undefined;
  assert.equal((await refresh(mock, tokens.refresh_token!)).status, 200);
  assert.equal(mock.stats.refreshes, 4);
});

Deno.test("fault tokenInvalidJson answers 200 with a body that is not JSON", async () => {
  await using mock = await startMockXai();
  const as = await discover(mock);
  const tokens = await logIn(mock);
  mock.faults.tokenInvalidJson = true;
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    oauth.None(),
    tokens.refresh_token!,
    insecure,
  );
  assert.equal(response.status, 200);
  await assert.rejects(
    oauth.processRefreshTokenResponse(as, client, response),
    (error) => error instanceof oauth.OperationProcessingError,
  );
});

Deno.test("fault slowMs delays token answers and does not hold up close", async () => {
  const mock = await startMockXai();
  try {
    mock.faults.slowMs = 150;
    const started = performance.now();
    await refresh(mock, "unknown");
    assert.ok(performance.now() - started >= 140);
    mock.faults.slowMs = 60_000;
    const pending = fetch(`${mock.issuer}/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", client_id: XAI_CLIENT_ID }),
    });
    while (mock.stats.tokenRequests < 2) await new Promise((r) => setTimeout(r, 5));
    const closing = performance.now();
    await mock.close();
    assert.ok(performance.now() - closing < 1000);
    const answer = await pending;
    assert.equal(answer.status, 503);
    await answer.body?.cancel();
  } finally {
    await mock.close();
  }
});

Deno.test("fault omitRefreshToken: refresh carries no refresh_token and the old one lives", async () => {
  await using mock = await startMockXai();
  const tokens = await logIn(mock);
  mock.faults.omitRefreshToken = true;
  const first = await refresh(mock, tokens.refresh_token!);
  assert.equal(first.status, 200);
  assert.equal(first.body.refresh_token, undefined);
  assert.ok(first.body.access_token);
  assert.equal((await refresh(mock, tokens.refresh_token!)).status, 200);
});

Deno.test("unknown paths get 404 and wrong methods 405", async () => {
  await using mock = await startMockXai();
  const missing = await fetch(`${mock.issuer}/oauth2/nope`);
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
  const wrong = await fetch(`${mock.issuer}/oauth2/token`);
  await wrong.body?.cancel();
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
});

Deno.test("standalone mock refuses an unknown --approval or --id-token-nonce with its usage", async () => {
  for (const flag of ["--approval=popup", "--id-token-nonce=maybe"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./xai_mock.ts", import.meta.url).pathname, flag],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, flag);
    assert.match(new TextDecoder().decode(out.stderr), /--approval script\|redirect/);
  }
});

Deno.test("standalone mock prints its issuer and stops on SIGINT", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./xai_mock.ts", import.meta.url).pathname,
      "--auto-approve",
      "--approval",
      "redirect",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    const issuer = out.trim();
    assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, issuer);
  } finally {
    child.kill("SIGINT");
    while (!(await lines.read()).done) { /* drain */ }
  }
  assert.equal((await child.status).code, 0);
});
