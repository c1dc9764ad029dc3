/**
 * A login in Hermes's layout: where a sign-in is stored ({@link applyLogin}),
 * which stored credential to use ({@link pickCredential}), what a refresh
 * writes ({@link applyRefresh}) and how a login whose refresh token was
 * refused is quarantined ({@link markLoginDead}). Pure functions over an
 * {@link AuthFile}; the caller wraps them in `updateAuthFile` /
 * `readAuthFile`. docs/hermes-compat.md says field by field what each Hermes
 * era reads and writes.
 *
 * Where a login goes (pooled layouts: xAI, custom providers):
 * - One pool row per account. The account is read from the tokens
 *   (lib/store/identity.ts).
 * - A login of the account Hermes keeps as `providers[<id>]` updates that
 *   state and every row mirroring it (source `device_code` today,
 *   `loopback_pkce` in the loopback era; Hermes's `load_pool` seeds one from
 *   the state and keeps it in step), in place: no second row is left with
 *   the old, rotated-away refresh token.
 * - A login of an account that has its own row updates that row in place.
 * - A login of a new account adds a row with a `manual:` source, as
 *   Hermes's `hermes auth add` does: both eras keep such rows as written
 *   (`_is_manual_source`, `_prune_stale_seeded_entries` in
 *   agent/credential_pool.py), while a mirror row of the other era's source
 *   is stripped of its tokens and pruned. hermes-auth never creates
 *   `providers[<id>]` for xAI: that state is the mirror's source, and a copy
 *   of a manual row's refresh token there would be a forked grant (two
 *   holders refresh it; one replays a used token).
 *
 * Layouts:
 * - `xai`: state `tokens{access_token, refresh_token, id_token, expires_in,
 *   token_type}`, `last_refresh` (Z form), `auth_mode`, `discovery{
 *   authorization_endpoint, token_endpoint}`, `redirect_uri` (not for a
 *   device-code login). Makes the provider active.
 * - `generic`: as `xai`, plus `client_id` and `expires_at`.
 * - `spotify`: flat `client_id, redirect_uri, accounts_base_url,
 *   api_base_url, scope, granted_scope, token_type, access_token,
 *   refresh_token, obtained_at, expires_at, expires_in, auth_type` (Hermes's
 *   `_spotify_token_payload_to_state`). Hermes keeps Spotify out of the pool
 *   and never makes it the active (inference) provider; neither does this.
 *
 * @module
 */

import type { ProviderSpec } from "../providers/types.ts";
import { type AuthFile, isRecord, type PoolRow } from "./auth_file.ts";
import {
  type AccountIdentity,
  accountName,
  decodeJwtClaims,
  identityOfRow,
  identityOfTokens,
  isKnown,
  labelFromToken,
  sameAccount,
} from "./identity.ts";
import {
  asRecord,
  type CredentialRef,
  earliest,
  flatOrNested,
  jwtExpiry,
  mirrorsState,
  type PickedCredential,
  poolRows,
  priorityOf,
  readLogin,
  rowLogin,
  type StoredToken,
  text,
} from "./stored_login.ts";
import { isoUtc, isoUtcZ } from "./timestamps.ts";

export { decodeJwtClaims, labelFromToken };
export {
  credentialOfRow,
  type CredentialRef,
  isMirrorSource,
  isUsable,
  type LastAuthError,
  lastAuthError,
  MIRROR_SOURCES,
  pickCredential,
  type PickedCredential,
  readLogin,
  type RowCredential,
  storedIssuer,
  type StoredToken,
} from "./stored_login.ts";

/** A token endpoint response, as far as storage cares. */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

/** The provider fields storage needs. */
type StorageSpec =
  & Pick<ProviderSpec, "id" | "storage" | "scopes">
  & Partial<Pick<ProviderSpec, "models" | "apiBaseUrl">>;

