/**
 * A login in Hermes's layout: what `providers[<id>]` and
 * `credential_pool[<id>]` look like after a sign-in, which stored credential
 * to use ({@link pickCredential}), what a refresh writes ({@link applyRefresh})
 * and how a login whose refresh token was refused is quarantined
 * ({@link markLoginDead}, docs/hermes-compat.md §6). Pure functions over an
 * {@link AuthFile}; the caller wraps them in `updateAuthFile` / `readAuthFile`.
 *
 * Layouts (docs/hermes-compat.md):
 * - `xai`: `tokens{access_token, refresh_token, id_token, expires_in,
 *   token_type}`, `last_refresh` (Z form), `auth_mode`, `discovery{
 *   authorization_endpoint, token_endpoint}`, `redirect_uri` (not for a
 *   device-code login). Mirrored by a pool row with source `device_code`, the
 *   row Hermes's `load_pool` itself seeds from this state and keeps in step
 *   with it. Makes the provider active.
 * - `generic`: as `xai`, plus `client_id` and `expires_at`.
 * - `spotify`: flat `client_id, redirect_uri, accounts_base_url, scope,
 *   granted_scope, token_type, access_token, refresh_token, obtained_at,
 *   expires_at, expires_in, auth_type`. Hermes keeps Spotify out of the pool
 *   and never makes it the active (inference) provider; neither does this.
 *
 * @module
 */

import type { ProviderSpec } from "../providers/types.ts";
import type { AuthFile, PoolRow } from "./auth_store.ts";
import { isoUtc, isoUtcZ, parseTimestamp } from "./timestamps.ts";

/** A token endpoint response, as far as storage cares. */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

/** Everything {@link applyLogin} stores about one sign-in. */
export interface LoginRecord {
  /** The provider; pass the full ProviderSpec and its `models.baseUrl` lands in the pool row. */
  provider: Pick<ProviderSpec, "id" | "storage" | "scopes"> & Partial<Pick<ProviderSpec, "models">>;
  tokens: TokenSet;
  authMode: "oauth_pkce" | "oauth_device_code";
  discovery: {
    authorization_endpoint: string;
    token_endpoint: string;
    device_authorization_endpoint?: string;
  };
  /** The redirect URI actually used; ignored (and not stored) for a device-code login. */
  redirectUri: string;
  clientId: string;
  /**
   * Pool row label. Default: the JWT's `email` / `preferred_username` / `upn`
   * (Hermes's `label_from_token`), else the label of the row being replaced,
   * else `<provider id>-oauth-<N>` with N the row's 1-based position.
   */
  label?: string;
  /**
   * Pool row source. Default `device_code`: the row that mirrors
   * `providers[<id>]`, replaced in place on every login (Hermes's seeding
   * keys it by source, and two rows sharing one rotating refresh token would
   * revoke each other). A `manual` / `manual:*` source adds an independent
   * row instead, as `hermes auth add` does.
   */
  source?: string;
  /** Inference base URL for the pool row; default `provider.models.baseUrl`. */
  baseUrl?: string;
  now: Date;
}

/** The pool row a login wrote. */
export interface StoredLogin {
  /** 1-based position in the pool, in priority order (what `list` shows as #N). */
  index: number;
  /** 6 hex characters. */
  id: string;
  label: string;
}

/** What {@link readLogin} finds. */
export interface StoredToken {
  accessToken: string;
  refreshToken?: string;
  /** From `expires_at`, else last refresh + `expires_in`, else the access token's JWT `exp`; null when unknown. */
  expiresAt: Date | null;
  tokenType: string;
  tokenEndpoint?: string;
  clientId?: string;
  /** `last_refresh` (`obtained_at` in the Spotify layout). */
  lastRefresh?: string;
}

/** How each storage layout behaves beyond its fields (Hermes's per-provider rules, as data). */
const LAYOUTS: Record<
  ProviderSpec["storage"],
  { pooled: boolean; activates: boolean; refreshFailedCode: string }
> = {
  xai: { pooled: true, activates: true, refreshFailedCode: "xai_refresh_failed" },
  generic: { pooled: true, activates: true, refreshFailedCode: "refresh_failed" },
  spotify: { pooled: false, activates: false, refreshFailedCode: "spotify_refresh_failed" },
};

/** Source of the pool row that mirrors `providers[<id>]` (Hermes's `_seed_tokens_singleton`). */
export const MIRROR_SOURCE = "device_code";

