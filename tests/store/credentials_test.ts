import assert from "node:assert/strict";
import { type AuthFile, emptyAuthFile } from "../../lib/store/auth_store.ts";
import {
  applyLogin,
  decodeJwtClaims,
  labelFromToken,
  type LoginRecord,
  readLogin,
} from "../../lib/store/credentials.ts";

const NOW = new Date("2025-06-01T12:00:00.250Z");

function b64url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function jwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url(claims)}.signature`;
}

const XAI = {
  id: "xai-oauth",
  storage: "xai" as const,
  scopes: ["openid", "offline_access"],
  models: { baseUrl: "https://api.x.ai/v1", defaultModel: "grok-4.3", models: ["grok-4.3"] },
};
const SPOTIFY = {
  id: "spotify",
  storage: "spotify" as const,
  scopes: ["user-read-playback-state", "user-library-read"],
  apiBaseUrl: "https://api.spotify.com/v1",
};
const CUSTOM = { id: "acme", storage: "generic" as const, scopes: ["openid"] };

function xaiLogin(overrides: Partial<LoginRecord> = {}): LoginRecord {
  return {
    provider: XAI,
    tokens: {
      access_token: "x-access",
      refresh_token: "x-refresh",
      id_token: "x-id",
      expires_in: 3600,
      token_type: "Bearer",
    },
    authMode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: "https://auth.x.ai/oauth2/token",
      device_authorization_endpoint: "https://auth.x.ai/oauth2/device/code",
    },
    redirectUri: "http://127.0.0.1:56121/callback",
    clientId: "b1a00492-073a-47ea-816f-4c329264a828",
    now: NOW,
    ...overrides,
  };
}

function spotifyLogin(overrides: Partial<LoginRecord> = {}): LoginRecord {
  return {
    provider: SPOTIFY,
    tokens: {
      access_token: "s-access",
      refresh_token: "s-refresh",
      expires_in: 3600,
      token_type: "Bearer",
    },
    authMode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://accounts.spotify.com/authorize",
      token_endpoint: "https://accounts.spotify.com/api/token",
    },
    redirectUri: "http://127.0.0.1:43827/spotify/callback",
    clientId: "my-spotify-app",
    now: NOW,
    ...overrides,
  };
}

const ROW_KEYS = [
  "access_token",
  "auth_type",
  "base_url",
  "expires_at",
  "expires_in",
  "id",
  "label",
  "last_error_code",
  "last_error_message",
  "last_error_reason",
  "last_error_reset_at",
  "last_refresh",
  "last_status",
  "last_status_at",
  "priority",
  "refresh_token",
  "request_count",
  "source",
];

/** The state Hermes's `_save_xai_oauth_tokens` writes, with its mirror row as `load_pool` seeds it. */
function hermesState(data: AuthFile, access = "h-access", refresh = "h-refresh", idToken = "") {
  data.providers["xai-oauth"] = {
    tokens: {
      access_token: access,
      refresh_token: refresh,
      id_token: idToken,
      expires_in: 3600,
      token_type: "Bearer",
    },
    last_refresh: "2025-06-01T11:00:00Z",
    auth_mode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: "https://auth.x.ai/oauth2/token",
    },
    redirect_uri: "http://127.0.0.1:56121/callback",
  };
  (data.credential_pool ??= {})["xai-oauth"] = [{
    id: "aaa111",
    label: "h@example.com",
    auth_type: "oauth",
    priority: 0,
    source: "device_code",
    access_token: access,
    refresh_token: refresh,
    base_url: "https://api.x.ai/v1",
    last_refresh: "2025-06-01T11:00:00Z",
    last_status: null,
    request_count: 0,
  }];
}

Deno.test("a first xAI login is one manual row with exactly Hermes's row field names, and no login state", () => {
  const data = emptyAuthFile();
  const stored = applyLogin(data, xaiLogin());
  assert.equal(data.providers["xai-oauth"], undefined);
  const rows = data.credential_pool!["xai-oauth"];
  assert.equal(rows.length, 1);
  const row = rows[0];
  assert.deepEqual(Object.keys(row).sort(), ROW_KEYS);
  assert.match(row.id, /^[0-9a-f]{6}$/);
  assert.deepEqual({ ...row, id: "<id>" }, {
    id: "<id>",
    label: "xai-oauth-oauth-1",
    auth_type: "oauth",
    priority: 0,
    source: "manual:loopback_pkce",
    access_token: "x-access",
    refresh_token: "x-refresh",
    base_url: "https://api.x.ai/v1",
    expires_at: "2025-06-01T13:00:00.250000+00:00",
    expires_in: 3600,
    last_refresh: "2025-06-01T12:00:00.250000Z",
    last_status: "ok",
    last_status_at: null,
    last_error_code: null,
    last_error_reason: null,
    last_error_message: null,
    last_error_reset_at: null,
    request_count: 0,
  });
  assert.deepEqual(stored, {
    outcome: "added",
    ref: { kind: "row", id: row.id },
    index: 1,
    id: row.id,
    label: "xai-oauth-oauth-1",
    account: null,
    unsure: [],
  });
  assert.equal(data.active_provider, "xai-oauth");
});

Deno.test("a device-code login's row is manual:device_code", () => {
  const data = emptyAuthFile();
  applyLogin(data, xaiLogin({ authMode: "oauth_device_code", redirectUri: "" }));
  assert.equal(data.credential_pool!["xai-oauth"][0].source, "manual:device_code");
});

Deno.test("missing expires_in and refresh_token are left out of the row, as Hermes's to_dict does", () => {
  const data = emptyAuthFile();
  applyLogin(data, xaiLogin({ tokens: { access_token: "a" } }));
  const row = data.credential_pool!["xai-oauth"][0];
  for (const key of ["expires_at", "expires_in", "refresh_token"]) {
    assert.equal(key in row, false, key);
  }
});

Deno.test("a re-login of Hermes's login writes exactly Hermes's xai-oauth state and updates its row", () => {
  const data = emptyAuthFile();
  hermesState(data);
  // Opaque tokens on both sides: the one login there is.
  const stored = applyLogin(data, xaiLogin())!;
  assert.deepEqual(data.providers["xai-oauth"], {
    tokens: {
      access_token: "x-access",
      refresh_token: "x-refresh",
      id_token: "x-id",
      expires_in: 3600,
      token_type: "Bearer",
    },
    last_refresh: "2025-06-01T12:00:00.250000Z",
    auth_mode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: "https://auth.x.ai/oauth2/token",
    },
    redirect_uri: "http://127.0.0.1:56121/callback",
  });
  assert.deepEqual([stored.outcome, stored.index, stored.id, stored.label], [
    "updated",
    1,
    "aaa111",
    "h@example.com",
  ]);
  const rows = data.credential_pool!["xai-oauth"];
  assert.equal(rows.length, 1);
  assert.equal(rows[0].access_token, "x-access");
  assert.equal(rows[0].refresh_token, "x-refresh");
  // The mirror gets the state's last_refresh and keeps its base_url, as Hermes's seeding would.
  assert.equal(rows[0].last_refresh, data.providers["xai-oauth"].last_refresh);
  assert.equal(rows[0].base_url, "https://api.x.ai/v1");
});

Deno.test("missing id_token, expires_in and token_type are stored in the state as Hermes does", () => {
  const data = emptyAuthFile();
  hermesState(data);
  applyLogin(data, xaiLogin({ tokens: { access_token: "a", refresh_token: "r" } }));
  assert.deepEqual(data.providers["xai-oauth"].tokens, {
    access_token: "a",
    refresh_token: "r",
    id_token: "",
    expires_in: null,
    token_type: "Bearer",
  });
});

Deno.test("a device-code re-login stores no redirect_uri and drops a stale one", () => {
  const data = emptyAuthFile();
  hermesState(data);
  applyLogin(data, xaiLogin({ authMode: "oauth_device_code", redirectUri: "" }));
  const state = data.providers["xai-oauth"];
  assert.equal(state.auth_mode, "oauth_device_code");
  assert.equal("redirect_uri" in state, false);
});

Deno.test("a re-login keeps fields Hermes added to the state but clears last_auth_error", () => {
  const data = emptyAuthFile();
  hermesState(data);
  Object.assign(data.providers["xai-oauth"], {
    hermes_added: { keep: true },
    last_auth_error: { code: "xai_refresh_failed", relogin_required: true },
  });
  (data.providers["xai-oauth"].tokens as Record<string, unknown>).hermes_token_extra = 1;
  applyLogin(data, xaiLogin());
  const state = data.providers["xai-oauth"];
  assert.deepEqual(state.hermes_added, { keep: true });
  assert.equal("last_auth_error" in state, false);
  assert.deepEqual(Object.keys(state.tokens as object).sort(), [
    "access_token",
    "expires_in",
    "id_token",
    "refresh_token",
    "token_type",
  ], "tokens is replaced whole, as Hermes's state.update(tokens=…) does");
});

Deno.test("a login leaves other providers and their pools alone", () => {
  const data = emptyAuthFile();
  data.providers.nous = { access_token: "n" };
  data.credential_pool = {
    nous: [{ id: "aaaaaa", label: "n", auth_type: "oauth", priority: 0, source: "device_code" }],
  };
  const before = structuredClone({
    providers: data.providers.nous,
    pool: data.credential_pool.nous,
  });
  applyLogin(data, xaiLogin());
  assert.deepEqual({ providers: data.providers.nous, pool: data.credential_pool.nous }, before);
});

Deno.test("a re-login of a dead mirrored login revives its row in place, keeping Hermes's extra keys", () => {
  const data = emptyAuthFile();
  hermesState(data, "h-access", "h-refresh", jwt({ sub: "u-1", iss: "https://auth.x.ai" }));
  const row = data.credential_pool!["xai-oauth"][0];
  // Quarantined: tokens gone from the state (id_token kept), the row dead.
  const tokens = data.providers["xai-oauth"].tokens as Record<string, unknown>;
  delete tokens.access_token;
  delete tokens.refresh_token;
  Object.assign(row, {
    access_token: "",
    last_status: "dead",
    last_status_at: 1700000000.5,
    last_error_code: 401,
    last_error_reason: "invalid_grant",
    hermes_row_extra: "kept",
  });
  delete row.refresh_token;
  const stored = applyLogin(
    data,
    xaiLogin({
      tokens: { access_token: "new-a", refresh_token: "new-r", id_token: jwt({ sub: "u-1" }) },
    }),
  )!;
  const rows = data.credential_pool!["xai-oauth"];
  assert.equal(rows.length, 1);
  assert.deepEqual([stored.outcome, stored.id], ["updated", "aaa111"]);
  assert.equal(rows[0].access_token, "new-a");
  assert.equal(rows[0].refresh_token, "new-r");
  assert.equal(rows[0].last_status, "ok");
  assert.equal(rows[0].last_status_at, null);
  assert.equal(rows[0].last_error_code, null);
  assert.equal(rows[0].last_error_reason, null);
  assert.equal(rows[0].hermes_row_extra, "kept");
  assert.equal(
    (data.providers["xai-oauth"].tokens as Record<string, unknown>).access_token,
    "new-a",
  );
});

Deno.test("a login of another account next to Hermes's login adds an independent row after it", () => {
  const data = emptyAuthFile();
  hermesState(data, "h-access", "h-refresh", jwt({ sub: "u-1" }));
  const stored = applyLogin(
    data,
    xaiLogin({
      tokens: { access_token: "b", refresh_token: "b-r", id_token: jwt({ sub: "u-2" }) },
    }),
  )!;
  const rows = data.credential_pool!["xai-oauth"];
  assert.equal(rows.length, 2);
  assert.deepEqual([stored.outcome, stored.index, stored.label], ["added", 2, "u-2"]);
  assert.equal(rows[1].priority, 1);
  assert.equal(rows[1].source, "manual:loopback_pkce");
  assert.equal(
    data.providers["xai-oauth"].tokens &&
      (data.providers["xai-oauth"].tokens as Record<string, unknown>).refresh_token,
    "h-refresh",
  );
});

Deno.test("the label is --label, else the token's email, else <provider>-oauth-<N>", () => {
  const withEmail = jwt({ email: "grok@example.com", exp: 1 });
  const data = emptyAuthFile();
  assert.equal(
    applyLogin(data, xaiLogin({ tokens: { access_token: withEmail } }))!.label,
    "grok@example.com",
  );
  assert.equal(applyLogin(emptyAuthFile(), xaiLogin({ label: "work" }))!.label, "work");
  assert.equal(labelFromToken(jwt({ preferred_username: "pu" })), "pu");
  assert.equal(labelFromToken("not-a-jwt"), undefined);
});

Deno.test("row ids are 6 hex characters, unique within the provider", () => {
  const data = emptyAuthFile();
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const account = jwt({ sub: `u-${i}` });
    ids.add(applyLogin(data, xaiLogin({ tokens: { access_token: account } }))!.id!);
  }
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^[0-9a-f]{6}$/);
});

Deno.test("a login lifts every Hermes suppression of the provider, as hermes auth add does", () => {
  const data: AuthFile = {
    ...emptyAuthFile(),
    suppressed_sources: {
      "xai-oauth": ["device_code", "loopback_pkce"],
      openrouter: ["env:OPENROUTER_API_KEY"],
    },
  };
  applyLogin(data, xaiLogin());
  assert.deepEqual(data.suppressed_sources, { openrouter: ["env:OPENROUTER_API_KEY"] });
  const only: AuthFile = {
    ...emptyAuthFile(),
    suppressed_sources: { "xai-oauth": ["device_code"] },
  };
  applyLogin(only, xaiLogin());
  assert.equal("suppressed_sources" in only, false);
});

Deno.test("a Spotify login writes exactly Hermes's flat spotify state", () => {
  const data = emptyAuthFile();
  applyLogin(
    data,
    spotifyLogin({
      tokens: {
        access_token: "s-access",
        refresh_token: "s-refresh",
        expires_in: 3600,
        scope: "user-library-read",
      },
    }),
  );
  assert.deepEqual(data.providers.spotify, {
    client_id: "my-spotify-app",
    redirect_uri: "http://127.0.0.1:43827/spotify/callback",
    accounts_base_url: "https://accounts.spotify.com",
    api_base_url: "https://api.spotify.com/v1",
    scope: "user-read-playback-state user-library-read",
    granted_scope: "user-library-read",
    token_type: "Bearer",
    access_token: "s-access",
    refresh_token: "s-refresh",
    obtained_at: "2025-06-01T12:00:00.250000+00:00",
    expires_at: "2025-06-01T13:00:00.250000+00:00",
    expires_in: 3600,
    auth_type: "oauth_pkce",
  });
});

Deno.test("Spotify stays out of the pool and never becomes the active provider", () => {
  const data = emptyAuthFile();
  data.active_provider = "xai-oauth";
  const stored = applyLogin(data, spotifyLogin());
  assert.equal(stored, null);
  assert.equal(data.active_provider, "xai-oauth");
  assert.deepEqual(data.credential_pool, {});
});

Deno.test("a Spotify login without a scope in the response grants the requested scope", () => {
  const data = emptyAuthFile();
  applyLogin(data, spotifyLogin());
  assert.equal(data.providers.spotify.granted_scope, "user-read-playback-state user-library-read");
});

Deno.test("the Spotify accounts base follows an overridden token endpoint", () => {
  const data = emptyAuthFile();
  applyLogin(
    data,
    spotifyLogin({
      discovery: {
        authorization_endpoint: "http://127.0.0.1:9/authorize",
        token_endpoint: "http://127.0.0.1:9/api/token",
      },
    }),
  );
  assert.equal(data.providers.spotify.accounts_base_url, "http://127.0.0.1:9");
});

Deno.test("a generic login's row carries the client id the refresh needs (Hermes round-trips client_id)", () => {
  const data = emptyAuthFile();
  applyLogin(data, xaiLogin({ provider: CUSTOM, clientId: "acme-client" }));
  assert.equal(data.providers.acme, undefined);
  const [row] = data.credential_pool!.acme;
  assert.equal(row.client_id, "acme-client");
  assert.equal("base_url" in row, false);
  assert.equal(data.active_provider, "acme");
});

Deno.test("a generic re-login of its state is the xAI layout plus client_id and expires_at", () => {
  const data = emptyAuthFile();
  data.providers.acme = { tokens: { access_token: "old", refresh_token: "old-r" } };
  applyLogin(data, xaiLogin({ provider: CUSTOM, clientId: "acme-client" }));
  const state = data.providers.acme;
  assert.deepEqual(Object.keys(state).sort(), [
    "auth_mode",
    "client_id",
    "discovery",
    "expires_at",
    "last_refresh",
    "redirect_uri",
    "tokens",
  ]);
  assert.equal(state.client_id, "acme-client");
  assert.equal(state.expires_at, "2025-06-01T13:00:00.250000+00:00");
  assert.equal(data.credential_pool!.acme.length, 0, "no mirror row: Hermes never seeds one");
});

Deno.test("readLogin reads back what applyLogin wrote, in each layout", () => {
  const data = emptyAuthFile();
  hermesState(data);
  applyLogin(data, xaiLogin());
  applyLogin(data, spotifyLogin());
  data.providers.acme = { tokens: { access_token: "old" } };
  applyLogin(data, xaiLogin({ provider: CUSTOM, clientId: "acme-client" }));
  const hour = new Date(NOW.getTime() + 3600_000);
  assert.deepEqual(readLogin(data, "xai-oauth", "xai"), {
    accessToken: "x-access",
    refreshToken: "x-refresh",
    expiresAt: hour,
    tokenType: "Bearer",
    tokenEndpoint: "https://auth.x.ai/oauth2/token",
    clientId: undefined,
    lastRefresh: "2025-06-01T12:00:00.250000Z",
  });
  assert.deepEqual(readLogin(data, "spotify", "spotify"), {
    accessToken: "s-access",
    refreshToken: "s-refresh",
    expiresAt: hour,
    tokenType: "Bearer",
    clientId: "my-spotify-app",
    lastRefresh: "2025-06-01T12:00:00.250000+00:00",
  });
  const acme = readLogin(data, "acme", "generic")!;
  assert.equal(acme.clientId, "acme-client");
  assert.deepEqual(acme.expiresAt, hour);
});

Deno.test("readLogin takes the earliest of expires_at, last_refresh + expires_in and the JWT exp", () => {
  const data = emptyAuthFile();
  data.providers.p = {
    tokens: { access_token: jwt({ exp: 1_900_000_000 }), expires_in: 60 },
    last_refresh: "2025-06-01T12:00:00Z",
    expires_at: "2030-01-01T00:00:00+00:00",
  };
  assert.deepEqual(readLogin(data, "p", "generic")!.expiresAt, new Date("2025-06-01T12:01:00Z"));
  (data.providers.p.tokens as Record<string, unknown>).expires_in = 10 ** 9;
  assert.deepEqual(readLogin(data, "p", "generic")!.expiresAt, new Date("2030-01-01T00:00:00Z"));
  data.providers.p.expires_at = null;
  assert.deepEqual(readLogin(data, "p", "generic")!.expiresAt, new Date(1_900_000_000_000));
});

Deno.test("readLogin uses last_refresh + expires_in when it is the earliest", () => {
  const data = emptyAuthFile();
  data.providers.p = {
    tokens: { access_token: jwt({ exp: 1_900_000_000 }), expires_in: 120 },
    last_refresh: "2025-06-01T12:00:00.500000Z",
  };
  assert.deepEqual(readLogin(data, "p", "xai")!.expiresAt, new Date("2025-06-01T12:02:00.500Z"));
  data.providers.s = {
    access_token: "s",
    obtained_at: "2025-06-01T12:00:00+00:00",
    expires_in: "30",
  };
  assert.deepEqual(readLogin(data, "s", "spotify")!.expiresAt, new Date("2025-06-01T12:00:30Z"));
});

Deno.test("readLogin uses the access token's JWT exp alone when nothing else is known, else null", () => {
  const data = emptyAuthFile();
  data.providers.p = { tokens: { access_token: jwt({ exp: 1_900_000_000 }), expires_in: null } };
  assert.deepEqual(readLogin(data, "p", "xai")!.expiresAt, new Date(1_900_000_000_000));
  data.providers.q = { tokens: { access_token: "opaque" } };
  assert.equal(readLogin(data, "q", "xai")!.expiresAt, null);
});

Deno.test("readLogin is null without a stored login or once Hermes quarantined its tokens", () => {
  const data = emptyAuthFile();
  assert.equal(readLogin(data, "xai-oauth", "xai"), null);
  data.providers["xai-oauth"] = {
    tokens: { id_token: "", token_type: "Bearer" },
    last_auth_error: { code: "x" },
  };
  assert.equal(readLogin(data, "xai-oauth", "xai"), null);
  data.providers.spotify = { client_id: "c" };
  assert.equal(readLogin(data, "spotify", "spotify"), null);
});

Deno.test("decodeJwtClaims reads a base64url payload and ignores what is not a JWT", () => {
  assert.deepEqual(decodeJwtClaims(jwt({ sub: "u", n: "ü?>" })), { sub: "u", n: "ü?>" });
  assert.deepEqual(decodeJwtClaims("a.b"), {});
  assert.deepEqual(decodeJwtClaims("a.!!!.c"), {});
});
