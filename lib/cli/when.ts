/**
 * Times for people: a local clock time and how far away it is, as `gh` and
 * friends show them — `18:42 (in 59 min)`, `yesterday 23:10 (13 h ago)`,
 * `2025-06-03 18:42 (in 2 days)` — never raw UTC with microseconds. The
 * time zone is a parameter (the context's), so tests are deterministic.
 *
 * @module
 */

/** How the clock is read: now, and the IANA time zone (undefined: the system's, i.e. TZ). */
export interface Clock {
  now: Date;
  timeZone?: string;
}

/** "42 s", "42 min", "5 h", "3 days": coarse, for people. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** `in 59 min` or `5 min ago`. */
export function relativeText(date: Date, now: Date): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  return seconds >= 0 ? `in ${durationText(seconds)}` : `${durationText(-seconds)} ago`;
}

/**
 * The local clock time of `date`: `18:42` on the same day as now, `tomorrow
 * 09:10` / `yesterday 23:10` next to it, else `2025-06-03 18:42`.
 */
export function clockText(date: Date, clock: Clock): string {
  const at = localParts(date, clock.timeZone);
  const today = localParts(clock.now, clock.timeZone);
  const time = `${at.hour}:${at.minute}`;
  const days = Math.round(dayNumber(at) - dayNumber(today));
  if (days === 0) return time;
  if (days === 1) return `tomorrow ${time}`;
  if (days === -1) return `yesterday ${time}`;
  return `${at.year}-${at.month}-${at.day} ${time}`;
}

/** `18:42 (in 59 min)`: {@link clockText} and {@link relativeText} together. */
export function whenText(date: Date, clock: Clock): string {
  return `${clockText(date, clock)} (${relativeText(date, clock.now)})`;
}

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
}

function localParts(date: Date, timeZone: string | undefined): Parts {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
  };
}

/** Days since the epoch of a local calendar date (for "today", "tomorrow"). */
function dayNumber(parts: Parts): number {
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / 86_400_000;
}
