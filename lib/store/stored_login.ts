/**
 * Reading a stored login: which credential `token` and `status` use
 * ({@link pickCredential}), what a login holds ({@link readLogin}) and when
 * it expires, and the last recorded failure ({@link lastAuthError}). Pure
 * functions over an {@link AuthFile}, and nothing that writes: the `token`
 * hot path loads this module and not lib/store/credentials.ts, which stores
 * logins and refreshes (and re-exports everything here).
 *
 * @module
 */

import type { ProviderSpec } from "../providers/types.ts";
import { type AuthFile, isRecord, type PoolRow } from "./auth_file.ts";
import { decodeJwtClaims } from "./identity.ts";
import { parseTimestamp } from "./timestamps.ts";

/** Which stored credential: the provider's login state (with the pool rows mirroring it), or one independent pool row. */
export type CredentialRef = { kind: "state" } | { kind: "row"; id: string };

/** What {@link readLogin} finds. */
export interface StoredToken {
  accessToken: string;
  refreshToken?: string;
  /**
   * The earliest of the access token's JWT `exp`, `expires_at` and last
   * refresh + `expires_in`; null when none is known.
   */
  expiresAt: Date | null;
  tokenType: string;
  tokenEndpoint?: string;
  clientId?: string;
  /** `last_refresh` (`obtained_at` in the Spotify layout). */
  lastRefresh?: string;
}

/**
 * Sources of the pool row Hermes seeds from `providers[<id>]`
 * (`_seed_from_singletons`): `device_code` in today's Hermes, `loopback_pkce`
 * in the loopback era (hermes_cli/auth.py @5cf25acc, agent/credential_pool.py
 * @c786e61a). Each era treats the other's as borrowed: strips its tokens and
 * prunes it on load.
 */
export const MIRROR_SOURCES: readonly string[] = ["device_code", "loopback_pkce"];

/** Is this the source of a row that mirrors the provider's login state? */
export function isMirrorSource(source: unknown): boolean {
  return typeof source === "string" && MIRROR_SOURCES.includes(source);
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

/** The state's login in whichever layout it has (for matching rows to it without a ProviderSpec). */
export function flatOrNested(data: AuthFile, providerId: string): StoredToken | null {
  const state = asRecord(data.providers?.[providerId]);
  return isRecord(state.tokens)
    ? readLogin(data, providerId, "xai")
    : flatLogin(state, "obtained_at");
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

/** A credential {@link pickCredential} chose, read for use. */
export interface PickedCredential {
  ref: CredentialRef;
  login: StoredToken;
  /** The pool row behind it: the independent row, or the row mirroring the state (none for Spotify). */
  row?: PoolRow;
}

/**
 * The credential `token` and `status` use for a provider, in the order
 * Hermes's pool reads (`fill_first`: priority order, lower first):
 * - candidates are the pool rows in priority order, a row mirroring
 *   `providers[<id>]` standing for that state (the copy Hermes refreshes),
 *   then the state itself when no row mirrors it; rows Hermes marked `dead`,
 *   API keys and logins whose tokens were removed are skipped;
 * - the first that can still give a token (not expired, or refreshable) and
 *   is not `exhausted` wins; failing that the first usable one, failing that
 *   the first one (so the caller can say what is wrong with it).
 * Null when the provider has no login at all.
 */
export function pickCredential(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
  now: Date,
): PickedCredential | null {
  // Candidates are read one at a time, so the usual case (the first row will do) reads one
  // login however many rows the pool holds.
  let first: PickedCredential | undefined;
  let firstUsable: PickedCredential | undefined;
  for (const candidate of credentialCandidates(data, provider)) {
    first ??= candidate;
    if (!isUsable(candidate.login, now)) continue;
    if (candidate.row?.last_status !== "exhausted") return candidate;
    firstUsable ??= candidate;
  }
  return firstUsable ?? first ?? null;
}

/** What {@link credentialOfRow} finds. */
export type RowCredential =
  | { found: false }
  | { found: true; index: number; row: PoolRow; picked: PickedCredential | null };

/**
 * The credential behind the row with id `rowId`, as `token --account`
 * uses it: the login state for a row mirroring it, else the row. `picked`
 * is null when it holds no token or Hermes marked it `dead`.
 */
export function credentialOfRow(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
  rowId: string,
): RowCredential {
  const rows = poolRows(data, provider.id);
  const i = rows.findIndex((r) => r.id === rowId);
  if (i < 0) return { found: false };
  const row = rows[i];
  const stateLogin = readLogin(data, provider.id, provider.storage);
  let picked: PickedCredential | null = null;
  if (isRecord(data.providers?.[provider.id]) && mirrorsState(row, stateLogin)) {
    const dead = row.last_status === "dead" && text(row.access_token) === stateLogin?.accessToken;
    if (stateLogin && !dead) picked = { ref: { kind: "state" }, login: stateLogin, row };
  } else if (row.last_status !== "dead" && row.auth_type !== "api_key") {
    const login = rowLogin(row);
    if (login) picked = { ref: { kind: "row", id: row.id }, login, row };
  }
  return { found: true, index: i + 1, row, picked };
}

/** Can this login still give an access token: not expired (or no expiry known), or refreshable? */
export function isUsable(login: StoredToken, now: Date): boolean {
  return login.expiresAt === null || login.expiresAt > now || login.refreshToken !== undefined;
}

/** The candidates of {@link pickCredential}, in its order, each login read when it is reached. */
function* credentialCandidates(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
): Generator<PickedCredential> {
  const stateLogin = readLogin(data, provider.id, provider.storage);
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
        yield { ref: { kind: "state" }, login: stateLogin, row };
      }
      continue;
    }
    if (row.last_status === "dead") continue;
    const login = rowLogin(row);
    if (login) yield { ref: { kind: "row", id: row.id }, login, row };
  }
  if (!stateSeen && stateLogin) yield { ref: { kind: "state" }, login: stateLogin };
}