/**
 * Store a login: write `providers[<id>]` in the provider's layout, keeping
 * keys already there that this login does not replace (a field a newer
 * Hermes added) but dropping `last_auth_error`; for pooled layouts write the
 * pool row (see {@link LoginRecord.source}) with `last_status` "ok" and the
 * error fields null, lift a Hermes suppression of that source, and make the
 * provider active. Returns the pool row, or null for a layout Hermes keeps
 * out of the pool (Spotify).
 */
export function applyLogin(data: AuthFile, record: LoginRecord): StoredLogin | null {
  const { provider } = record;
  const layout = LAYOUTS[provider.storage];
  const previous = asRecord(data.providers[provider.id]);
  const state: Record<string, unknown> = { ...previous, ...layoutFields(record) };
  delete state.last_auth_error;
  if (provider.storage !== "spotify" && !usesRedirect(record)) delete state.redirect_uri;
  data.providers[provider.id] = state;

  const stored = layout.pooled ? writePoolRow(data, record) : null;
  if (layout.activates) data.active_provider = provider.id;
  return stored;
}

/**
 * The stored login of `providerId` read in the `storage` layout, or null when
 * there is none (no state, or no access token, e.g. after Hermes quarantined
 * a dead login).
 */
export function readLogin(
  data: AuthFile,
  providerId: string,
  storage: ProviderSpec["storage"],
): StoredToken | null {
  const state = asRecord(data.providers?.[providerId]);
  if (storage === "spotify") return flatLogin(state, "obtained_at");
  const tokens = asRecord(state.tokens);
  const accessToken = text(tokens.access_token);
  if (!accessToken) return null;
  return {
    accessToken,
    refreshToken: text(tokens.refresh_token),
    expiresAt: expiry(state.expires_at, state.last_refresh, tokens.expires_in, accessToken),
    tokenType: text(tokens.token_type) ?? "Bearer",
    tokenEndpoint: text(asRecord(state.discovery).token_endpoint),
    clientId: text(state.client_id),
    lastRefresh: text(state.last_refresh),
  };
}

/** The claims of a JWT, or an empty object when `token` is not one. Not verified. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3) return {};
  try {
    const b64 = parts[1].replaceAll("-", "+").replaceAll("_", "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return asRecord(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return {};
  }
}

/**
 * The `iss` of the provider's stored ID token: the issuer exactly as the
 * provider spells it (trailing slash or not), which a refresh needs to check
 * a new ID token without fetching discovery again. Not verified here.
 */
export function storedIssuer(data: AuthFile, providerId: string): string | undefined {
  const idToken = text(asRecord(asRecord(data.providers?.[providerId]).tokens).id_token);
  const iss = idToken ? decodeJwtClaims(idToken).iss : undefined;
  return typeof iss === "string" && iss !== "" ? iss : undefined;
}

/** Hermes's `label_from_token`: the token's `email`, `preferred_username` or `upn`. */
export function labelFromToken(token: string): string | undefined {
  const claims = decodeJwtClaims(token);
  for (const key of ["email", "preferred_username", "upn"]) {
    const value = claims[key];
    if (typeof value === "string" && value.trim()) return value.trim();
  }
  return undefined;
}

/** Which stored credential: the provider's login state (with the pool rows mirroring it), or one independent pool row. */
export type CredentialRef = { kind: "state" } | { kind: "row"; id: string };

/** A credential {@link pickCredential} chose, read for use. */
export interface PickedCredential {
  ref: CredentialRef;
  login: StoredToken;
  /** The pool row behind it: the independent row, or the row mirroring the state (none for Spotify). */
  row?: PoolRow;
}

/** Sources of the pool row that mirrors `providers[<id>]`: today's, and the loopback era's. */
const MIRROR_SOURCES: ReadonlySet<string> = new Set([MIRROR_SOURCE, "loopback_pkce"]);

/**
 * The credential `token` and `status` use for a provider: pool rows in
 * priority order (a row mirroring `providers[<id>]` stands for that state,
 * which is the copy Hermes refreshes), skipping rows Hermes marked `dead`
 * and logins whose tokens were removed; then the state itself when no row
 * mirrors it. Among those, the first that can still give a token (not
 * expired, or refreshable) and is not `exhausted` wins; failing that the
 * first usable one, failing that the first one (so the caller can say what
 * is wrong with it). Null when the provider has no login at all.
 */
export function pickCredential(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
  now: Date,
): PickedCredential | null {
  const candidates = credentialCandidates(data, provider);
  const usable = candidates.filter((c) => isUsable(c.login, now));
  const ready = usable.filter((c) => c.row?.last_status !== "exhausted");
  return ready[0] ?? usable[0] ?? candidates[0] ?? null;
}

