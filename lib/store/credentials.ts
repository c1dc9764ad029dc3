/**
 * A login in Hermes's layout: what `providers[<id>]` and
 * `credential_pool[<id>]` look like after a sign-in, and how to read the
 * stored token back. Pure functions over an {@link AuthFile}; the caller
 * wraps them in `updateAuthFile` / `readAuthFile`.
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
const LAYOUTS: Record<ProviderSpec["storage"], { pooled: boolean; activates: boolean }> = {
  xai: { pooled: true, activates: true },
  generic: { pooled: true, activates: true },
  spotify: { pooled: false, activates: false },
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
  if (storage === "spotify") {
    const accessToken = text(state.access_token);
    if (!accessToken) return null;
    return {
      accessToken,
      refreshToken: text(state.refresh_token),
      expiresAt: expiry(state.expires_at, state.obtained_at, state.expires_in, accessToken),
      tokenType: text(state.token_type) ?? "Bearer",
      clientId: text(state.client_id),
      lastRefresh: text(state.obtained_at),
    };
  }
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

/** Hermes's `label_from_token`: the token's `email`, `preferred_username` or `upn`. */
export function labelFromToken(token: string): string | undefined {
  const claims = decodeJwtClaims(token);
  for (const key of ["email", "preferred_username", "upn"]) {
    const value = claims[key];
    if (typeof value === "string" && value.trim()) return value.trim();
  }
  return undefined;
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
