import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import {
  type MockSpotify,
  SPOTIFY_CONSENT_TITLE,
  SPOTIFY_DEFAULT_REDIRECT_URI,
  SPOTIFY_TEST_CLIENT_ID,
  startMockSpotify,
} from "./spotify_mock.ts";

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const client: oauth.Client = { client_id: SPOTIFY_TEST_CLIENT_ID };
const HERMES_SCOPES = [
  "user-modify-playback-state",
  "user-read-playback-state",
  "user-read-currently-playing",
  "user-read-recently-played",
  "playlist-read-private",
  "playlist-read-collaborative",
  "playlist-modify-public",
  "playlist-modify-private",
  "user-library-read",
  "user-library-modify",
];

interface Login {
  url: URL;
  verifier: string;
  state: string;
}

/** The authorize URL Hermes builds; `overrides` replace parameters, null removes one. */
async function startLogin(
  mock: MockSpotify,
  overrides: Record<string, string | null> = {},
): Promise<Login> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(mock.authorizationEndpoint);
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: SPOTIFY_TEST_CLIENT_ID,
    redirect_uri: SPOTIFY_DEFAULT_REDIRECT_URI,
    scope: HERMES_SCOPES.join(" "),
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return { url, verifier, state };
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function token(mock: MockSpotify, fields: Record<string, string | null>): Promise<Answer> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== null) body.set(name, value);
  const response = await fetch(mock.tokenEndpoint, { method: "POST", body });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Approves `login` and returns the code from the callback URL. */
async function codeFor(mock: MockSpotify, login: Login): Promise<string> {
  const callback = new URL(await mock.approve(login.url.href));
  const code = callback.searchParams.get("code");
  assert.ok(code, `no code in ${callback}`);
  return code;
}

function exchange(
  mock: MockSpotify,
  login: Login,
  code: string,
  overrides: Record<string, string | null> = {},
): Promise<Answer> {
  return token(mock, {
    grant_type: "authorization_code",
    code,
    redirect_uri: SPOTIFY_DEFAULT_REDIRECT_URI,
    client_id: SPOTIFY_TEST_CLIENT_ID,
    code_verifier: login.verifier,
    ...overrides,
  });
}

function refresh(mock: MockSpotify, refreshToken: string): Promise<Answer> {
  return token(mock, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: SPOTIFY_TEST_CLIENT_ID,
  });
}

/** Logs in and returns the token response body. */
async function logIn(mock: MockSpotify): Promise<Record<string, unknown>> {
  const login = await startLogin(mock);
  const answer = await exchange(mock, login, await codeFor(mock, login));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

function assertTokenError(answer: Answer, status: number, error: string, description?: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error, error);
  assert.equal(typeof answer.body.error_description, "string");
  if (description !== undefined) assert.equal(answer.body.error_description, description);
}

/** The message of the HTML error page the authorize URL answers with. */
async function errorPageOf(url: URL): Promise<string> {
  const response = await fetch(url, { redirect: "manual" });
  const page = await response.text();
  assert.equal(response.status, 400, page);
  assert.match(response.headers.get("content-type")!, /^text\/html/);
  return /<p id="error">([^<]*)<\/p>/.exec(page)![1];
}

/** The Location of the redirect the authorize URL answers with. */
async function redirectOf(url: URL): Promise<URL> {
  const response = await fetch(url, { redirect: "manual" });
  await response.body?.cancel();
  assert.equal(response.status, 302);
  return new URL(response.headers.get("location")!);
}

