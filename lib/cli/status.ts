/**
 * `hermes-auth status [provider]`: the "Auth Providers" view. One line per
 * provider — ✓ or ⚠, logged in or not, how long the access token lasts,
 * label and source — and for a login that needs attention, what went wrong
 * and the command that fixes it. Reads auth.json without the lock and
 * without the network: it shows what is stored, and never refreshes.
 *
 * `collectStatus` and `renderStatus` are exported for `doctor`'s "Auth
 * Providers" section.
 *
 * @module
 */
import { type AuthError, Exit } from "../errors.ts";
import { type Output, printable } from "../output.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { type AuthFile, readAuthFile } from "../store/auth_store.ts";
import {
  accountOf,
  isUsable,
  labelFromToken,
  lastAuthError,
  pickCredential,
} from "../store/credentials.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { poolRows } from "../store/pool.ts";
import { parseTimestamp } from "../store/timestamps.ts";
import type { Context } from "./context.ts";
import { knownProvidersChecked, providerNamed } from "./providers.ts";
import { type Clock, whenText } from "./when.ts";

/** One provider's login as `status` (and `doctor`) show it. Carries no token. */
export interface ProviderStatus {
  /** Canonical provider id. */
  provider: string;
  displayName: string;
  /** A stored login exists (with an access token). */
  loggedIn: boolean;
  /** A token can be had now: the access token is valid, or it can be refreshed. */
  usable: boolean;
  /** Access token expiry, ISO 8601; null when none is known. */
  expiresAt: string | null;
  /** Seconds until then (negative once expired); null when unknown. */
  expiresIn: number | null;
  /** A refresh token is stored, so `token` renews the access token by itself. */
  refreshable: boolean;
  /** The credential's label (pool row label, else the token's email), if any. */
  label: string | null;
  /** The account (e-mail, else `sub`) the credential belongs to, when its tokens say. */
  account: string | null;
  /** Where the credential came from (pool row source, e.g. `device_code`), if known. */
  source: string | null;
  /** Hermes's `active_provider` is this one. */
  active: boolean;
  /** Rows in `credential_pool[<id>]`. */
  credentials: number;
  /** The last recorded failure (a refresh token rejected, …), if any. */
  lastError: { code: string | null; message: string; at: string | null } | null;
  /** One line on what to do, when something needs doing. */
  fix: string | null;
  /** A custom provider whose config.yaml entry is invalid: what is wrong, and on which line. */
  configError: { message: string; line: number | null } | null;
}

/**
 * The status of `providerIds` (ids or aliases), or of every built-in
 * provider when none are given, from auth.json under `$HERMES_HOME`.
 * Unknown ids are a usage error (exit 2).
 */
export async function collectStatus(
  ctx: Pick<Context, "env" | "now">,
  providerIds?: string[],
): Promise<ProviderStatus[]> {
  return (await collect(ctx, providerIds)).statuses;
}

/** The statuses, and (for the all-providers view) a config.yaml that could not be read at all. */
async function collect(
  ctx: Pick<Context, "env" | "now">,
  providerIds?: string[],
): Promise<{ statuses: ProviderStatus[]; configError?: AuthError }> {
  // A broken config.yaml must not hide the built-in logins, nor a bad entry the good ones.
  const checked = providerIds?.length ? undefined : await knownProvidersChecked(ctx);
  const providers = checked?.providers ??
    await Promise.all((providerIds ?? []).map((id) => providerNamed(ctx, id)));
  const home = hermesHome(ctx.env);
  const { data, corrupt, problem } = await readAuthFile(home);
  const now = ctx.now();
  const statuses = providers.map((provider) => {
    const status = providerStatus(provider, data, now);
    if (corrupt) {
      // Nothing is known about the login: it may well be in there. Not "no longer valid".
      status.lastError = {
        code: "auth_file_corrupt",
        message: `${authFilePath(home)} cannot be read as a Hermes auth store: ${
          problem ?? "unusable content"
        }`,
        at: null,
      };
      status.fix = `repair ${authFilePath(home)} or move it aside; \`hermes-auth add ` +
        `${provider.id}\` would keep it as auth.json.corrupt and start a new store`;
    }
    return status;
  });
  for (const problem of checked?.broken ?? []) {
    if (problem.id === null) continue;
    statuses.push(brokenStatus(problem.id, problem.error, problem.line ?? null));
  }
  return { statuses, configError: checked?.configError };
}

/** A provider with no login: what every status starts from. */
function notLoggedIn(id: string, displayName: string): ProviderStatus {
  return {
    provider: id,
    displayName,
    loggedIn: false,
    usable: false,
    expiresAt: null,
    expiresIn: null,
    refreshable: false,
    label: null,
    account: null,
    source: null,
    active: false,
    credentials: 0,
    lastError: null,
    fix: null,
    configError: null,
  };
}

/** A custom provider that cannot be used until its config.yaml entry is fixed. */
function brokenStatus(id: string, error: AuthError, line: number | null): ProviderStatus {
  return {
    ...notLoggedIn(id, id),
    fix: error.fix ?? null,
    configError: { message: error.message, line },
  };
}

