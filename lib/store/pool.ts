/**
 * The credential pool (`credential_pool[<provider>]` in auth.json) as Hermes
 * keeps it: pure operations over an {@link AuthFile}, which the caller wraps
 * in `readAuthFile` / `updateAuthFile`.
 *
 * - Order: rows are shown and numbered by `priority` (lower first, ties in
 *   file order); `#1` is the first. This is the number `list` prints and
 *   `add` reports, and the order Hermes's `fill_first` pool tries them in.
 * - In use: the row behind the credential `token` and `status` pick
 *   (`pickCredential` in credentials.ts), so `list` marks what they use.
 * - Account: whose credential a row is (lib/store/identity.ts), shown by
 *   `list` so two accounts are told apart without showing a token.
 * - Health ({@link rowHealth}): `dead`, `exhausted` (inside its cooldown),
 *   `no_token`, else `ok` / `unknown`. A row that mirrors `providers[<id>]`
 *   (source `device_code` or `loopback_pkce`) also counts as dead when that
 *   state was quarantined (no access token left, or `last_auth_error` asks
 *   for a new login).
 * - Targets ({@link findRow}): `#N` is a position; otherwise the text is
 *   matched, as Hermes's `resolve_target` does, against ids, labels
 *   (case-insensitive) and, when it is a number, positions. When those
 *   point at more than one row the target is ambiguous; that and a target
 *   that matches nothing are usage errors listing the candidates.
 * - Order changes ({@link moveRow}): Hermes's `auth priority` — the row
 *   takes the position asked for and priorities are renumbered 0..n-1.
 * - Removal ({@link removeRow}), as Hermes's `auth remove`: the row goes and
 *   priorities are renumbered 0..n-1 (`remove_index`). Removing a row that
 *   mirrors `providers[<id>]` also deletes that state, removes every other
 *   row mirroring it (the other era's copy of the same grant) and adds each
 *   removed mirror's source to `suppressed_sources[<id>]`, so neither Hermes
 *   era re-seeds it (agent/credential_sources.py). A `manual:*` row leaves
 *   everything else alone.
 * - Logout ({@link logoutProvider}): `providers[<id>]` and every pool row go,
 *   and `active_provider` is cleared when it named the provider.
 *
 * @module
 */

import { usageError } from "../errors.ts";
import type { AuthFile, PoolRow } from "./auth_store.ts";
import { isMirrorSource, isUsable, pickCredential, rowAccount } from "./credentials.ts";
import { accountName } from "./identity.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { isRecord } from "./auth_file.ts";
import { poolRows } from "./stored_login.ts";
import { parseTimestamp } from "./timestamps.ts";

// The rows in priority order: the one order that `pickCredential` walks and `list` numbers.
export { poolRows };

/** Health of a row, from its `last_status` and cooldown. */
export type RowHealth = "ok" | "unknown" | "exhausted" | "dead" | "no_token";

/** A pool row with its position, its health and whether it is in use. */
export interface PoolEntry {
  /** 1-based position in priority order. */
  index: number;
  row: PoolRow;
  health: RowHealth;
  /** When an exhausted row may be tried again (null when not exhausted or unknown). */
  retryAt: Date | null;
  /** This row is behind the credential `token` would use now. */
  inUse: boolean;
  /** The account (e-mail, else `sub`) the row belongs to, when its tokens say. */
  account: string | null;
}

/** Hermes's cooldowns before an exhausted row is retried: 401 five minutes, else an hour. */
const COOLDOWN_401_MS = 5 * 60 * 1000;
const COOLDOWN_DEFAULT_MS = 60 * 60 * 1000;

/** Hermes's list of sources `auth remove` suppressed, per provider. */
const SUPPRESSED_KEY = "suppressed_sources";

/** Provider ids that have pool rows, in file order. */
export function pooledProviders(data: AuthFile): string[] {
  const pool = data.credential_pool;
  if (!isRecord(pool)) return [];
  return Object.keys(pool).filter((id) => poolRows(data, id).length > 0);
}

/**
 * Every row of `provider` in priority order, with its health and whether it
 * is the one in use (the row behind `pickCredential`'s choice, when that
 * choice is usable).
 */
export function poolEntries(
  data: AuthFile,
  provider: Pick<ProviderSpec, "id" | "storage">,
  now: Date,
): PoolEntry[] {
  const rows = poolRows(data, provider.id);
  const mirrorDead = mirrorIsDead(data, provider.id);
  const picked = pickCredential(data, provider, now);
  const inUseRow = picked && isUsable(picked.login, now) ? picked.row : undefined;
  return rows.map((row, i): PoolEntry => {
    const { health, retryAt } = rowHealth(row, now, mirrorDead && isMirrorSource(row.source));
    const inUse = inUseRow === row && health !== "dead" && health !== "no_token";
    const account = accountName(rowAccount(data, provider.id, row));
    return { index: i + 1, row, health, retryAt, inUse, account };
  });
}