Deno.test("code flow with PKCE through oauth4webapi yields an opaque Bearer token, scope and a refresh token", async () => {
  await using mock = await startMockSpotify();
  assert.match(mock.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(mock.authorizationEndpoint, `${mock.baseUrl}/authorize`);
  assert.equal(mock.tokenEndpoint, `${mock.baseUrl}/api/token`);
  const as: oauth.AuthorizationServer = {
    issuer: mock.baseUrl,
    authorization_endpoint: mock.authorizationEndpoint,
    token_endpoint: mock.tokenEndpoint,
  };
  const login = await startLogin(mock);
  const callback = new URL(await mock.approve(login.url.href));
  assert.equal(callback.origin + callback.pathname, SPOTIFY_DEFAULT_REDIRECT_URI);
  assert.deepEqual([...callback.searchParams.keys()].sort(), ["code", "state"]);
  assert.equal(callback.searchParams.get("state"), login.state);
  const params = oauth.validateAuthResponse(as, client, callback, login.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    SPOTIFY_DEFAULT_REDIRECT_URI,
    login.verifier,
    insecure,
  );
  assert.equal(response.headers.get("cache-control"), "no-store");
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  assert.equal(tokens.token_type, "bearer"); // oauth4webapi lower-cases it
  assert.equal(tokens.expires_in, 3600);
  assert.equal(tokens.scope, HERMES_SCOPES.join(" "));
  assert.ok(tokens.refresh_token);
  assert.equal(tokens.access_token.split(".").length, 1, "opaque, not a JWT");
  assert.ok(mock.isValidAccessToken(tokens.access_token));

  const sent = mock.stats.lastTokenParams!;
  assert.equal(sent.get("grant_type"), "authorization_code");
  assert.equal(sent.get("client_id"), SPOTIFY_TEST_CLIENT_ID);
  assert.equal(sent.get("code_verifier"), login.verifier);
  assert.equal(mock.stats.lastAuthorizeParams?.get("state"), login.state);
  assert.equal(mock.stats.authorizeRequests, 1);
  assert.equal(mock.stats.codeExchanges, 1);
  assert.equal(mock.stats.tokenRequests, 1);
});

Deno.test("the token response body is exactly Spotify's fields, token_type spelled Bearer", async () => {
  await using mock = await startMockSpotify();
  const body = await logIn(mock);
  assert.deepEqual(Object.keys(body).sort(), [
    "access_token",
    "expires_in",
    "refresh_token",
    "scope",
    "token_type",
  ]);
  assert.equal(body.token_type, "Bearer");
});

Deno.test("consent page shows the title, the scopes and Agree/Cancel buttons posting to /authorize/decision", async () => {
  await using mock = await startMockSpotify();
  const login = await startLogin(mock);
  const response = await fetch(login.url);
  assert.equal(response.status, 200);
  const page = await response.text();
  assert.ok(page.includes(`<title>${SPOTIFY_CONSENT_TITLE}</title>`));
  for (const scope of HERMES_SCOPES) assert.ok(page.includes(`<li>${scope}</li>`), scope);
  assert.match(page, /<form method="post" action="\/authorize\/decision">/);
  assert.match(page, /<input type="hidden" name="transaction_id" value="[^"]+">/);
  assert.match(page, /id="approve"/);
  assert.match(page, /id="deny"/);
});

Deno.test("a consent transaction answers once", async () => {
  await using mock = await startMockSpotify();
  const page = await (await fetch((await startLogin(mock)).url)).text();
  const transactionId = /name="transaction_id" value="([^"]+)"/.exec(page)![1];
  const decide = () =>
    fetch(`${mock.baseUrl}/authorize/decision`, {
      method: "POST",
      body: new URLSearchParams({ transaction_id: transactionId, decision: "approve" }),
      redirect: "manual",
    });
  const first = await decide();
  await first.body?.cancel();
  assert.equal(first.status, 302);
  const second = await decide();
  assert.equal(second.status, 400);
  assert.match(await second.text(), /expired or was already answered/);
});

Deno.test("autoApprove redirects straight back with a code and the state", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const login = await startLogin(mock);
  const callback = await redirectOf(login.url);
  assert.ok(callback.searchParams.get("code"));
  assert.equal(callback.searchParams.get("state"), login.state);
});

Deno.test("without a state the callback carries none", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const callback = await redirectOf((await startLogin(mock, { state: null })).url);
  assert.equal(callback.searchParams.has("state"), false);
});