/** Can this login still give an access token: not expired (or no expiry known), or refreshable? */
export function isUsable(login: StoredToken, now: Date): boolean {
  return login.expiresAt === null || login.expiresAt > now || login.refreshToken !== undefined;
}

function credentialCandidates(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
): PickedCredential[] {
  const stateLogin = readLogin(data, provider.id, provider.storage);
  const found: PickedCredential[] = [];
  let stateSeen = false;
  for (const row of poolRows(data, provider.id)) {
    if (row.auth_type === "api_key") continue;
    if (mirrorsState(row, stateLogin)) {
      if (stateSeen) continue;
      stateSeen = true;
      // A dead mirror row still holding the state's tokens means those tokens are dead; one
      // holding other tokens predates a newer login Hermes has not re-seeded into the row yet.
      const deadWithState = row.last_status === "dead" &&
        text(row.access_token) === stateLogin?.accessToken;
      if (stateLogin && !deadWithState) {
        found.push({ ref: { kind: "state" }, login: stateLogin, row });
      }
      continue;
    }
    if (row.last_status === "dead") continue;
    const login = rowLogin(row);
    if (login) found.push({ ref: { kind: "row", id: row.id }, login, row });
  }
  if (!stateSeen && stateLogin) found.push({ ref: { kind: "state" }, login: stateLogin });
  return found;
}

/** A provider's pool rows in priority order (stable: equal priorities keep file order). */
function poolRows(data: AuthFile, providerId: string): PoolRow[] {
  const rows = data.credential_pool?.[providerId];
  if (!Array.isArray(rows)) return [];
  return rows.filter(isRecord).map((r, i) => ({ r: r as PoolRow, i }))
    .sort((a, b) => priorityOf(a.r) - priorityOf(b.r) || a.i - b.i)
    .map(({ r }) => r);
}

function mirrorsState(row: PoolRow, state: StoredToken | null): boolean {
  if (MIRROR_SOURCES.has(String(row.source))) return true;
  if (!state) return false;
  const refresh = text(row.refresh_token);
  return (refresh !== undefined && refresh === state.refreshToken) ||
    text(row.access_token) === state.accessToken;
}

function rowLogin(row: PoolRow): StoredToken | null {
  return flatLogin(row, "last_refresh");
}

/**
 * A login kept as flat fields (Spotify's state, a pool row); `refreshedKey`
 * names its last-refresh timestamp (`obtained_at` for Spotify).
 */
function flatLogin(record: Record<string, unknown>, refreshedKey: string): StoredToken | null {
  const accessToken = text(record.access_token);
  if (!accessToken) return null;
  return {
    accessToken,
    refreshToken: text(record.refresh_token),
    expiresAt: expiry(record.expires_at, record[refreshedKey], record.expires_in, accessToken),
    tokenType: text(record.token_type) ?? "Bearer",
    clientId: text(record.client_id),
    lastRefresh: text(record[refreshedKey]),
  };
}

/** What {@link applyRefresh} stores. */
export interface RefreshRecord {
  provider: Pick<ProviderSpec, "id" | "storage">;
  /** The credential that was refreshed (from {@link pickCredential}). */
  ref: CredentialRef;
  tokens: TokenSet;
  /** The token endpoint the refresh went to, kept for the next one. */
  tokenEndpoint?: string;
  now: Date;
}

/**
 * Store a refresh: the new access token, the rotated refresh token (the old
 * one kept when the response has none, as Hermes does), expiry, id_token and
 * token type when given, `last_refresh`; `last_auth_error` cleared. For the
 * state, every pool row mirroring it gets the same tokens, so Hermes's pool
 * never replays a refresh token that was rotated away. Everything else in
 * the file is left as it was. Returns the credential as now stored.
 */
