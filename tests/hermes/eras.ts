/**
 * What Hermes Agent's own code does with an auth.json, in each era, written
 * for these tests from reading the public NousResearch/hermes-agent source
 * (nothing copied; each step names the function it follows). The tests run
 * hermes-auth's output through it to see what Hermes would prune, re-seed,
 * relabel, strip or select.
 *
 * Eras (docs/hermes-compat.md):
 * - `loopback`: the pool mirror of `providers["xai-oauth"]` has source
 *   `loopback_pkce` — hermes_cli/auth.py @5cf25acc (May 2026; the login
 *   writes the state only, `load_pool` seeds the row) and
 *   agent/credential_pool.py, agent/credential_persistence.py,
 *   hermes_cli/auth_commands.py @c786e61a (late June).
 * - `device_code`: the mirror has source `device_code`; `hermes auth add`
 *   adds `manual:device_code` rows — agent/credential_pool.py @0056d634,
 *   agent/credential_persistence.py @0e474ebd, hermes_cli/auth_commands.py
 *   @00067189, agent/credential_sources.py @013d750b.
 *
 * Not modelled: refresh requests, env-seeded and other providers' sources,
 * the profile-mode fork heal (`heal_forked_single_use_oauth_grants` runs
 * only when a profile's auth.json differs from the root's), the 24 h prune
 * of dead manual rows, the SHA-256 value of `secret_fingerprint`.
 *
 * @module
 */

export type Era = "loopback" | "device_code";
export const ERAS: readonly Era[] = ["loopback", "device_code"];

type Json = Record<string, unknown>;

/** The source of the row each era seeds from `providers["xai-oauth"]`. */
export function mirrorSourceOf(era: Era): string {
  return era === "loopback" ? "loopback_pkce" : "device_code";
}

/** `DEFAULT_XAI_OAUTH_BASE_URL`, the base_url every seeded xAI row gets. */
export const XAI_BASE_URL = "https://api.x.ai/v1";

/** `_PERSISTABLE_PROVIDER_SOURCES` (credential_persistence.py): owned sources; the rest are borrowed. */
function persistable(era: Era): Set<string> {
  return new Set([
    "anthropic/hermes_pkce",
    "minimax-oauth/oauth",
    "nous/device_code",
    "openai-codex/device_code",
    `xai-oauth/${mirrorSourceOf(era)}`,
  ]);
}

/** `is_borrowed_credential_source`. */
export function isBorrowed(source: unknown, provider: string, era: Era): boolean {
  const s = String(source ?? "").trim().toLowerCase();
  if (!s) return false;
  if (s === "manual" || s.startsWith("manual:")) return false;
  return !persistable(era).has(`${provider.trim().toLowerCase()}/${s}`);
}

/** `_is_manual_source`. */
function isManual(source: unknown): boolean {
  const s = String(source ?? "").trim().toLowerCase();
  return s === "manual" || s.startsWith("manual:");
}

/** The `PooledCredential` dataclass fields, in declaration order (`provider` and `extra` aside). */
export const FIELDS = [
  "id",
  "label",
  "auth_type",
  "priority",
  "source",
  "access_token",
  "refresh_token",
  "last_status",
  "last_status_at",
  "last_error_code",
  "last_error_reason",
  "last_error_message",
  "last_error_reset_at",
  "base_url",
  "expires_at",
  "expires_at_ms",
  "last_refresh",
  "inference_base_url",
  "agent_key",
  "agent_key_expires_at",
  "request_count",
];

/** `_EXTRA_KEYS`: round-tripped, never used; any other key of a row is dropped by `from_dict`. */
export const EXTRA_KEYS = [
  "token_type",
  "scope",
  "client_id",
  "portal_base_url",
  "obtained_at",
  "expires_in",
  "agent_key_id",
  "agent_key_expires_in",
  "agent_key_reused",
  "agent_key_obtained_at",
  "tls",
  "secret_source",
  "secret_fingerprint",
];

const ALWAYS_EMIT = new Set([
  "last_status",
  "last_status_at",
  "last_error_code",
  "last_error_reason",
  "last_error_message",
  "last_error_reset_at",
]);