Deno.test("Cancel and faults.deny send error=access_denied with the state", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const login = await startLogin(mock);
  const denied = new URL(await mock.deny(login.url.href));
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.equal(denied.searchParams.get("state"), login.state);
  assert.equal(denied.searchParams.has("code"), false);

  mock.faults.deny = true;
  const faulted = new URL(await mock.approve(login.url.href));
  assert.equal(faulted.searchParams.get("error"), "access_denied");
  assert.equal(faulted.searchParams.get("state"), login.state);
});

Deno.test("an unknown or missing client_id is an error page, never a redirect", async () => {
  await using mock = await startMockSpotify();
  assert.equal(
    await errorPageOf((await startLogin(mock, { client_id: "someone-else" })).url),
    "INVALID_CLIENT: Invalid client",
  );
  assert.equal(
    await errorPageOf((await startLogin(mock, { client_id: null })).url),
    "Missing required parameter: client_id",
  );
  await assert.rejects(
    mock.approve((await startLogin(mock, { client_id: "x" })).url.href),
    /authorize answered 400: INVALID_CLIENT: Invalid client/,
  );
});

Deno.test("a redirect_uri that is not exactly a registered one is INVALID_CLIENT: Invalid redirect URI", async () => {
  await using mock = await startMockSpotify();
  for (
    const near of [
      "http://127.0.0.1:43827/spotify/callback/",
      "http://localhost:43827/spotify/callback",
      "http://127.0.0.1:43828/spotify/callback",
      "http://127.0.0.1/spotify/callback",
      "https://127.0.0.1:43827/spotify/callback",
      "http://127.0.0.1:43827/spotify/Callback",
      "http://127.0.0.1:43827/callback",
    ]
  ) {
    const url = (await startLogin(mock, { redirect_uri: near })).url;
    assert.equal(await errorPageOf(url), "INVALID_CLIENT: Invalid redirect URI", near);
  }
  assert.equal(
    await errorPageOf((await startLogin(mock, { redirect_uri: null })).url),
    "Missing required parameter: redirect_uri",
  );
});

Deno.test("a redirect URI registered later (or at start) is accepted exactly", async () => {
  const custom = "http://127.0.0.1:50123/cb";
  await using mock = await startMockSpotify({ autoApprove: true, redirectUris: [custom] });
  const defaultUri = await startLogin(mock);
  assert.equal(await errorPageOf(defaultUri.url), "INVALID_CLIENT: Invalid redirect URI");
  const callback = await redirectOf((await startLogin(mock, { redirect_uri: custom })).url);
  assert.equal(callback.origin + callback.pathname, custom);

  mock.redirectUris.push(SPOTIFY_DEFAULT_REDIRECT_URI);
  assert.ok((await redirectOf(defaultUri.url)).searchParams.get("code"));
});

Deno.test("a loopback IP literal registered without a port matches any port, as on Spotify", async () => {
  await using mock = await startMockSpotify({
    autoApprove: true,
    redirectUris: ["http://127.0.0.1/spotify/callback"],
  });
  for (const port of [43827, 50000]) {
    const uri = `http://127.0.0.1:${port}/spotify/callback`;
    const callback = await redirectOf((await startLogin(mock, { redirect_uri: uri })).url);
    assert.equal(callback.origin + callback.pathname, uri);
  }
  const otherPath = "http://127.0.0.1:50000/elsewhere";
  assert.equal(
    await errorPageOf((await startLogin(mock, { redirect_uri: otherPath })).url),
    "INVALID_CLIENT: Invalid redirect URI",
  );
});

Deno.test("redirect URIs the dashboard refuses cannot be registered", async () => {
  for (
    const bad of [
      "http://localhost:43827/spotify/callback",
      "http://example.com/callback",
      "http://192.168.0.26:8000/callback",
      "not a url",
    ]
  ) {
    await assert.rejects(startMockSpotify({ redirectUris: [bad] }), Error, bad);
  }
  await using mock = await startMockSpotify();
  assert.throws(() => mock.redirectUris.push("http://localhost:1/cb"), /localhost/);
  mock.redirectUris.push("https://example.com/callback", "http://[::1]:9/cb");
  assert.equal(mock.redirectUris.length, 3);
});

