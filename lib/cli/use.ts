/**
 * `hermes-auth use <provider> <account>`: choose which account is used, as
 * `gh auth switch` does. Hermes reads the pool in priority order and takes
 * the first credential that works (`fill_first`), so the account is moved
 * to #1 with the others shifted down one place, exactly as Hermes's
 * `hermes auth priority <provider> <target> 0` does; `token` and `status`
 * read the same order.
 *
 * @module
 */
import { Exit } from "../errors.ts";
import { readAuthFile } from "../store/auth_store.ts";
import { getConfigValue, readConfig } from "../store/config.ts";
import { findRow, moveRow, poolEntries } from "../store/pool.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { writeAuth } from "./auth_write.ts";
import type { Context } from "./context.ts";
import { providerNamed } from "./providers.ts";

/** Options of `use`, as commander hands them over. */
export interface UseOptions {
  json?: boolean;
}

/**
 * Run `use`. An unknown provider, or an account that matches no row or more
 * than one, is a usage error (exit 2) listing the candidates, and nothing is
 * written. Output: `✓ xai-oauth now uses #1 "personal" (id=a1b2c3)`; with
 * `--json` `{"provider", "account": {index, id, label, source}, "from",
 * "changed", "path"}`. A warning says when the chosen credential cannot give
 * a token now (dead, exhausted), or when config.yaml gives the provider a
 * rotation strategy other than `fill_first`, under which the order matters
 * less.
 */
export async function use(
  ctx: Context,
  providerName: string,
  target: string,
  _opts: UseOptions,
): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  const home = hermesHome(ctx.env);
  // Check before taking the lock: a wrong target must not create or rewrite anything.
  const before = findRow((await readAuthFile(home)).data, provider.id, target);
  const moved = before.index === 1
    ? { row: before.row, from: 1, to: 1 }
    : await writeAuth(ctx, home, (data) => moveRow(data, provider.id, target, 1));
  const entry = poolEntries((await readAuthFile(home)).data, provider, ctx.now())
    .find((e) => e.row.id === moved.row.id);
  const { row } = moved;
  const out = ctx.out;
  out.result({
    provider: provider.id,
    account: { index: 1, id: row.id, label: row.label, source: row.source },
    from: moved.from,
    changed: moved.from !== 1,
    path: authFilePath(home),
  });
  const name = `#1 ${JSON.stringify(String(row.label ?? ""))} (id=${row.id})`;
  if (moved.from === 1) out.success(`${provider.id} already uses ${name}`);
  else {
    out.success(`${provider.id} now uses ${name}`);
    out.info(out.style.dim(`It was #${moved.from}; the ones before it moved down one place.`));
  }
  if (entry && (entry.health === "dead" || entry.health === "no_token")) {
    out.warn(
      `that credential no longer works; log in to it again with \`hermes-auth add ${provider.id}\``,
    );
  } else if (entry?.health === "exhausted") {
    out.warn("Hermes marked that credential exhausted; the next one is used until it recovers");
  }
  const strategy = await poolStrategy(home, provider.id);
  if (strategy && strategy !== "fill_first") {
    out.warn(
      `config.yaml sets credential_pool_strategies.${provider.id} to ${strategy}; ` +
        "the order decides only with fill_first",
    );
  }
  return Exit.OK;
}

/** Hermes's `get_pool_strategy`: config.yaml `credential_pool_strategies.<provider>`. */
async function poolStrategy(home: string, providerId: string): Promise<string | undefined> {
  try {
    const strategies = getConfigValue(await readConfig(home), "credential_pool_strategies");
    const value = strategies && typeof strategies === "object"
      ? (strategies as Record<string, unknown>)[providerId]
      : undefined;
    return typeof value === "string" ? value.trim().toLowerCase() : undefined;
  } catch {
    // An unreadable config.yaml is doctor's business, not a reason to fail here.
    return undefined;
  }
}