/** A pool entry as `PooledCredential` holds it: the fields, and the extras apart. */
interface Entry {
  fields: Json;
  extra: Json;
}

/** `PooledCredential.from_dict`. */
function fromDict(provider: string, payload: Json): Entry {
  const fields: Json = { request_count: 0 };
  for (const key of FIELDS) if (key in payload) fields[key] = payload[key];
  const extra: Json = {};
  for (const key of EXTRA_KEYS) {
    if (key in payload && payload[key] !== null && payload[key] !== undefined) {
      extra[key] = payload[key];
    }
  }
  fields.id ??= randomId();
  if (!("label" in fields)) fields.label = payload.source ?? provider;
  if (!("auth_type" in fields)) fields.auth_type = "api_key";
  if (!("priority" in fields)) fields.priority = 0;
  if (!("source" in fields)) fields.source = "manual";
  if (!("access_token" in fields)) fields.access_token = "";
  return { fields, extra };
}

/** `PooledCredential.to_dict` (None left out except the status fields), then the disk sanitizer. */
function toDict(provider: string, entry: Entry, era: Era): Json {
  const out: Json = {};
  for (const key of FIELDS) {
    const value = entry.fields[key];
    if ((value !== null && value !== undefined) || ALWAYS_EMIT.has(key)) out[key] = value ?? null;
  }
  for (const [key, value] of Object.entries(entry.extra)) {
    if (value !== null && value !== undefined) out[key] = value;
  }
  return sanitize(out, provider, era);
}

const SECRET_KEYS = new Set([
  "access_token",
  "refresh_token",
  "agent_key",
  "api_key",
  "apikey",
  "api_token",
  "auth_token",
  "authorization",
  "bearer_token",
  "client_secret",
  "credential",
  "credentials",
  "id_token",
  "oauth_token",
  "private_key",
  "secret_key",
  "session_token",
  "password",
  "secret",
  "token",
  "tokens",
]);
const SAFE_KEYS = new Set([
  "secret_fingerprint",
  "secret_source",
  "token_type",
  "scope",
  "client_id",
  "agent_key_id",
  "agent_key_expires_at",
  "agent_key_expires_in",
  "agent_key_reused",
  "agent_key_obtained_at",
  "expires_at",
  "expires_at_ms",
  "expires_in",
  "last_refresh",
  "last_status",
  "last_status_at",
  "last_error_code",
  "last_error_reason",
  "last_error_message",
  "last_error_reset_at",
]);

function isSecretKey(key: string): boolean {
  const k = key.replace(/(?<=[a-z0-9])(?=[A-Z])/g, "_").toLowerCase().replaceAll("-", "_");
  if (SAFE_KEYS.has(k)) return false;
  return SECRET_KEYS.has(k) ||
    /_(api_key|api_token|access_token|auth_token|refresh_token|bearer_token|client_secret|id_token|oauth_token|private_key|session_token|secret_key|password|secret|token|key)$/
      .test(k);
}

/** `sanitize_borrowed_credential_payload`: a borrowed row keeps metadata and a fingerprint only. */
function sanitize(payload: Json, provider: string, era: Era): Json {
  if (!isBorrowed(payload.source, provider, era)) return { ...payload };
  const out: Json = {};
  for (const [key, value] of Object.entries(payload)) if (!isSecretKey(key)) out[key] = value;
  if (payload.access_token || payload.refresh_token) {
    out.secret_fingerprint = "sha256:(not modelled)";
  }
  return out;
}

/** `_decode_jwt_claims`. */
function claims(token: unknown): Json {
  if (typeof token !== "string" || token.split(".").length !== 3) return {};
  try {
    const b64 = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const json = new TextDecoder().decode(
      Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0)),
    );
    const parsed = JSON.parse(json);
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** `label_from_token`: the token's email / preferred_username / upn, else `fallback`. */
export function labelFromToken(token: unknown, fallback: string): string {
  const c = claims(token);
  for (const key of ["email", "preferred_username", "upn"]) {
    const value = c[key];
    if (typeof value === "string" && value.trim()) return value.trim();
  }
  return fallback;
}