Deno.test("an unknown scope is the page 'Illegal scope'; response_type must be code", async () => {
  await using mock = await startMockSpotify();
  const illegal = await startLogin(mock, { scope: "user-read-playback-state user-read-birthdate" });
  assert.equal(await errorPageOf(illegal.url), "Illegal scope");
  assert.match(
    await errorPageOf((await startLogin(mock, { response_type: "token" })).url),
    /unsupported_response_type/,
  );
  assert.equal(
    await errorPageOf((await startLogin(mock, { response_type: null })).url),
    "Missing required parameter: response_type",
  );
});

Deno.test("PKCE: plain or a missing challenge goes back as invalid_request with the state", async () => {
  await using mock = await startMockSpotify();
  const plain = await startLogin(mock, { code_challenge_method: "plain" });
  const back = await redirectOf(plain.url);
  assert.equal(back.searchParams.get("error"), "invalid_request");
  assert.match(back.searchParams.get("error_description")!, /S256/);
  assert.equal(back.searchParams.get("state"), plain.state);
  const noChallenge = await redirectOf((await startLogin(mock, { code_challenge: null })).url);
  assert.equal(noChallenge.searchParams.get("error"), "invalid_request");
  const noMethod = await redirectOf((await startLogin(mock, { code_challenge_method: null })).url);
  assert.equal(noMethod.searchParams.get("error"), "invalid_request");
});

Deno.test("a wrong code_verifier is invalid_grant 'code_verifier was incorrect' and burns the code", async () => {
  await using mock = await startMockSpotify();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  const wrong = await exchange(mock, login, code, {
    code_verifier: oauth.generateRandomCodeVerifier(),
  });
  assertTokenError(wrong, 400, "invalid_grant", "code_verifier was incorrect");
  assert.equal(wrong.headers.get("cache-control"), "no-store");
  assertTokenError(
    await exchange(mock, login, code),
    400,
    "invalid_grant",
    "Invalid authorization code",
  );
});

Deno.test("a code is single-use", async () => {
  await using mock = await startMockSpotify();
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  assert.equal((await exchange(mock, login, code)).status, 200);
  assertTokenError(
    await exchange(mock, login, code),
    400,
    "invalid_grant",
    "Invalid authorization code",
  );
  assert.equal(mock.stats.codeExchanges, 2);
});

Deno.test("a code expires after codeTtl", async () => {
  let clock = 1_000_000;
  await using mock = await startMockSpotify({ codeTtl: 30, now: () => clock });
  const login = await startLogin(mock);
  const code = await codeFor(mock, login);
  clock += 30_000;
  assertTokenError(
    await exchange(mock, login, code),
    400,
    "invalid_grant",
    "Authorization code expired",
  );
});

Deno.test("the token request must repeat the authorize redirect_uri and send the verifier", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const login = await startLogin(mock);
  assertTokenError(
    await exchange(mock, login, await codeFor(mock, login), {
      redirect_uri: "http://127.0.0.1:43827/other",
    }),
    400,
    "invalid_grant",
    "Invalid redirect URI",
  );
  assertTokenError(
    await exchange(mock, login, await codeFor(mock, login), { code_verifier: null }),
    400,
    "invalid_request",
    "code_verifier required",
  );
});

Deno.test("a code issued without PKCE cannot be exchanged by a secretless app", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const login = await startLogin(mock, { code_challenge: null, code_challenge_method: null });
  const code = (await redirectOf(login.url)).searchParams.get("code")!;
  assertTokenError(await exchange(mock, login, code), 400, "invalid_grant");
});