/** Everything {@link applyLogin} stores about one sign-in. */
export interface LoginRecord {
  /** The provider; pass the full ProviderSpec and its `models.baseUrl` lands in the pool row. */
  provider: StorageSpec;
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
   * Pool row label. A new row's default: the access token's `email` /
   * `preferred_username` / `upn` (Hermes's `label_from_token`), else the ID
   * token's, else its `sub`, else `<provider id>-oauth-<N>`. A row updated in
   * place keeps its label unless this is given.
   */
  label?: string;
  /** Inference base URL for the pool row; default `provider.models.baseUrl`. */
  baseUrl?: string;
  /**
   * Web API base for the state (Spotify's `api_base_url`), e.g. from
   * `HERMES_SPOTIFY_API_BASE_URL`. Default: the stored one, else
   * `provider.apiBaseUrl`.
   */
  apiBaseUrl?: string;
  now: Date;
}

/** Where a login was stored. */
export interface StoredLogin {
  /** `added`: a new account got a new row; `updated`: the account's credential was updated in place. */
  outcome: "added" | "updated";
  ref: CredentialRef;
  /**
   * 1-based position in the pool, in priority order (what `list` shows as
   * #N); null when the credential has no row (Hermes's login state before
   * Hermes mirrored it into the pool).
   */
  index: number | null;
  /** The row's id (6 hex characters), or null with `index`. */
  id: string | null;
  label: string;
  /** The account (e-mail, else `sub`), when the tokens name one. */
  account: string | null;
  /**
   * Other credentials of the provider whose account cannot be read from
   * their tokens, so this login may be a second grant of one of them.
   */
  unsure: { index: number; id: string; label: string }[];
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

/** A row's status after a login or a refresh worked: `ok`, and the last error cleared. */
const HEALTHY = {
  last_status: "ok",
  last_status_at: null,
  last_error_code: null,
  last_error_reason: null,
  last_error_message: null,
  last_error_reset_at: null,
} as const;

/**
 * Store a login (see the module comment for where it goes). The state keeps
 * keys this login does not replace (a field a newer Hermes added) but drops
 * `last_auth_error`; a row written gets `last_status` "ok" and the error
 * fields null. Every suppression of the provider's sources is lifted, as
 * Hermes's `auth add` does, and the provider is made active. Returns where
 * it went, or null for a layout Hermes keeps out of the pool (Spotify).
 */
export function applyLogin(data: AuthFile, record: LoginRecord): StoredLogin | null {
  const { provider } = record;
  const layout = LAYOUTS[provider.storage];
  let stored: StoredLogin | null = null;
  if (!layout.pooled) {
    writeState(data, record);
  } else {
    const identity = identityOfTokens(record.tokens);
    const target = loginTarget(data, provider, identity);
    if (target.kind === "state") stored = updateStateLogin(data, record, identity);
    else if (target.kind === "row") stored = updateRowLogin(data, record, target.row, identity);
    else stored = addRowLogin(data, record, identity, target.unsure);
    unsuppressProvider(data, provider.id);
  }
  if (layout.activates) data.active_provider = provider.id;
  return stored;
}

type LoginTarget =
  | { kind: "state" }
  | { kind: "row"; row: PoolRow }
  | { kind: "new"; unsure: StoredLogin["unsure"] };

/**
 * Whose credential a login with `identity` replaces: the first credential
 * in priority order that is the same account (the state stands where its
 * first mirror row stands). With no account on either side (opaque tokens,
 * no ID token), the login state, as the one login there is.
 */
function loginTarget(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
  identity: AccountIdentity,
): LoginTarget {
  const stateExists = isRecord(data.providers?.[provider.id]);
  const stateLogin = readLogin(data, provider.id, provider.storage);
  const stateIdentity = stateAccount(data, provider.id);
  const unsure: StoredLogin["unsure"] = [];
  let stateTried = false;
  for (const [i, row] of poolRows(data, provider.id).entries()) {
    if (row.auth_type === "api_key") continue;
    const mirror = stateExists && mirrorsState(row, stateLogin);
    if (mirror && stateTried) continue;
    const other = mirror ? stateIdentity : identityOfRow(row);
    if (mirror) stateTried = true;
    if (sameAccount(identity, other)) return mirror ? { kind: "state" } : { kind: "row", row };
    if (!isKnown(other) || !isKnown(identity)) {
      unsure.push({ index: i + 1, id: row.id, label: String(row.label ?? "") });
    }
  }
  if (stateExists && !stateTried && sameAccount(identity, stateIdentity)) return { kind: "state" };
  if (stateExists && !isKnown(identity) && !isKnown(stateIdentity)) return { kind: "state" };
  return { kind: "new", unsure };
}

/** The account of the provider's login state: its ID token, else its access token. */
function stateAccount(data: AuthFile, providerId: string): AccountIdentity {
  const state = asRecord(data.providers?.[providerId]);
  const tokens = isRecord(state.tokens) ? state.tokens : state;
  return identityOfTokens(tokens);
}

/**
 * The account a pool row belongs to: for a row mirroring the login state,
 * the state's (whose ID token names it); otherwise the row's own tokens.
 */
export function rowAccount(data: AuthFile, providerId: string, row: PoolRow): AccountIdentity {
  if (isRecord(data.providers?.[providerId])) {
    const stateLogin = flatOrNested(data, providerId);
    if (mirrorsState(row, stateLogin)) {
      const fromState = stateAccount(data, providerId);
      if (isKnown(fromState)) return fromState;
    }
  }
  return identityOfRow(row);
}

/** The account of a credential {@link pickCredential} chose, for display. */
export function accountOf(
  data: AuthFile,
  providerId: string,
  picked: PickedCredential,
): string | null {
  if (picked.row) return accountName(rowAccount(data, providerId, picked.row));
  return accountName(picked.ref.kind === "state" ? stateAccount(data, providerId) : {});
}

function updateStateLogin(
  data: AuthFile,
  record: LoginRecord,
  identity: AccountIdentity,
): StoredLogin {
  const { provider } = record;
  const before = readLogin(data, provider.id, provider.storage);
  const mirrors = poolRows(data, provider.id).filter((row) =>
    row.auth_type !== "api_key" && mirrorsState(row, before)
  );
  const state = writeState(data, record);
  for (const row of mirrors) {
    writeRowTokens(row, record, { mirror: true, lastRefresh: text(state.last_refresh) });
  }
  const first = mirrors[0];
  const rows = rowsOf(data, provider.id);
  return {
    outcome: "updated",
    ref: { kind: "state" },
    index: first ? positionOf(rows, first) : null,
    id: first?.id ?? null,
    label: first ? String(first.label) : record.label?.trim() || defaultLabel(record, identity, 1),
    account: accountName(identity),
    unsure: [],
  };
}

function updateRowLogin(
  data: AuthFile,
  record: LoginRecord,
  row: PoolRow,
  identity: AccountIdentity,
): StoredLogin {
  writeRowTokens(row, record, { mirror: false });
  const rows = rowsOf(data, record.provider.id);
  if (!text(row.label)) row.label = defaultLabel(record, identity, positionOf(rows, row));
  return {
    outcome: "updated",
    ref: { kind: "row", id: row.id },
    index: positionOf(rows, row),
    id: row.id,
    label: String(row.label),
    account: accountName(identity),
    unsure: [],
  };
}

function addRowLogin(
  data: AuthFile,
  record: LoginRecord,
  identity: AccountIdentity,
  unsure: StoredLogin["unsure"],
): StoredLogin {
  const rows = rowsOf(data, record.provider.id);
  const row: PoolRow = {
    id: uniqueRowId(rows),
    label: defaultLabel(record, identity, rows.length + 1),
    auth_type: "oauth",
    priority: nextPriority(rows),
    source: record.authMode === "oauth_device_code" ? "manual:device_code" : "manual:loopback_pkce",
  };
  rows.push(row);
  writeRowTokens(row, record, { mirror: false });
  return {
    outcome: "added",
    ref: { kind: "row", id: row.id },
    index: positionOf(rows, row),
    id: row.id,
    label: row.label,
    account: accountName(identity),
    unsure,
  };
}

/** `--label`, else the token's identity (Hermes's `label_from_token` first), else `<id>-oauth-<n>`. */
function defaultLabel(record: LoginRecord, identity: AccountIdentity, n: number): string {
  return record.label?.trim() || labelFromToken(record.tokens.access_token) ||
    identity.email || identity.sub || `${record.provider.id}-oauth-${n}`;
}

/** Write `providers[<id>]` in the provider's layout; returns the state. */
function writeState(data: AuthFile, record: LoginRecord): Record<string, unknown> {
  const { provider } = record;
  const previous = asRecord(data.providers[provider.id]);
  const state: Record<string, unknown> = { ...previous, ...layoutFields(record, previous) };
  delete state.last_auth_error;
  if (provider.storage !== "spotify" && !usesRedirect(record)) delete state.redirect_uri;
  data.providers[provider.id] = state;
  return state;
}

/**
 * Put a login's tokens into a pool row, with `last_status` "ok" and the
 * error fields null. A mirror row gets the state's `last_refresh` (what
 * Hermes's seeding copies, so its next `load_pool` finds nothing to change)
 * and keeps a `base_url` it has (Hermes owns it).
 */
function writeRowTokens(
  row: PoolRow,
  record: LoginRecord,
  options: { mirror: boolean; lastRefresh?: string },
): void {
  const { tokens, now, provider } = record;
  const expiresAt = tokenExpiry(tokens, now);
  const baseUrl = record.baseUrl ?? provider.models?.baseUrl;
  Object.assign(row, {
    auth_type: "oauth",
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    base_url: options.mirror && text(row.base_url) ? row.base_url : baseUrl ?? row.base_url,
    expires_at: expiresAt ? isoUtc(expiresAt) : undefined,
    // Hermes refreshes a row without touching expires_at; last_refresh + expires_in stays right.
    expires_in: ttl(tokens.expires_in),
    last_refresh: options.lastRefresh ?? isoUtcZ(now),
    ...HEALTHY,
  });
  if (record.label?.trim()) row.label = record.label.trim();
  // A custom provider's own client id: Hermes round-trips `client_id` in a row (`_EXTRA_KEYS`).
  if (!options.mirror && provider.storage === "generic") row.client_id = record.clientId;
  // Like Hermes's `to_dict`: an unknown value is left out, not written as null.
  for (const key of ["refresh_token", "base_url", "expires_at", "expires_in"]) {
    if (row[key] === undefined || row[key] === "") delete row[key];
  }
  if (typeof row.request_count !== "number") row.request_count = 0;
}

/** The provider's pool array itself (created when missing), for appending. */
function rowsOf(data: AuthFile, providerId: string): PoolRow[] {
  const pool = data.credential_pool ??= {};
  if (!Array.isArray(pool[providerId])) pool[providerId] = [];
  return pool[providerId];
}

/** What {@link applyRefresh} stores. */
export interface RefreshRecord {
  provider: Pick<ProviderSpec, "id" | "storage"> & Partial<Pick<ProviderSpec, "apiBaseUrl">>;
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
 * never replays a refresh token that was rotated away. A row is refreshed
 * alone: its grant is its own. Everything else in the file is left as it
 * was. Returns the credential as now stored.
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
    // Hermes's refresh rewrites the whole state through `_spotify_token_payload_to_state`.
    if (!text(state.api_base_url) && provider.apiBaseUrl) state.api_base_url = provider.apiBaseUrl;
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
    ...HEALTHY,
  });
  row.expires_in = ttl(tokens.expires_in);
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

function findRow(data: AuthFile, providerId: string, id: string): PoolRow {
  const row = poolRows(data, providerId).find((r) => r.id === id);
  if (!row) throw new Error(`auth.json has no ${providerId} credential ${id}`);
  return row;
}

function layoutFields(
  record: LoginRecord,
  previous: Record<string, unknown>,
): Record<string, unknown> {
  const { tokens, now } = record;
  const expiresAt = tokenExpiry(tokens, now);
  if (record.provider.storage === "spotify") {
    const requested = record.provider.scopes.join(" ");
    const expiresIn = ttlSeconds(tokens.expires_in);
    return {
      client_id: record.clientId,
      redirect_uri: record.redirectUri,
      accounts_base_url: accountsBaseUrl(record.discovery.token_endpoint),
      // Hermes's `_spotify_api_base_url`: the environment, the stored value, the default.
      api_base_url: (record.apiBaseUrl?.trim() || text(previous.api_base_url) ||
        record.provider.apiBaseUrl)?.replace(/\/+$/, ""),
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

/**
 * Hermes's `auth add` clears every suppression of the provider: a new login
 * is the user asking for the provider again (`unsuppress_credential_source`).
 */
function unsuppressProvider(data: AuthFile, providerId: string): void {
  const suppressed = data.suppressed_sources;
  if (!isRecord(suppressed) || !(providerId in suppressed)) return;
  delete suppressed[providerId];
  if (Object.keys(suppressed).length === 0) delete data.suppressed_sources;
}

/** 1-based position in priority order (a stable sort, as Hermes's pool sorts on load). */
function positionOf(rows: PoolRow[], row: PoolRow): number {
  const ordered = rows.map((r, i) => ({ r, i })).sort((a, b) =>
    priorityOf(a.r) - priorityOf(b.r) || a.i - b.i
  );
  return ordered.findIndex((entry) => entry.r === row) + 1;
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

function usesRedirect(record: LoginRecord): boolean {
  return record.authMode === "oauth_pkce" && record.redirectUri !== "";
}

/** Spotify's accounts host, as Hermes stores it: the token endpoint without `/api/token`. */
function accountsBaseUrl(tokenEndpoint: string): string {
  const url = new URL(tokenEndpoint);
  const path = url.pathname.replace(/\/api\/token\/?$/, "").replace(/\/+$/, "");
  return url.origin + path;
}

/** When a fresh token set expires: the earlier of `expires_in` from now and the JWT `exp`. */
function tokenExpiry(tokens: TokenSet, now: Date): Date | null {
  const seconds = Number(tokens.expires_in);
  const fromTtl = tokens.expires_in !== undefined && tokens.expires_in !== null &&
      Number.isFinite(seconds)
    ? new Date(now.getTime() + seconds * 1000)
    : null;
  return earliest([fromTtl, jwtExpiry(tokens.access_token)]);
}

/** A lifetime in seconds as given, or undefined when the response gave none. */
function ttl(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== null && Number.isFinite(n) ? n : undefined;
}

/** Hermes's `_coerce_ttl_seconds`: a non-negative whole number of seconds, 0 when unusable. */
function ttlSeconds(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