/** `_xai_access_token_is_expiring`: the JWT `exp` only; no `exp` means not expiring. */
export function xaiAccessTokenIsExpiring(token: unknown, skewSeconds: number, now: Date): boolean {
  const exp = claims(token).exp;
  return typeof exp === "number" && exp <= now.getTime() / 1000 + Math.max(0, skewSeconds);
}

/** What one `load_pool` did. */
export interface LoadReport {
  /** Whether it wrote the pool back. */
  changed: boolean;
  /** Ids of rows whose tokens the disk sanitizer stripped. */
  sanitized: string[];
  /** Ids of rows it dropped (stale seeded rows, duplicate mirror rows). */
  pruned: string[];
  /** Ids of rows it created from `providers[…]`. */
  seeded: string[];
  /** Ids of rows whose label it changed. */
  relabelled: string[];
  /** Ids of existing rows whose fields the seeding updated, with the field names. */
  updated: Record<string, string[]>;
  /** The rows as the pool holds them afterwards, in priority order (`to_dict` form). */
  rows: Json[];
}

function suppressedSources(file: Json, provider: string): string[] {
  const all = file.suppressed_sources;
  if (typeof all !== "object" || all === null) return [];
  const list = (all as Json)[provider];
  return Array.isArray(list) ? list.map(String) : [];
}

/** `_upsert_entry` (era differences: only today's drops duplicate rows and clears a stale status). */
function upsert(
  entries: Entry[],
  provider: string,
  source: string,
  payload: Json,
  era: Era,
  report: LoadReport,
): void {
  const matching = entries.flatMap((e, i) => e.fields.source === source ? [i] : []);
  if (era === "device_code" && matching.length > 1) {
    const drop = new Set(matching.slice(1));
    for (const i of drop) report.pruned.push(String(entries[i].fields.id));
    const kept = entries.filter((_, i) => !drop.has(i));
    entries.splice(0, entries.length, ...kept);
  }
  const index = entries.findIndex((e) => e.fields.source === source);
  if (index < 0) {
    const entry = fromDict(provider, {
      id: randomId(),
      priority: entries.reduce((m, e) => Math.max(m, Number(e.fields.priority ?? 0)), -1) + 1,
      ...payload,
      label: payload.label || source,
    });
    entries.push(entry);
    report.seeded.push(String(entry.fields.id));
    return;
  }
  const existing = entries[index];
  const changedFields: string[] = [];
  const tokenChanged = payload.access_token !== null && payload.access_token !== undefined &&
    payload.access_token !== existing.fields.access_token;
  for (const [key, value] of Object.entries(payload)) {
    if (key === "id" || key === "priority" || value === null || value === undefined) continue;
    if (key === "label" && existing.fields.label) continue;
    if (FIELDS.includes(key)) {
      if (existing.fields[key] !== value) {
        existing.fields[key] = value;
        changedFields.push(key);
        if (key === "label") report.relabelled.push(String(existing.fields.id));
      }
    } else if (EXTRA_KEYS.includes(key) && existing.extra[key] !== value) {
      existing.extra[key] = value;
      changedFields.push(key);
    }
  }
  if (
    era === "device_code" && tokenChanged && existing.fields.last_status !== null &&
    existing.fields.last_status !== undefined
  ) {
    for (const key of ALWAYS_EMIT) existing.fields[key] = null;
    changedFields.push("last_status");
  }
  if (changedFields.length > 0) report.updated[String(existing.fields.id)] = changedFields;
}

/**
 * `load_pool("xai-oauth")`: read the rows (`from_dict`), seed the mirror row
 * from `providers["xai-oauth"]` unless its source is suppressed
 * (`_seed_from_singletons`), prune stale seeded rows
 * (`_prune_stale_seeded_entries`), and write the pool back when anything
 * changed — including a row the disk sanitizer would strip. Returns the new
 * file and what happened.
 */