/** Health of one row; `mirrorDead` marks the mirror of a quarantined login. */
export function rowHealth(
  row: PoolRow,
  now: Date,
  mirrorDead = false,
): { health: RowHealth; retryAt: Date | null } {
  if (typeof row.access_token !== "string" || row.access_token === "") {
    return { health: "no_token", retryAt: null };
  }
  if (row.last_status === "dead" || mirrorDead) return { health: "dead", retryAt: null };
  if (row.last_status === "exhausted") {
    const retryAt = exhaustedUntil(row);
    if (retryAt === null || retryAt.getTime() > now.getTime()) {
      return { health: "exhausted", retryAt };
    }
    return { health: "ok", retryAt: null };
  }
  return { health: row.last_status === "ok" ? "ok" : "unknown", retryAt: null };
}

/** Hermes's `_exhausted_until`: the provider's reset time, else status time plus the cooldown. */
function exhaustedUntil(row: PoolRow): Date | null {
  const reset = parseTimestamp(row.last_error_reset_at);
  if (reset) return reset;
  const since = parseTimestamp(row.last_status_at);
  if (!since) return null;
  const cooldown = Number(row.last_error_code) === 401 ? COOLDOWN_401_MS : COOLDOWN_DEFAULT_MS;
  return new Date(since.getTime() + cooldown);
}

/** The mirrored login was quarantined: no access token, or a recorded relogin demand. */
function mirrorIsDead(data: AuthFile, providerId: string): boolean {
  const state = data.providers?.[providerId];
  if (!isRecord(state)) return false;
  const error = state.last_auth_error;
  if (isRecord(error) && error.relogin_required === true) return true;
  const tokens = state.tokens;
  if (isRecord(tokens)) return !tokens.access_token;
  // A flat layout (Spotify) keeps the token at the top.
  return "access_token" in state && !state.access_token;
}

/** A short description of a row for messages: `#2 "work" (id=a1b2c3)`. */
export function describeRow(index: number, row: PoolRow): string {
  return `#${index} ${JSON.stringify(String(row.label ?? ""))} (id=${row.id})`;
}

/**
 * Find the row `target` names among the rows of `providerId`: `#N` is the
 * N-th row; otherwise every row whose id equals the target, whose label
 * equals it ignoring case, or (for a number N) that is the N-th. Throws a
 * usage error (exit 2) that lists the candidates when nothing or more than
 * one row matches, and when there are no rows at all.
 */
export function findRow(
  data: AuthFile,
  providerId: string,
  target: string,
): { index: number; row: PoolRow } {
  const rows = poolRows(data, providerId);
  const raw = target.trim();
  const listing = rows.map((row, i) => `  ${describeRow(i + 1, row)}`).join("\n");
  const fix = `Name one of them by #index, id or label (see \`hermes-auth list ${providerId}\`).`;
  if (rows.length === 0) {
    throw usageError(
      `No ${providerId} credentials are stored, so there is nothing called "${target}".`,
      `See what is stored with \`hermes-auth list\`.`,
    );
  }
  if (raw === "") throw usageError(`No credential named.\n${listing}`, fix);

  const matches = new Set<number>();
  const hash = /^#(\d+)$/.exec(raw);
  if (hash) {
    const n = Number(hash[1]);
    if (n >= 1 && n <= rows.length) matches.add(n - 1);
  } else {
    const lower = raw.toLowerCase();
    rows.forEach((row, i) => {
      if (String(row.id ?? "").toLowerCase() === lower) matches.add(i);
      if (String(row.label ?? "").trim().toLowerCase() === lower) matches.add(i);
    });
    if (/^\d+$/.test(raw)) {
      const n = Number(raw);
      if (n >= 1 && n <= rows.length) matches.add(n - 1);
    }
  }
  if (matches.size === 1) {
    const [i] = matches;
    return { index: i + 1, row: rows[i] };
  }
  if (matches.size === 0) {
    throw usageError(
      `No ${providerId} credential matches "${target}". Stored credentials:\n${listing}`,
      fix,
    );
  }
  const candidates = [...matches].sort((a, b) => a - b)
    .map((i) => `  ${describeRow(i + 1, rows[i])}`).join("\n");
  throw usageError(
    `"${target}" matches more than one ${providerId} credential:\n${candidates}`,
    hash === null && /^\d+$/.test(raw)
      ? `Use #${raw} for the position, or the id, to say which one you mean.`
      : "Use the #index or the id to say which one you mean.",
  );
}

/** What {@link removeRow} did. */
export interface RemovedRow {
  /** The position the row had. */
  index: number;
  row: PoolRow;
  /** `providers[<id>]` was deleted because this row mirrored it. */
  clearedLogin: boolean;
  /** Other rows removed with it: the other era's mirrors of the same login state. */
  alsoRemoved: { index: number; row: PoolRow }[];
  /** Sources added to `suppressed_sources[<id>]` (the removed mirrors'), in order. */
  suppressed: string[];
  /** Rows left. */
  remaining: number;
}