export function applyRefresh(data: AuthFile, record: RefreshRecord): StoredToken {
  const { provider, tokens, now } = record;
  const expiresAt = tokenExpiry(tokens, now);
  if (record.ref.kind === "row") {
    const row = findRow(data, provider.id, record.ref.id);
    refreshRow(row, tokens, text(row.refresh_token), expiresAt, now);
    return rowLogin(row)!;
  }
  const before = readLogin(data, provider.id, provider.storage);
  const state = data.providers[provider.id];
  if (!isRecord(state)) throw new Error(`auth.json has no ${provider.id} login to refresh`);
  const refreshToken = tokens.refresh_token || before?.refreshToken;
  if (provider.storage === "spotify") {
    const expiresIn = ttlSeconds(tokens.expires_in);
    Object.assign(state, {
      access_token: tokens.access_token,
      refresh_token: refreshToken ?? "",
      token_type: tokens.token_type || text(state.token_type) || "Bearer",
      obtained_at: isoUtc(now),
      expires_at: isoUtc(new Date(now.getTime() + expiresIn * 1000)),
      expires_in: expiresIn,
    });
    if (tokens.scope?.trim()) state.granted_scope = tokens.scope.trim();
  } else {
    const old = asRecord(state.tokens);
    state.tokens = {
      ...old,
      access_token: tokens.access_token,
      refresh_token: refreshToken ?? "",
      id_token: tokens.id_token ?? text(old.id_token) ?? "",
      // Absent from the response: unknown, so expiry falls back to the JWT's `exp`.
      expires_in: tokens.expires_in ?? null,
      token_type: tokens.token_type || text(old.token_type) || "Bearer",
    };
    state.last_refresh = isoUtcZ(now);
    if (record.tokenEndpoint) {
      state.discovery = { ...asRecord(state.discovery), token_endpoint: record.tokenEndpoint };
    }
    if (provider.storage === "generic") state.expires_at = expiresAt ? isoUtc(expiresAt) : null;
  }
  delete state.last_auth_error;
  for (const row of poolRows(data, provider.id)) {
    if (mirrorsState(row, before)) refreshRow(row, tokens, refreshToken, expiresAt, now);
  }
  return readLogin(data, provider.id, provider.storage)!;
}

function refreshRow(
  row: PoolRow,
  tokens: TokenSet,
  oldRefreshToken: string | undefined,
  expiresAt: Date | null,
  now: Date,
): void {
  const refreshToken = tokens.refresh_token || oldRefreshToken;
  Object.assign(row, {
    access_token: tokens.access_token,
    refresh_token: refreshToken,
    expires_at: expiresAt ? isoUtc(expiresAt) : undefined,
    last_refresh: isoUtcZ(now),
    last_status: "ok",
    last_status_at: null,
    last_error_code: null,
    last_error_reason: null,
    last_error_message: null,
    last_error_reset_at: null,
  });
  if ("expires_in" in row) row.expires_in = tokens.expires_in;
  for (const key of ["refresh_token", "expires_at", "expires_in"]) {
    if (row[key] === undefined || row[key] === "") delete row[key];
  }
}

/** Why a login died, for {@link markLoginDead}. */
export interface DeadLoginRecord {
  provider: Pick<ProviderSpec, "id" | "storage">;
  ref: CredentialRef;
  /** What the user is told, without secrets. */
  message: string;
  /** HTTP status of the refusal (400, 401). */
  status?: number;
  /** OAuth error code, e.g. `invalid_grant`. */
  reason?: string;
  now: Date;
}

/**
 * A refresh token was refused: quarantine the login as Hermes does
 * (`_quarantine_xai_oauth_tokens`, `_quarantine_flat_oauth_state`). For the
 * state: drop the access and refresh tokens (keeping id_token, expires_in,
 * token_type in the xAI layout; also the expiry fields in Spotify's), and
 * record `last_auth_error` {provider, message, reason
 * "runtime_refresh_failure", relogin_required, code, at}; its mirroring pool
 * rows, or the independent row refreshed, are marked `dead` with the status,
 * reason and message and their tokens removed. `active_provider` and the rest
 * of the file are left alone.
 */
export function markLoginDead(data: AuthFile, record: DeadLoginRecord): void {
  const { provider, now } = record;
  if (record.ref.kind === "row") {
    killRow(findRow(data, provider.id, record.ref.id), record);
    return;
  }
  const before = readLogin(data, provider.id, provider.storage);
  const state = data.providers[provider.id];
  if (!isRecord(state)) return;
  if (provider.storage === "spotify") {
    for (
      const key of ["access_token", "refresh_token", "expires_at", "expires_in", "obtained_at"]
    ) {
      delete state[key];
    }
  } else {
    const tokens = { ...asRecord(state.tokens) };
    delete tokens.access_token;
    delete tokens.refresh_token;
    state.tokens = tokens;
  }
  state.last_auth_error = {
    provider: provider.id,
    message: record.message,
    reason: "runtime_refresh_failure",
    relogin_required: true,
    code: LAYOUTS[provider.storage].refreshFailedCode,
    at: isoUtc(now),
  };
  for (const row of poolRows(data, provider.id)) {
    if (mirrorsState(row, before)) killRow(row, record);
  }
}