function providerStatus(
  provider: ProviderSpec,
  data: AuthFile,
  now: Date,
): ProviderStatus {
  const picked = pickCredential(data, provider, now);
  const error = lastAuthError(data, provider.id);
  const relogin = `run \`hermes-auth add ${provider.id}\``;
  const base: ProviderStatus = {
    ...notLoggedIn(provider.id, provider.displayName),
    active: data.active_provider === provider.id,
    // Rows that are credentials at all: `[null, 1, "s"]` is no credential, as `list` agrees.
    credentials: poolRows(data, provider.id).length,
    lastError: error ? { code: error.code, message: error.message, at: error.at } : null,
    fix: error ? `${relogin} again` : relogin,
  };
  if (!picked) return base;
  const { login, row } = picked;
  const usable = isUsable(login, now);
  return {
    ...base,
    loggedIn: true,
    usable,
    expiresAt: login.expiresAt?.toISOString() ?? null,
    expiresIn: login.expiresAt
      ? Math.round((login.expiresAt.getTime() - now.getTime()) / 1000)
      : null,
    refreshable: login.refreshToken !== undefined,
    label: nonEmpty(row?.label) ?? labelFromToken(login.accessToken) ?? null,
    account: accountOf(data, provider.id, picked),
    source: nonEmpty(row?.source) ?? null,
    // An old error next to a working login is history, not news.
    lastError: usable ? null : base.lastError,
    fix: usable ? null : `${relogin} again`,
  };
}

/**
 * Print statuses as human lines on stdout (nothing with --json): one line
 * per provider, then for one that is not usable the last error and the fix.
 * Times are local (`expires 18:42 (in 59 min)`) on `clock`, by default the
 * system's clock and time zone.
 */
export function renderStatus(
  out: Output,
  statuses: ProviderStatus[],
  clock: Clock = { now: new Date() },
): void {
  const width = Math.max(0, ...statuses.map((s) => s.provider.length));
  const style = out.dataStyle;
  // An unreadable auth.json is one problem, said once, not a dead login per provider.
  const unreadable = statuses.find((s) => s.lastError?.code === "auth_file_corrupt");
  if (unreadable?.lastError) {
    out.data(`${style.yellow("⚠")} ${printable(unreadable.lastError.message)}`);
    const fix = statuses.length === 1
      ? unreadable.fix
      : unreadable.fix?.replace(`add ${unreadable.provider}\``, "add <provider>`");
    out.data(`    ${style.dim("→")} ${fix}`);
  }
  for (const s of statuses) {
    const mark = s.usable ? style.green("✓") : style.yellow("⚠");
    out.data(`${mark} ${style.bold(s.provider.padEnd(width))}  ${describe(s, clock)}`);
    if (s.lastError?.code === "auth_file_corrupt") continue;
    if (s.configError) out.data(`    ${printable(s.configError.message)}`);
    if (!s.usable && s.lastError) {
      const at = parseTimestamp(s.lastError.at);
      const when = at ? ` ${whenText(at, clock)}` : "";
      out.data(`    last error${when}: ${printable(s.lastError.message)}`);
    }
    if (s.fix) out.data(`    ${style.dim("→")} ${s.fix}`);
  }
}

function describe(s: ProviderStatus, clock: Clock): string {
  const parts: string[] = [];
  if (s.configError) {
    parts.push("broken: its entry in config.yaml is invalid");
  } else if (s.lastError?.code === "auth_file_corrupt") {
    parts.push("unknown: auth.json cannot be read");
  } else if (!s.loggedIn) {
    parts.push(s.lastError ? "not logged in: the login is no longer valid" : "not logged in");
  } else {
    parts.push(`logged in, ${expiryText(s, clock)}`);
    // Stored by Hermes or taken from the provider's token: shown, never run by the terminal.
    if (s.label) parts.push(`label ${printable(s.label)}`);
    if (s.account && s.account !== s.label) parts.push(`account ${printable(s.account)}`);
    if (s.source) parts.push(`source ${printable(s.source)}`);
    if (s.credentials > 1) parts.push(`${s.credentials} credentials`);
  }
  if (s.active) parts.push("active");
  return parts.join(" · ");
}

function expiryText(s: ProviderStatus, clock: Clock): string {
  if (s.expiresAt === null) return "no expiry known";
  const at = new Date(s.expiresAt);
  if (at > clock.now) return `expires ${whenText(at, clock)}`;
  const ago = `access token expired ${whenText(at, clock)}`;
  return s.refreshable ? `${ago}, renewed on next use` : `${ago}, and it cannot be refreshed`;
}

export { durationText } from "./when.ts";

/** Options of `status`, as commander hands them over. */
export interface StatusOptions {
  json?: boolean;
}

/**
 * Run `status`; returns 0 when every provider asked about is usable, 3
 * otherwise. `--json`: `{providers: ProviderStatus[]}`.
 */
export async function status(
  ctx: Context,
  provider: string | undefined,
  _opts: StatusOptions,
): Promise<number> {
  const { statuses, configError } = await collect(ctx, provider ? [provider] : undefined);
  ctx.out.result({
    providers: statuses,
    ...(configError
      ? {
        config_error: {
          code: configError.code,
          message: configError.message,
          fix: configError.fix,
        },
      }
      : {}),
  });
  if (configError) {
    // Custom providers cannot be known at all: say so before the built-in ones.
    const style = ctx.out.dataStyle;
    ctx.out.data(`${style.yellow("⚠")} ${printable(configError.message)}`);
    ctx.out.data(`    no custom provider from config.yaml can be shown until it is fixed`);
    if (configError.fix) ctx.out.data(`    ${style.dim("→")} ${configError.fix}`);
  }
  renderStatus(ctx.out, statuses, { now: ctx.now(), timeZone: ctx.timeZone });
  // Asked about one provider: is it usable? Asked about all: is every login there is
  // usable (a provider never logged in to, such as Spotify for most, is not a failure)?
  // A custom provider whose entry is broken, or a config.yaml that cannot be read, needs fixing.
  const counted = provider
    ? statuses
    : statuses.filter((s) => s.loggedIn || s.lastError || s.configError);
  if (configError) return Exit.LOGIN_REQUIRED;
  return counted.length > 0 && counted.every((s) => s.usable) ? Exit.OK : Exit.LOGIN_REQUIRED;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