/**
 * Remove the row `target` names (see {@link findRow}, whose usage errors it
 * throws before changing anything) and renumber the priorities of the rest
 * 0..n-1 in order; the pool is written back in that order. When the row
 * mirrored `providers[<id>]` (source `device_code` or `loopback_pkce`), that
 * state is deleted too, so are the other rows mirroring it, and each removed
 * mirror's source is suppressed, as Hermes's removal step does for its own
 * era's source.
 */
export function removeRow(data: AuthFile, providerId: string, target: string): RemovedRow {
  const { index, row } = findRow(data, providerId, target);
  const ordered = poolRows(data, providerId);
  const mirror = isMirrorSource(row.source);
  const gone = new Set<PoolRow>([row]);
  if (mirror) { for (const other of ordered) if (isMirrorSource(other.source)) gone.add(other); }
  const alsoRemoved = ordered.flatMap((r, i) =>
    gone.has(r) && r !== row ? [{ index: i + 1, row: r }] : []
  );
  const rest = ordered.filter((r) => !gone.has(r));
  rest.forEach((r, i) => r.priority = i);
  const pool = data.credential_pool ??= {};
  pool[providerId] = rest;

  let clearedLogin = false;
  const suppressed: string[] = [];
  if (mirror) {
    if (isRecord(data.providers) && providerId in data.providers) {
      delete data.providers[providerId];
      clearedLogin = true;
    }
    for (const r of [row, ...alsoRemoved.map((a) => a.row)]) {
      const source = String(r.source);
      if (!suppressed.includes(source)) suppressed.push(source);
      suppress(data, providerId, source);
    }
  }
  return { index, row, clearedLogin, alsoRemoved, suppressed, remaining: rest.length };
}

/** What {@link moveRow} did. */
export interface MovedRow {
  row: PoolRow;
  /** Position before and after (1-based). */
  from: number;
  to: number;
}

/**
 * Hermes's `auth priority <provider> <target> <priority>` (`move_entry`):
 * put the row `target` names (see {@link findRow}) at 1-based `position`
 * (clamped to the pool), shift the others, renumber priorities 0..n-1, and
 * write the pool back in that order.
 */
export function moveRow(
  data: AuthFile,
  providerId: string,
  target: string,
  position: number,
): MovedRow {
  const { index, row } = findRow(data, providerId, target);
  const rest = poolRows(data, providerId).filter((r) => r !== row);
  const to = Math.min(Math.max(1, Math.floor(position)), rest.length + 1);
  rest.splice(to - 1, 0, row);
  rest.forEach((r, i) => r.priority = i);
  const pool = data.credential_pool ??= {};
  pool[providerId] = rest;
  return { row, from: index, to };
}

/** Hermes's `suppress_credential_source`: a list per provider, no duplicates. */
function suppress(data: AuthFile, providerId: string, source: string): void {
  const current = data[SUPPRESSED_KEY];
  const suppressed: Record<string, unknown> = isRecord(current) ? current : {};
  const raw = suppressed[providerId];
  // The legacy dict form is migrated to a list, as Hermes does on load.
  const list = Array.isArray(raw) ? raw : isRecord(raw) ? Object.keys(raw) : [];
  if (!list.includes(source)) list.push(source);
  suppressed[providerId] = list;
  data[SUPPRESSED_KEY] = suppressed;
}

/** What {@link logoutProvider} removed. */
export interface LogoutResult {
  /** `providers[<id>]` existed and was deleted. */
  login: boolean;
  /** The pool rows deleted, with the positions they had. */
  rows: { index: number; row: PoolRow }[];
  /** `active_provider` named the provider and is now null. */
  wasActive: boolean;
}

/**
 * Hermes's `clear_provider_auth`: delete `providers[<id>]` and
 * `credential_pool[<id>]`, and set `active_provider` to null when it was
 * this provider. `suppressed_sources` is left as it is (a later login lifts
 * it). Returns what was there; all false/empty means nothing changed.
 */
export function logoutProvider(data: AuthFile, providerId: string): LogoutResult {
  const rows = poolRows(data, providerId).map((row, i) => ({ index: i + 1, row }));
  const login = isRecord(data.providers) && providerId in data.providers;
  if (login) delete data.providers[providerId];
  if (isRecord(data.credential_pool) && providerId in data.credential_pool) {
    delete data.credential_pool[providerId];
  }
  const wasActive = data.active_provider === providerId;
  if (wasActive) data.active_provider = null;
  return { login, rows, wasActive };
}

/** True when {@link logoutProvider} would change something. */
export function hasProviderState(data: AuthFile, providerId: string): boolean {
  const pool = data.credential_pool;
  return (isRecord(data.providers) && providerId in data.providers) ||
    (isRecord(pool) && providerId in pool) || data.active_provider === providerId;
}