function killRow(row: PoolRow, record: DeadLoginRecord): void {
  Object.assign(row as Record<string, unknown>, {
    // Hermes's `to_dict` writes an empty access token rather than none.
    access_token: "",
    last_status: "dead",
    last_status_at: record.now.getTime() / 1000,
    last_error_code: record.status ?? null,
    last_error_reason: record.reason ?? null,
    last_error_message: record.message,
  });
  delete row.refresh_token;
  delete row.expires_at;
}

/** The last recorded failure of a provider's login, if any. */
export interface LastAuthError {
  code: string | null;
  message: string;
  /** ISO timestamp, when known. */
  at: string | null;
  reloginRequired: boolean;
}

/**
 * The provider's `last_auth_error` (written by Hermes or by
 * {@link markLoginDead}), else the failure of its first dead pool row.
 */
export function lastAuthError(data: AuthFile, providerId: string): LastAuthError | null {
  const marker = asRecord(asRecord(data.providers?.[providerId]).last_auth_error);
  const message = text(marker.message);
  if (message) {
    return {
      code: text(marker.code) ?? null,
      message,
      at: text(marker.at) ?? null,
      reloginRequired: marker.relogin_required === true,
    };
  }
  const dead = poolRows(data, providerId).find((row) => row.last_status === "dead");
  if (!dead) return null;
  const at = typeof dead.last_status_at === "number"
    ? new Date(dead.last_status_at * 1000).toISOString()
    : null;
  const code = dead.last_error_reason ?? dead.last_error_code;
  return {
    code: code === null || code === undefined ? null : String(code),
    message: text(dead.last_error_message) ?? "the credential was marked dead",
    at,
    reloginRequired: true,
  };
}

function findRow(data: AuthFile, providerId: string, id: string): PoolRow {
  const row = poolRows(data, providerId).find((r) => r.id === id);
  if (!row) throw new Error(`auth.json has no ${providerId} credential ${id}`);
  return row;
}

function layoutFields(record: LoginRecord): Record<string, unknown> {
  const { tokens, now } = record;
  const expiresAt = tokenExpiry(tokens, now);
  if (record.provider.storage === "spotify") {
    const requested = record.provider.scopes.join(" ");
    const expiresIn = ttlSeconds(tokens.expires_in);
    return {
      client_id: record.clientId,
      redirect_uri: record.redirectUri,
      accounts_base_url: accountsBaseUrl(record.discovery.token_endpoint),
      scope: requested,
      granted_scope: tokens.scope?.trim() || requested,
      token_type: tokens.token_type || "Bearer",
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token ?? "",
      obtained_at: isoUtc(now),
      expires_at: isoUtc(new Date(now.getTime() + expiresIn * 1000)),
      expires_in: expiresIn,
      auth_type: record.authMode,
    };
  }
  const fields: Record<string, unknown> = {
    tokens: {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token ?? "",
      id_token: tokens.id_token ?? "",
      expires_in: tokens.expires_in ?? null,
      token_type: tokens.token_type || "Bearer",
    },
    last_refresh: isoUtcZ(now),
    auth_mode: record.authMode,
    discovery: {
      authorization_endpoint: record.discovery.authorization_endpoint,
      token_endpoint: record.discovery.token_endpoint,
    },
  };
  if (usesRedirect(record)) fields.redirect_uri = record.redirectUri;
  if (record.provider.storage === "generic") {
    fields.client_id = record.clientId;
    fields.expires_at = expiresAt ? isoUtc(expiresAt) : null;
  }
  return fields;
}

