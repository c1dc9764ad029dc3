import assert from "node:assert/strict";
import { type AuthFile, emptyAuthFile, type PoolRow } from "../../lib/store/auth_store.ts";
import {
  applyLogin,
  applyRefresh,
  lastAuthError,
  type LoginRecord,
  markLoginDead,
  pickCredential,
  readLogin,
  storedIssuer,
} from "../../lib/store/credentials.ts";
import { hermesLogin } from "../hermes/eras.ts";

const NOW = new Date("2025-06-01T12:00:00.250Z");
const LATER = new Date("2025-06-01T12:59:00Z");

const XAI = {
  id: "xai-oauth",
  storage: "xai" as const,
  scopes: ["openid", "offline_access"],
  models: { baseUrl: "https://api.x.ai/v1", defaultModel: "grok-4.3", models: ["grok-4.3"] },
};
const SPOTIFY = { id: "spotify", storage: "spotify" as const, scopes: ["user-library-read"] };

function b64url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function jwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: "RS256" })}.${b64url(claims)}.sig`;
}

function xaiLogin(overrides: Partial<LoginRecord> = {}): LoginRecord {
  return {
    provider: XAI,
    tokens: {
      access_token: "x-access",
      refresh_token: "x-refresh",
      id_token: jwt({ iss: "https://auth.x.ai", aud: "client" }),
      expires_in: 3600,
      token_type: "Bearer",
    },
    authMode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: "https://auth.x.ai/oauth2/token",
    },
    redirectUri: "http://127.0.0.1:56121/callback",
    clientId: "client",
    now: NOW,
    ...overrides,
  };
}

/** Hermes's own xAI login: `providers["xai-oauth"]` and the `device_code` row it seeds. */
function xaiFile(): AuthFile {
  const { tokens } = xaiLogin();
  return hermesLogin("device_code", {
    ...tokens,
    refresh_token: tokens.refresh_token!,
  }, { now: NOW }) as AuthFile;
}

function row(fields: Partial<PoolRow> & { id: string }): PoolRow {
  return {
    label: fields.id,
    auth_type: "oauth",
    priority: 0,
    source: "manual:device_code",
    last_status: "ok",
    ...fields,
  };
}

Deno.test("the login state is picked through the pool row that mirrors it", () => {
  const data = xaiFile();
  const picked = pickCredential(data, XAI, NOW)!;
  assert.deepEqual(picked.ref, { kind: "state" });
  assert.equal(picked.login.accessToken, "x-access");
  assert.equal(picked.row?.source, "device_code");
});

Deno.test("a Hermes file with state but no pool row still gives its login", () => {
  const data = xaiFile();
  delete data.credential_pool;
  const picked = pickCredential(data, XAI, NOW)!;
  assert.deepEqual(picked.ref, { kind: "state" });
  assert.equal(picked.row, undefined);
});

Deno.test("rows are taken by priority; a dead row and a quarantined login are skipped", () => {
  const data = xaiFile();
  const pool = data.credential_pool!["xai-oauth"];
  pool[0].priority = 2;
  pool.push(row({ id: "aaaaaa", priority: 0, access_token: "dead", last_status: "dead" }));
  pool.push(row({ id: "bbbbbb", priority: 1, access_token: "b-access", refresh_token: "b-r" }));
  assert.deepEqual(pickCredential(data, XAI, NOW)!.ref, { kind: "row", id: "bbbbbb" });
  pool[2].priority = 5;
  assert.deepEqual(pickCredential(data, XAI, NOW)!.ref, { kind: "state" });
  markLoginDead(data, { provider: XAI, ref: { kind: "state" }, message: "gone", now: NOW });
  assert.deepEqual(pickCredential(data, XAI, NOW)!.ref, { kind: "row", id: "bbbbbb" });
});

Deno.test("an expired row that cannot be refreshed loses to a usable one behind it", () => {
  const data = emptyAuthFile();
  data.credential_pool = {
    "xai-oauth": [
      row({ id: "aaaaaa", priority: 0, access_token: "a", expires_at: "2025-06-01T11:00:00Z" }),
      row({ id: "bbbbbb", priority: 1, access_token: "b", expires_at: "2025-06-01T13:00:00Z" }),
    ],
  };
  assert.deepEqual(pickCredential(data, XAI, NOW)!.ref, { kind: "row", id: "bbbbbb" });
  data.credential_pool["xai-oauth"][1].last_status = "exhausted";
  assert.deepEqual(
    pickCredential(data, XAI, NOW)!.ref,
    { kind: "row", id: "bbbbbb" },
    "an exhausted but valid row still beats an unusable one",
  );
});

Deno.test("nothing stored: no credential", () => {
  assert.equal(pickCredential(emptyAuthFile(), XAI, NOW), null);
});

Deno.test("a refresh rotates the tokens in the state and its mirror row, and nothing else", () => {
  const data = xaiFile();
  data.providers.other = { keep: [1, 2] };
  data.providers["xai-oauth"].hermes_field = "kept";
  data.providers["xai-oauth"].last_auth_error = { message: "old" };
  data.future = { x: 1 };
  const before = structuredClone(data);
  const stored = applyRefresh(data, {
    provider: XAI,
    ref: { kind: "state" },
    tokens: { access_token: "new-access", refresh_token: "new-refresh", expires_in: 1800 },
    tokenEndpoint: "https://auth.x.ai/oauth2/token",
    now: LATER,
  });
  const state = data.providers["xai-oauth"];
  assert.deepEqual(state.tokens, {
    access_token: "new-access",
    refresh_token: "new-refresh",
    id_token: (before.providers["xai-oauth"].tokens as Record<string, unknown>).id_token,
    expires_in: 1800,
    token_type: "Bearer",
  });
  assert.equal(state.last_refresh, "2025-06-01T12:59:00Z");
  assert.deepEqual(state.discovery, before.providers["xai-oauth"].discovery);
  assert.equal(state.hermes_field, "kept");
  assert.equal("last_auth_error" in state, false);
  const mirror = data.credential_pool!["xai-oauth"][0];
  assert.equal(mirror.access_token, "new-access");
  assert.equal(mirror.refresh_token, "new-refresh");
  assert.equal(mirror.expires_at, "2025-06-01T13:29:00+00:00");
  assert.equal(mirror.last_status, "ok");
  assert.deepEqual(stored.expiresAt, new Date("2025-06-01T13:29:00Z"));
  assert.deepEqual(data.providers.other, { keep: [1, 2] });
  assert.deepEqual(data.future, { x: 1 });
  assert.equal(data.active_provider, before.active_provider);
});

Deno.test("a refresh without a new refresh token keeps the old one (no rotation)", () => {
  const data = xaiFile();
  applyRefresh(data, {
    provider: XAI,
    ref: { kind: "state" },
    tokens: { access_token: "new-access" },
    now: LATER,
  });
  const login = readLogin(data, "xai-oauth", "xai")!;
  assert.equal(login.refreshToken, "x-refresh");
  assert.equal(data.credential_pool!["xai-oauth"][0].refresh_token, "x-refresh");
  assert.equal(
    (data.providers["xai-oauth"].tokens as Record<string, unknown>).expires_in,
    null,
    "no expires_in: expiry falls back to the JWT",
  );
});

Deno.test("a Spotify refresh writes the flat layout, keeping the refresh token when none comes", () => {
  const data = emptyAuthFile();
  applyLogin(data, {
    ...xaiLogin(),
    provider: SPOTIFY,
    tokens: { access_token: "s1", refresh_token: "sr", expires_in: 3600, token_type: "Bearer" },
    discovery: {
      authorization_endpoint: "https://accounts.spotify.com/authorize",
      token_endpoint: "https://accounts.spotify.com/api/token",
    },
  });
  applyRefresh(data, {
    provider: SPOTIFY,
    ref: { kind: "state" },
    tokens: { access_token: "s2", expires_in: 600, scope: "user-library-read" },
    now: LATER,
  });
  const state = data.providers.spotify;
  assert.equal(state.access_token, "s2");
  assert.equal(state.refresh_token, "sr");
  assert.equal(state.obtained_at, "2025-06-01T12:59:00+00:00");
  assert.equal(state.expires_at, "2025-06-01T13:09:00+00:00");
  assert.equal(state.expires_in, 600);
  assert.equal(data.credential_pool?.spotify, undefined);
});

Deno.test("an independent row is refreshed in place, leaving the state alone", () => {
  const data = xaiFile();
  data.credential_pool!["xai-oauth"].push(
    row({ id: "cccccc", priority: 1, access_token: "c", refresh_token: "cr" }),
  );
  applyRefresh(data, {
    provider: XAI,
    ref: { kind: "row", id: "cccccc" },
    tokens: { access_token: "c2", refresh_token: "cr2", expires_in: 60 },
    now: LATER,
  });
  const [mirror, other] = data.credential_pool!["xai-oauth"];
  assert.equal(other.access_token, "c2");
  assert.equal(other.refresh_token, "cr2");
  assert.equal(other.expires_at, "2025-06-01T13:00:00+00:00");
  assert.equal(mirror.access_token, "x-access");
  assert.equal(readLogin(data, "xai-oauth", "xai")!.accessToken, "x-access");
});

Deno.test("a dead xAI login is quarantined exactly as Hermes does it", () => {
  const data = xaiFile();
  data.providers.other = { keep: true };
  const idToken = (data.providers["xai-oauth"].tokens as Record<string, unknown>).id_token;
  markLoginDead(data, {
    provider: XAI,
    ref: { kind: "state" },
    message: "rejected: HTTP 400 invalid_grant",
    status: 400,
    reason: "invalid_grant",
    now: LATER,
  });
  const state = data.providers["xai-oauth"];
  assert.deepEqual(state.tokens, { id_token: idToken, expires_in: 3600, token_type: "Bearer" });
  assert.deepEqual(state.last_auth_error, {
    provider: "xai-oauth",
    message: "rejected: HTTP 400 invalid_grant",
    reason: "runtime_refresh_failure",
    relogin_required: true,
    code: "xai_refresh_failed",
    at: "2025-06-01T12:59:00+00:00",
  });
  const mirror = data.credential_pool!["xai-oauth"][0];
  assert.equal(mirror.access_token, "");
  assert.equal("refresh_token" in mirror, false);
  assert.equal(mirror.last_status, "dead");
  assert.equal(mirror.last_error_code as unknown, 400);
  assert.equal(mirror.last_error_reason, "invalid_grant");
  assert.equal(mirror.last_status_at as unknown, LATER.getTime() / 1000);
  assert.equal(data.active_provider, "xai-oauth", "quarantine leaves active_provider alone");
  assert.deepEqual(data.providers.other, { keep: true });
  assert.equal(readLogin(data, "xai-oauth", "xai"), null);
  assert.deepEqual(lastAuthError(data, "xai-oauth"), {
    code: "xai_refresh_failed",
    message: "rejected: HTTP 400 invalid_grant",
    at: "2025-06-01T12:59:00+00:00",
    reloginRequired: true,
  });
});

Deno.test("a dead Spotify login loses its tokens and expiry fields, with Spotify's code", () => {
  const data = emptyAuthFile();
  data.providers.spotify = {
    client_id: "app",
    access_token: "s",
    refresh_token: "r",
    expires_at: "x",
    expires_in: 1,
    obtained_at: "y",
    scope: "a",
  };
  markLoginDead(data, { provider: SPOTIFY, ref: { kind: "state" }, message: "no", now: LATER });
  const { last_auth_error: marker, ...rest } = data.providers.spotify;
  assert.deepEqual(rest, { client_id: "app", scope: "a" });
  assert.equal((marker as Record<string, unknown>).code, "spotify_refresh_failed");
});

Deno.test("a dead pool row tells its failure when the state has none", () => {
  const data = emptyAuthFile();
  data.credential_pool = {
    "xai-oauth": [row({ id: "dddddd", access_token: "d", refresh_token: "dr" })],
  };
  markLoginDead(data, {
    provider: XAI,
    ref: { kind: "row", id: "dddddd" },
    message: "refused",
    status: 401,
    reason: "invalid_client",
    now: LATER,
  });
  assert.equal(pickCredential(data, XAI, LATER), null);
  assert.deepEqual(lastAuthError(data, "xai-oauth"), {
    code: "invalid_client",
    message: "refused",
    at: "2025-06-01T12:59:00.000Z",
    reloginRequired: true,
  });
});

Deno.test("storedIssuer reads the issuer as the provider spells it from the stored ID token", () => {
  assert.equal(storedIssuer(xaiFile(), "xai-oauth"), "https://auth.x.ai");
  assert.equal(storedIssuer(emptyAuthFile(), "xai-oauth"), undefined);
});
