/**
 * `hermes-auth list [provider]`: the credential pool, one line per row in
 * priority order, as `#index  label  auth_type  id=…  source  [status]`, the
 * row a request would use now marked `← in use` (see lib/store/pool.ts).
 * A row whose account (e-mail, else `sub`, from its tokens) is not already
 * its label shows it as `account=…`. Tokens are never shown.
 *
 * @module
 */
import { Exit } from "../errors.ts";
import { printable } from "../output.ts";
import { builtinProviders } from "../providers/mod.ts";
import { readAuthFile, strayPoolEntries } from "../store/auth_store.ts";
import { pooledProviders, poolEntries, type PoolEntry } from "../store/pool.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import type { Context } from "./context.ts";
import { allKnownProviders, providerNamed } from "./providers.ts";

/** Options of `list`, as commander hands them over. */
export interface ListOptions {
  json?: boolean;
}

/** One row as `list --json` shows it. */
export interface ListedCredential {
  index: number;
  id: string;
  label: string;
  /** The account (e-mail, else `sub`) the credential belongs to; null when its tokens do not say. */
  account: string | null;
  auth_type: string;
  source: string;
  priority: number;
  /** `ok`, `unknown` (never used yet), `exhausted`, `dead` or `no_token`. */
  status: string;
  in_use: boolean;
  retry_at: string | null;
  expires_at: string | null;
  last_refresh: string | null;
  last_error_code: unknown;
  last_error_message: unknown;
}

/**
 * Run `list`. Without a provider: every provider with stored rows. An
 * unknown provider or alias is a usage error (exit 2). Nothing stored is not
 * an error: a friendly line (or an empty list with `--json`) and exit 0.
 * With `--json`: `{"path", "providers": [{"provider", "display_name",
 * "login_state", "credentials": [ListedCredential…]}]}`.
 */
export async function list(
  ctx: Context,
  providerName: string | undefined,
  _opts: ListOptions,
): Promise<number> {
  const filter = providerName === undefined
    ? undefined
    : (await providerNamed(ctx, providerName)).id;
  const home = hermesHome(ctx.env);
  const { data, corrupt } = await readAuthFile(home);
  const now = ctx.now();
  const ids = filter ? [filter] : pooledProviders(data);
  // An invalid config.yaml must not hide what auth.json holds: built-in names are enough then.
  const known = await allKnownProviders(ctx).catch(() => builtinProviders);
  const groups = ids.map((id) => {
    const spec = known.find((p) => p.id === id);
    return {
      id,
      displayName: spec?.displayName ?? id,
      loginState: data.providers?.[id] !== undefined,
      // A provider only Hermes knows (openrouter, nous…) is read in the generic layout.
      entries: poolEntries(data, { id, storage: spec?.storage ?? "generic" }, now),
    };
  }).filter((g) => filter !== undefined || g.entries.length > 0);

  const out = ctx.out;
  if (out.json) {
    out.result({
      path: authFilePath(home),
      providers: groups.map((g) => ({
        provider: g.id,
        display_name: g.displayName,
        login_state: g.loginState,
        credentials: g.entries.map(listed),
      })),
    });
    return Exit.OK;
  }
  if (corrupt) {
    out.warn(
      `${authFilePath(home)} is not a usable auth.json; run \`hermes-auth doctor\` for details.`,
    );
  }
  for (const id of filter ? [filter] : Object.keys(data.credential_pool ?? {})) {
    const stray = strayPoolEntries(data, id);
    if (stray > 0) {
      out.warn(
        `auth.json credential_pool.${printable(id)} holds ${stray} entr${
          stray === 1 ? "y that is not a credential" : "ies that are not credentials"
        } (not an object); they are ignored.`,
      );
    }
  }
  const shown = groups.filter((g) => g.entries.length > 0);
  if (shown.length === 0) {
    const who = filter ?? "any provider";
    out.info(`No stored credentials for ${who}.`);
    if (filter && groups[0]?.loginState) {
      out.info(
        `A ${filter} login is stored outside the pool; see \`hermes-auth status ${filter}\`.`,
      );
    } else {
      out.info(`Log in with \`hermes-auth add ${filter ?? "<provider>"}\`.`);
    }
    return Exit.OK;
  }
  for (const [i, group] of shown.entries()) {
    if (i > 0) out.data("");
    const count = group.entries.length;
    out.data(
      `${out.dataStyle.bold(group.id)} — ${group.displayName} (${count} credential${
        count === 1 ? "" : "s"
      }):`,
    );
    for (const line of table(group.entries, now)) out.data(line);
  }
  return Exit.OK;
}

function listed(entry: PoolEntry): ListedCredential {
  const { row } = entry;
  return {
    index: entry.index,
    id: String(row.id ?? ""),
    label: String(row.label ?? ""),
    account: entry.account,
    auth_type: String(row.auth_type ?? ""),
    source: String(row.source ?? ""),
    priority: typeof row.priority === "number" ? row.priority : 0,
    status: entry.health,
    in_use: entry.inUse,
    retry_at: entry.retryAt?.toISOString() ?? null,
    expires_at: typeof row.expires_at === "string" ? row.expires_at : null,
    last_refresh: typeof row.last_refresh === "string" ? row.last_refresh : null,
    last_error_code: row.last_error_code ?? null,
    last_error_message: row.last_error_message ?? null,
  };
}

/** Aligned lines: `  #1  label  oauth  id=a1b2c3  device_code  [status]  ← in use`. */
function table(entries: PoolEntry[], now: Date): string[] {
  // Every cell comes from auth.json, which Hermes writes too: escaped, never run by the terminal.
  const cells = entries.map((entry) =>
    [
      `#${entry.index}`,
      String(entry.row.label ?? ""),
      String(entry.row.auth_type ?? ""),
      `id=${entry.row.id}`,
      String(entry.row.source ?? ""),
    ].map((cell) => printable(cell))
  );
  const widths = cells[0].map((_, col) => Math.max(...cells.map((row) => row[col].length)));
  return entries.map((entry, i) => {
    const columns = cells[i].map((cell, col) => cell.padEnd(widths[col])).join("  ");
    const status = statusText(entry, now);
    const parts = [`  ${columns}`];
    if (entry.account && entry.account !== String(entry.row.label ?? "")) {
      parts.push(`account=${entry.account}`);
    }
    if (status) parts.push(status);
    if (entry.inUse) parts.push("← in use");
    return parts.join("  ").trimEnd();
  });
}

function statusText(entry: PoolEntry, now: Date): string {
  const { row } = entry;
  switch (entry.health) {
    case "ok":
    case "unknown":
      return "";
    case "no_token":
      return "[no token]";
    case "dead": {
      const why = typeof row.last_error_message === "string" && row.last_error_message
        ? `: ${printable(row.last_error_message)}`
        : "";
      return `[dead${why}; log in again]`;
    }
    case "exhausted": {
      if (!entry.retryAt) return "[exhausted]";
      const minutes = Math.max(1, Math.ceil((entry.retryAt.getTime() - now.getTime()) / 60_000));
      return `[exhausted; retried in ${minutes} min]`;
    }
  }
}
