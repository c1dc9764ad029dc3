/**
 * Timestamps as Hermes writes and reads them. Python's
 * `datetime.isoformat()` gives `2025-01-31T12:00:00.123000+00:00` (six
 * fraction digits, none at all on a whole second); Hermes writes that form
 * for `updated_at`, Spotify's `obtained_at`/`expires_at` and the `at` of
 * `last_auth_error`, and the same with `Z` (`_utc_now_z`) for xAI's
 * `last_refresh`. Both forms parse with every Python `fromisoformat` Hermes
 * runs on, and with `Date.parse`.
 *
 * @module
 */

/** Python `datetime.now(timezone.utc).isoformat()`: `…T12:00:00.123000+00:00`. */
export function isoUtc(date: Date): string {
  return pythonIso(date) + "+00:00";
}

/** Hermes's `_utc_now_z()`: like {@link isoUtc} with `Z` for the offset. */
export function isoUtcZ(date: Date): string {
  return pythonIso(date) + "Z";
}

function pythonIso(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("Invalid Date");
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const seconds = iso.slice(0, 19);
  const millis = date.getUTCMilliseconds();
  return millis === 0 ? seconds : `${seconds}.${String(millis).padStart(3, "0")}000`;
}

/**
 * A stored instant as a Date: an ISO string (either offset form, any
 * fraction length), or a number of epoch seconds (milliseconds when it is
 * too large to be seconds), as Hermes's `_parse_absolute_timestamp` accepts.
 * Null for anything else.
 */
export function parseTimestamp(value: unknown): Date | null {
  if (typeof value === "number") return fromEpoch(value);
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (text === "") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function fromEpoch(n: number): Date | null {
  if (!Number.isFinite(n) || n <= 0) return null;
  return new Date(n > 1_000_000_000_000 ? n : n * 1000);
}