export function loadPool(
  file: Json,
  era: Era,
  provider = "xai-oauth",
): { file: Json } & LoadReport {
  const next = structuredClone(file);
  const pool = (next.credential_pool ?? {}) as Json;
  const raw = (Array.isArray(pool[provider]) ? pool[provider] : []) as Json[];
  const report: LoadReport = {
    changed: false,
    sanitized: [],
    pruned: [],
    seeded: [],
    relabelled: [],
    updated: {},
    rows: [],
  };
  for (const payload of raw) {
    if (JSON.stringify(sanitize(payload, provider, era)) !== JSON.stringify(payload)) {
      report.sanitized.push(String(payload.id));
    }
  }
  const entries = raw.map((payload) => fromDict(provider, payload));
  const before = JSON.stringify(entries.map((e) => toDict(provider, e, era)));

  const active = new Set<string>();
  const source = mirrorSourceOf(era);
  const state = ((next.providers ?? {}) as Json)[provider] as Json | undefined;
  const tokens = state && typeof state.tokens === "object" ? state.tokens as Json : undefined;
  if (
    provider === "xai-oauth" && !suppressedSources(next, provider).includes(source) &&
    tokens?.access_token
  ) {
    active.add(source);
    upsert(
      entries,
      provider,
      source,
      {
        source,
        auth_type: "oauth",
        access_token: tokens.access_token ?? "",
        refresh_token: tokens.refresh_token ?? null,
        base_url: XAI_BASE_URL,
        last_refresh: state!.last_refresh ?? null,
        label: labelFromToken(tokens.access_token, source),
      },
      era,
      report,
    );
  }
  const kept = entries.filter((e) => {
    const src = String(e.fields.source ?? "");
    const prunable = src.startsWith("env:")
      ? false
      : isBorrowed(src, provider, era) || src === "hermes_pkce";
    const keep = isManual(src) || active.has(src) || !prunable;
    if (!keep) report.pruned.push(String(e.fields.id));
    return keep;
  });

  const rows = kept
    .map((e, i) => ({ e, i }))
    .sort((a, b) =>
      Number(a.e.fields.priority ?? 0) - Number(b.e.fields.priority ?? 0) || a.i - b.i
    )
    .map(({ e }) => toDict(provider, e, era));
  report.changed = report.sanitized.length > 0 || JSON.stringify(rows) !== before ||
    kept.length !== entries.length;
  report.rows = rows;
  if (report.changed) {
    next.credential_pool = { ...pool, [provider]: rows };
  }
  return { file: next, ...report };
}

/** `_exhausted_ttl` without the sole-credential case: 401 → 5 min, else 1 h. */
function cooldownSeconds(code: unknown): number {
  return Number(code) === 401 ? 300 : 3600;
}

/**
 * `CredentialPool.select()` with the default `fill_first` strategy: load the
 * pool, skip dead rows and exhausted rows in their cooldown, take the first
 * in priority order. `needsRefresh` says whether Hermes would spend its
 * refresh token first (the proactive skew: 120 s in the loopback era, up to
 * an hour today, `_xai_proactive_refresh_skew_seconds`).
 */
export function select(
  file: Json,
  era: Era,
  now: Date,
): { row: Json; needsRefresh: boolean } | null {
  for (const row of loadPool(file, era).rows) {
    if (row.last_status === "dead") continue;
    if (row.last_status === "exhausted") {
      const since = Number(row.last_status_at ?? 0);
      if (since && now.getTime() / 1000 < since + cooldownSeconds(row.last_error_code)) continue;
    }
    const skew = era === "loopback" ? 120 : proactiveSkew(row.access_token, now);
    const needsRefresh = row.auth_type === "oauth" && Boolean(row.refresh_token) &&
      xaiAccessTokenIsExpiring(row.access_token, skew, now);
    return { row, needsRefresh };
  }
  return null;
}

function proactiveSkew(token: unknown, now: Date): number {
  const exp = claims(token).exp;
  if (typeof exp !== "number") return 3600;
  const remaining = exp - now.getTime() / 1000;
  return remaining > 0 && remaining <= 45 * 60 ? 120 : 3600;
}