Deno.test("client errors at the token endpoint are 400 invalid_client, as Spotify sends them", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const login = await startLogin(mock);
  assertTokenError(
    await exchange(mock, login, await codeFor(mock, login), { client_id: "someone-else" }),
    400,
    "invalid_client",
    "Invalid client",
  );
  assertTokenError(
    await exchange(mock, login, await codeFor(mock, login), { client_id: null }),
    400,
    "invalid_client",
  );
  assertTokenError(
    await exchange(mock, login, await codeFor(mock, login), { client_secret: "guess" }),
    400,
    "invalid_client",
    "Invalid client secret",
  );
});

Deno.test("a token request that is not a form is 'grant_type parameter is missing'", async () => {
  await using mock = await startMockSpotify();
  const response = await fetch(mock.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token" }),
  });
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), {
    error: "unsupported_grant_type",
    error_description: "grant_type parameter is missing",
  });
  assertTokenError(
    await token(mock, { grant_type: "client_credentials", client_id: SPOTIFY_TEST_CLIENT_ID }),
    400,
    "unsupported_grant_type",
  );
});

Deno.test("refresh without rotation: no refresh_token in the answer and the old one keeps working", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const first = await logIn(mock);
  const refreshToken = String(first.refresh_token);
  for (let i = 0; i < 2; i++) {
    const answer = await refresh(mock, refreshToken);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.refresh_token, undefined);
    assert.equal(answer.body.token_type, "Bearer");
    assert.equal(answer.body.expires_in, 3600);
    assert.equal(answer.body.scope, HERMES_SCOPES.join(" "));
    assert.notEqual(answer.body.access_token, first.access_token);
    assert.ok(mock.isValidAccessToken(String(answer.body.access_token)));
  }
  assert.equal(mock.stats.refreshes, 2);
  assert.equal(mock.stats.lastTokenParams?.get("grant_type"), "refresh_token");
});

Deno.test("refresh with rotateRefreshTokens: a new refresh token, and the old one is dead", async () => {
  await using mock = await startMockSpotify({ autoApprove: true, rotateRefreshTokens: true });
  const first = await logIn(mock);
  const answer = await refresh(mock, String(first.refresh_token));
  assert.equal(answer.status, 200);
  assert.ok(answer.body.refresh_token);
  assert.notEqual(answer.body.refresh_token, first.refresh_token);
  assertTokenError(
    await refresh(mock, String(first.refresh_token)),
    400,
    "invalid_grant",
    "Invalid refresh token",
  );
  assert.equal((await refresh(mock, String(answer.body.refresh_token))).status, 200);
});

Deno.test("refresh errors: unknown token, another app, revoked, missing client_id", async () => {
  await using mock = await startMockSpotify({
    autoApprove: true,
    clientIds: [SPOTIFY_TEST_CLIENT_ID, "second-app"],
  });
  const { refresh_token: refreshToken, access_token: accessToken } = await logIn(mock);
  assertTokenError(await refresh(mock, "AQnope"), 400, "invalid_grant", "Invalid refresh token");
  assertTokenError(
    await token(mock, {
      grant_type: "refresh_token",
      refresh_token: String(refreshToken),
      client_id: "second-app",
    }),
    400,
    "invalid_grant",
  );
  assertTokenError(
    await token(mock, { grant_type: "refresh_token", refresh_token: String(refreshToken) }),
    400,
    "invalid_client",
  );
  mock.revokeAll();
  assert.equal(mock.isValidAccessToken(String(accessToken)), false);
  assertTokenError(
    await refresh(mock, String(refreshToken)),
    400,
    "invalid_grant",
    "Refresh token revoked",
  );
});

Deno.test("access tokens expire after accessTokenTtl", async () => {
  let clock = 5_000_000;
  await using mock = await startMockSpotify({
    autoApprove: true,
    accessTokenTtl: 60,
    now: () => clock,
  });
  const body = await logIn(mock);
  assert.equal(body.expires_in, 60);
  assert.ok(mock.isValidAccessToken(String(body.access_token)));
  clock += 60_000;
  assert.equal(mock.isValidAccessToken(String(body.access_token)), false);
  assert.equal(mock.isValidAccessToken("BQnever-issued"), false);
});