/** A provider's pool rows in priority order (stable: equal priorities keep file order). */
export function poolRows(data: AuthFile, providerId: string): PoolRow[] {
  const raw = data.credential_pool?.[providerId];
  if (!Array.isArray(raw)) return [];
  // One plain loop: `token` runs this once per process, before the JIT has warmed up, on pools
  // of a thousand rows. Hermes writes the pool in priority order, and then nothing is sorted.
  const rows: PoolRow[] = [];
  let inOrder = true;
  let previous = -Infinity;
  for (let i = 0; i < raw.length; i++) {
    const row = raw[i] as unknown;
    // isRecord and priorityOf, written out: three calls a row are most of this loop's cost cold.
    if (typeof row !== "object" || row === null || Array.isArray(row)) continue;
    const value = (row as PoolRow).priority;
    const priority = typeof value === "number" && Number.isFinite(value) ? value : 0;
    if (priority < previous) inOrder = false;
    previous = priority;
    rows.push(row as PoolRow);
  }
  if (inOrder) return rows;
  return rows.map((r, i) => ({ r, i }))
    .sort((a, b) => priorityOf(a.r) - priorityOf(b.r) || a.i - b.i)
    .map(({ r }) => r);
}

/**
 * Does this row mirror the login state: a mirror source (either era's), or
 * the state's own tokens (a row Hermes seeded under a source it later
 * renamed)?
 */
export function mirrorsState(row: PoolRow, state: StoredToken | null): boolean {
  if (isMirrorSource(row.source)) return true;
  if (!state) return false;
  const refresh = text(row.refresh_token);
  return (refresh !== undefined && refresh === state.refreshToken) ||
    text(row.access_token) === state.accessToken;
}

export function rowLogin(row: PoolRow): StoredToken | null {
  return flatLogin(row, "last_refresh");
}

/**
 * A login kept as flat fields (Spotify's state, a pool row); `refreshedKey`
 * names its last-refresh timestamp (`obtained_at` for Spotify).
 */
export function flatLogin(
  record: Record<string, unknown>,
  refreshedKey: string,
): StoredToken | null {
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

export function priorityOf(row: PoolRow): number {
  const priority = asRecord(row).priority;
  return typeof priority === "number" && Number.isFinite(priority) ? priority : 0;
}

/**
 * When a stored access token expires: the earliest of what is known — the
 * token's own JWT `exp` (all Hermes reads for xAI:
 * `_xai_access_token_is_expiring`), `expires_at`, and `last_refresh` +
 * `expires_in`. An `expires_at` at or before `last_refresh` describes an
 * earlier token (Hermes refreshes a pool row without touching it) and is
 * left out.
 */
export function expiry(
  expiresAt: unknown,
  refreshedAt: unknown,
  expiresIn: unknown,
  accessToken: string,
): Date | null {
  const since = parseTimestamp(refreshedAt);
  let absolute = parseTimestamp(expiresAt);
  if (absolute && since && absolute.getTime() <= since.getTime()) absolute = null;
  const seconds = typeof expiresIn === "string" && expiresIn.trim() !== ""
    ? Number(expiresIn)
    : expiresIn;
  const fromTtl = since && typeof seconds === "number" && Number.isFinite(seconds)
    ? new Date(since.getTime() + seconds * 1000)
    : null;
  return earliest([jwtExpiry(accessToken), absolute, fromTtl]);
}

export function earliest(dates: (Date | null)[]): Date | null {
  let first: Date | null = null;
  for (const date of dates) {
    if (date && (first === null || date.getTime() < first.getTime())) first = date;
  }
  return first;
}

export function jwtExpiry(token: string): Date | null {
  const exp = decodeJwtClaims(token).exp;
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : null;
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