/**
 * `get_xai_oauth_auth_status`: the pool first (its selected row, when the
 * JWT has not expired: `source` is `pool:<label>`), then the login state.
 */
export function xaiAuthStatus(
  file: Json,
  era: Era,
  now: Date,
): { loggedIn: boolean; source?: string } {
  const picked = select(file, era, now);
  if (
    picked && picked.row.access_token && !xaiAccessTokenIsExpiring(picked.row.access_token, 0, now)
  ) {
    return { loggedIn: true, source: `pool:${picked.row.label}` };
  }
  const state = ((file.providers ?? {}) as Json)["xai-oauth"] as Json | undefined;
  const tokens = state?.tokens as Json | undefined;
  if (tokens?.access_token && tokens?.refresh_token) {
    return { loggedIn: true, source: "hermes-auth-store" };
  }
  return { loggedIn: false };
}

/**
 * `hermes auth remove xai-oauth <target>`: `load_pool`, `resolve_target`
 * (id, then a unique label ignoring case, then a 1-based number),
 * `remove_index` (priorities renumbered), then the source's removal step:
 * the era's mirror source clears `providers["xai-oauth"]` and is suppressed;
 * a `manual:*` row has no step.
 */
export function authRemove(file: Json, era: Era, target: string): Json {
  const loaded = loadPool(file, era).file;
  const rows = loadPool(loaded, era).rows;
  let index = rows.findIndex((r) => r.id === target);
  if (index < 0) {
    const byLabel = rows.flatMap((r, i) =>
      String(r.label).trim().toLowerCase() === target.toLowerCase() ? [i] : []
    );
    if (byLabel.length === 1) index = byLabel[0];
    else if (/^\d+$/.test(target)) index = Number(target) - 1;
  }
  if (index < 0 || index >= rows.length) throw new Error(`No credential matching "${target}".`);
  const [removed] = rows.splice(index, 1);
  rows.forEach((r, i) => r.priority = i);
  const next = structuredClone(loaded);
  next.credential_pool = { ...(next.credential_pool as Json ?? {}), "xai-oauth": rows };
  if (removed.source === mirrorSourceOf(era)) {
    delete (next.providers as Json)["xai-oauth"];
    const suppressed = (next.suppressed_sources ?? {}) as Json;
    const list = Array.isArray(suppressed["xai-oauth"]) ? suppressed["xai-oauth"] as string[] : [];
    if (!list.includes(String(removed.source))) list.push(String(removed.source));
    next.suppressed_sources = { ...suppressed, "xai-oauth": list };
  }
  return next;
}

/** A token set as the xAI token endpoint returns it. */
export interface XaiTokens {
  access_token: string;
  refresh_token: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
}

/**
 * An auth.json after a Hermes xAI login of that era, then one `load_pool`:
 * `_save_xai_oauth_tokens` writes `providers["xai-oauth"]` (tokens,
 * `last_refresh` in the Z form, `auth_mode` — `oauth_pkce` with a
 * `redirect_uri` in the loopback era, `oauth_device_code` today —,
 * `discovery`) and makes it active; `load_pool` seeds the mirror row.
 */
export function hermesLogin(
  era: Era,
  tokens: XaiTokens,
  options: { now: Date; file?: Json; tokenEndpoint?: string } = { now: new Date() },
): Json {
  const file: Json = structuredClone(options.file ?? { version: 1, providers: {} });
  const providers = (file.providers ??= {}) as Json;
  const state = { ...(providers["xai-oauth"] as Json ?? {}) };
  Object.assign(state, {
    tokens: {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      id_token: tokens.id_token ?? "",
      expires_in: tokens.expires_in ?? null,
      token_type: tokens.token_type ?? "Bearer",
    },
    last_refresh: pythonIsoZ(options.now),
    auth_mode: era === "loopback" ? "oauth_pkce" : "oauth_device_code",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: options.tokenEndpoint ?? "https://auth.x.ai/oauth2/token",
    },
  });
  if (era === "loopback") state.redirect_uri = "http://127.0.0.1:56121/callback";
  providers["xai-oauth"] = state;
  file.active_provider = "xai-oauth";
  file.updated_at = options.now.toISOString().replace("Z", "+00:00");
  return loadPool(file, era).file;
}