Deno.test("faults.tokenStatus hits code exchanges only, faults.refreshStatus refreshes only", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  const { refresh_token: refreshToken } = await logIn(mock);
  const login = await startLogin(mock);
  mock.faults.tokenStatus = 400;
  assertTokenError(await exchange(mock, login, await codeFor(mock, login)), 400, "invalid_grant");
  assert.equal((await refresh(mock, String(refreshToken))).status, 200);
  mock.faults.tokenStatus = undefined;

  const expected: [number, string][] = [
    [400, "invalid_grant"],
    [401, "invalid_client"],
    [429, "too_many_requests"],
    [500, "server_error"],
    [503, "server_error"],
  ];
  for (const [status, error] of expected) {
    mock.faults.refreshStatus = status;
    const answer = await refresh(mock, String(refreshToken));
    assertTokenError(answer, status, error);
    if (status === 429) assert.equal(answer.headers.get("retry-after"), "1");
  }
  mock.faults.refreshStatus = undefined;
  assert.equal((await refresh(mock, String(refreshToken))).status, 200);
});

Deno.test("faults.withholdScopes leaves scopes out of the granted scope", async () => {
  await using mock = await startMockSpotify({ autoApprove: true });
  mock.faults.withholdScopes = ["user-library-modify", "playlist-modify-public"];
  const body = await logIn(mock);
  const granted = String(body.scope).split(" ");
  assert.equal(granted.length, HERMES_SCOPES.length - 2);
  assert.ok(!granted.includes("user-library-modify"));
  assert.ok(!granted.includes("playlist-modify-public"));
});

Deno.test("faults.slowMs delays token answers and closing cuts the delay short", async () => {
  const mock = await startMockSpotify({ autoApprove: true });
  try {
    mock.faults.slowMs = 300;
    const started = Date.now();
    await logIn(mock);
    assert.ok(Date.now() - started >= 300);
    mock.faults.slowMs = 60_000;
    const pending = refresh(mock, "AQanything");
    await new Promise<void>((resolve) => setTimeout(resolve, 100));
    const closing = mock.close();
    const answer = await pending;
    assertTokenError(answer, 503, "temporarily_unavailable");
    await closing;
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await mock.close();
  }
});

Deno.test("unknown paths are 404 and wrong methods 405 with Allow", async () => {
  await using mock = await startMockSpotify();
  const missing = await fetch(`${mock.baseUrl}/oauth2/authorize`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const wrong = await fetch(mock.tokenEndpoint);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  await wrong.body?.cancel();
});

Deno.test("approve() refuses a URL that is not on the mock", async () => {
  await using mock = await startMockSpotify();
  await assert.rejects(
    mock.approve("https://accounts.spotify.com/authorize?client_id=x"),
    /not on this mock/,
  );
});

Deno.test("close() is idempotent and await using closes the server", async () => {
  let baseUrl: string;
  {
    await using mock = await startMockSpotify();
    baseUrl = mock.baseUrl;
    await mock.close();
  }
  await assert.rejects(fetch(`${baseUrl}/authorize`));
});

Deno.test("runs standalone: prints its base URL, serves, stops on SIGTERM", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      new URL("./spotify_mock.ts", import.meta.url).pathname,
      "--auto-approve",
      "--client-id",
      "standalone-app",
      "--redirect-uri",
      "http://127.0.0.1:40000/cb",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    printed += value;
  }
  const baseUrl = printed.trim();
  assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const url = new URL(`${baseUrl}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: "standalone-app",
    redirect_uri: "http://127.0.0.1:40000/cb",
  }).toString();
  const callback = await redirectOf(url);
  assert.ok(callback.searchParams.get("code"));
  child.kill("SIGTERM");
  const status = await child.status;
  // stdout is locked by pipeThrough: cancel through the reader, which cancels the pipe.
  await reader.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});

Deno.test("a bad registration on the standalone command line exits 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      new URL("./spotify_mock.ts", import.meta.url).pathname,
      "--redirect-uri",
      "http://localhost:1/cb",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /localhost is not allowed/);
});