function writePoolRow(data: AuthFile, record: LoginRecord): StoredLogin {
  const { provider, tokens, now } = record;
  const pool = data.credential_pool ??= {};
  const rows: PoolRow[] = Array.isArray(pool[provider.id]) ? pool[provider.id] : [];
  pool[provider.id] = rows;

  const source = record.source ?? MIRROR_SOURCE;
  const replaced = isManualSource(source)
    ? undefined
    : rows.find((row) => asRecord(row).source === source);
  const row: PoolRow = replaced ?? {
    id: uniqueRowId(rows),
    label: "",
    auth_type: "oauth",
    priority: nextPriority(rows),
    source,
  };
  if (!replaced) rows.push(row);

  const expiresAt = tokenExpiry(tokens, now);
  const baseUrl = record.baseUrl ?? provider.models?.baseUrl;
  Object.assign(row, {
    label: record.label?.trim() || labelFromToken(tokens.access_token) || text(replaced?.label) ||
      `${provider.id}-oauth-${positionOf(rows, row)}`,
    auth_type: "oauth",
    source,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    base_url: baseUrl ?? row.base_url,
    expires_at: expiresAt ? isoUtc(expiresAt) : undefined,
    last_refresh: isoUtcZ(now),
    last_status: "ok",
    last_status_at: null,
    last_error_code: null,
    last_error_reason: null,
    last_error_message: null,
    last_error_reset_at: null,
  });
  // Like Hermes's `to_dict`: an unknown value is left out, not written as null.
  for (const key of ["refresh_token", "base_url", "expires_at"]) {
    if (row[key] === undefined || row[key] === "") delete row[key];
  }
  if (typeof row.request_count !== "number") row.request_count = 0;
  unsuppress(data, provider.id, source);
  return { index: positionOf(rows, row), id: row.id, label: row.label };
}

/** Hermes's `unsuppress_credential_source`: a new login re-enables a source `auth remove` suppressed. */
function unsuppress(data: AuthFile, providerId: string, source: string): void {
  const suppressed = data.suppressed_sources;
  if (!isRecord(suppressed)) return;
  const raw = suppressed[providerId];
  const list = Array.isArray(raw) ? raw : isRecord(raw) ? Object.keys(raw) : null;
  if (!list || !list.includes(source)) return;
  const rest = list.filter((item) => item !== source);
  if (rest.length > 0) suppressed[providerId] = rest;
  else delete suppressed[providerId];
  if (Object.keys(suppressed).length === 0) delete data.suppressed_sources;
}

/** 1-based position in priority order (a stable sort, as Hermes's pool sorts on load). */
function positionOf(rows: PoolRow[], row: PoolRow): number {
  const ordered = rows.map((r, i) => ({ r, i })).sort((a, b) =>
    priorityOf(a.r) - priorityOf(b.r) || a.i - b.i
  );
  return ordered.findIndex((entry) => entry.r === row) + 1;
}

function priorityOf(row: PoolRow): number {
  const priority = asRecord(row).priority;
  return typeof priority === "number" ? priority : 0;
}

/** Hermes's `_next_priority`: one past the highest, 0 for the first row. */
function nextPriority(rows: PoolRow[]): number {
  return rows.reduce((max, row) => Math.max(max, priorityOf(row)), -1) + 1;
}

function uniqueRowId(rows: PoolRow[]): string {
  const taken = new Set(rows.map((row) => asRecord(row).id));
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(3));
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    if (!taken.has(id)) return id;
  }
}

function isManualSource(source: string): boolean {
  const normalized = source.trim().toLowerCase();
  return normalized === "manual" || normalized.startsWith("manual:");
}

function usesRedirect(record: LoginRecord): boolean {
  return record.authMode === "oauth_pkce" && record.redirectUri !== "";
}

/** Spotify's accounts host, as Hermes stores it: the token endpoint without `/api/token`. */
function accountsBaseUrl(tokenEndpoint: string): string {
  const url = new URL(tokenEndpoint);
  const path = url.pathname.replace(/\/api\/token\/?$/, "").replace(/\/+$/, "");
  return url.origin + path;
}

/** When a fresh token set expires: `expires_in` from now, else the JWT `exp`. */
function tokenExpiry(tokens: TokenSet, now: Date): Date | null {
  const seconds = Number(tokens.expires_in);
  if (tokens.expires_in !== undefined && tokens.expires_in !== null && Number.isFinite(seconds)) {
    return new Date(now.getTime() + seconds * 1000);
  }
  return jwtExpiry(tokens.access_token);
}

/** Hermes's `_coerce_ttl_seconds`: a non-negative whole number of seconds, 0 when unusable. */
function ttlSeconds(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function expiry(
  expiresAt: unknown,
  refreshedAt: unknown,
  expiresIn: unknown,
  accessToken: string,
): Date | null {
  const absolute = parseTimestamp(expiresAt);
  if (absolute) return absolute;
  const since = parseTimestamp(refreshedAt);
  const seconds = typeof expiresIn === "string" && expiresIn.trim() !== ""
    ? Number(expiresIn)
    : expiresIn;
  if (since && typeof seconds === "number" && Number.isFinite(seconds)) {
    return new Date(since.getTime() + seconds * 1000);
  }
  return jwtExpiry(accessToken);
}

function jwtExpiry(token: string): Date | null {
  const exp = decodeJwtClaims(token).exp;
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : null;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