/**
 * Today's `hermes auth add xai-oauth` (`_add_credential`): every account its
 * own `manual:device_code` row, labelled `--label` or `label_from_token`
 * (else `xai-oauth-oauth-<n+1>`), priority after the others; the first
 * credential makes the provider active when none is.
 */
export function hermesAuthAdd(
  file: Json,
  tokens: XaiTokens,
  options: { now: Date; label?: string },
): Json {
  const next = loadPool(file, "device_code").file;
  const pool = (next.credential_pool ??= {}) as Json;
  const rows = (Array.isArray(pool["xai-oauth"]) ? pool["xai-oauth"] : []) as Json[];
  const entry = fromDict("xai-oauth", {
    id: randomId(),
    label: options.label ??
      labelFromToken(tokens.access_token, `xai-oauth-oauth-${rows.length + 1}`),
    auth_type: "oauth",
    priority: rows.reduce((m, r) => Math.max(m, Number(r.priority ?? 0)), -1) + 1,
    source: "manual:device_code",
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    base_url: XAI_BASE_URL,
    last_refresh: pythonIsoZ(options.now),
  });
  pool["xai-oauth"] = [...rows, toDict("xai-oauth", entry, "device_code")];
  if (rows.length === 0 && !next.active_provider) next.active_provider = "xai-oauth";
  return next;
}

/**
 * Every place a refresh token is held: the login state and the rows. A
 * grant is forked when one token is held by a `manual:*` row and anything
 * else: both would refresh it and one would replay a used token.
 */
export function refreshTokenHolders(file: Json, provider = "xai-oauth"): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  const add = (token: unknown, who: string) => {
    if (typeof token !== "string" || token === "") return;
    holders.set(token, [...holders.get(token) ?? [], who]);
  };
  const state = ((file.providers ?? {}) as Json)[provider] as Json | undefined;
  add((state?.tokens as Json | undefined)?.refresh_token, "state");
  const rows = ((file.credential_pool ?? {}) as Json)[provider];
  for (const row of (Array.isArray(rows) ? rows : []) as Json[]) {
    add(row.refresh_token, `${row.source}:${row.id}`);
  }
  return holders;
}

/** Refresh tokens held by a manual row and by something else as well. */
export function forkedGrants(file: Json, provider = "xai-oauth"): string[][] {
  return [...refreshTokenHolders(file, provider).values()].filter((who) =>
    who.length > 1 && who.some((w) => w.startsWith("manual"))
  );
}

/** Python's `datetime.isoformat().replace("+00:00", "Z")` (`_utc_now_z`). */
function pythonIsoZ(date: Date): string {
  const iso = date.toISOString().slice(0, 19);
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? `${iso}Z` : `${iso}.${String(ms).padStart(3, "0")}000Z`;
}

function randomId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(3)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** An unsigned JWT with these claims (Hermes reads claims without verifying). */
export function jwt(claims: Json): string {
  const b64 = (value: unknown) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.signature`;
}

/** The tokens xAI would issue an account: JWTs naming it (`sub`, `email`), `exp` from `expiresAt`. */
export function accountTokens(
  account: { sub: string; email?: string },
  options: { expiresAt: Date; serial?: string },
): XaiTokens {
  const exp = Math.floor(options.expiresAt.getTime() / 1000);
  const serial = options.serial ?? crypto.randomUUID().slice(0, 8);
  const common = { iss: "https://auth.x.ai", sub: account.sub, exp };
  return {
    access_token: jwt({
      ...common,
      aud: "https://api.x.ai",
      jti: `a-${serial}`,
      ...(account.email ? { email: account.email } : {}),
    }),
    refresh_token: `refresh-${account.sub}-${serial}`,
    id_token: jwt({
      ...common,
      aud: "b1a00492-073a-47ea-816f-4c329264a828",
      ...(account.email ? { email: account.email } : {}),
    }),
    expires_in: 3600,
    token_type: "Bearer",
  };
}
