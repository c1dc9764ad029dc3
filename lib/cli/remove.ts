/**
 * `hermes-auth remove <provider> <index|id|label>`: drop one credential from
 * the pool, renumbering the rest as Hermes does. Removing a row that
 * mirrors the provider's login state (source `device_code` or
 * `loopback_pkce`) clears that state and suppresses the source as well, so
 * neither Hermes era re-seeds the credential (lib/store/pool.ts).
 *
 * @module
 */
import { Exit } from "../errors.ts";
import { printable } from "../output.ts";
import { readAuthFile } from "../store/auth_store.ts";
import { findRow, removeRow } from "../store/pool.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { writeAuth } from "./auth_write.ts";
import type { Context } from "./context.ts";
import { providerNamed } from "./providers.ts";

/** Options of `remove`, as commander hands them over. */
export interface RemoveOptions {
  json?: boolean;
}

/**
 * Run `remove`. An unknown provider, a target that matches no row or more
 * than one are usage errors (exit 2) listing the candidates, and nothing is
 * written. Output: `Removed xai-oauth credential #2 ("work", id=a1b2c3)`;
 * with `--json` `{"provider", "removed": {index, id, label, source},
 * "also_removed": [{index, id, label, source}], "cleared_login",
 * "suppressed": [source…], "remaining", "path"}`.
 */
export async function remove(
  ctx: Context,
  providerName: string,
  target: string,
  _opts: RemoveOptions,
): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  const home = hermesHome(ctx.env);
  // Check before taking the lock: a wrong target must not create or rewrite anything.
  findRow((await readAuthFile(home)).data, provider.id, target);
  const result = await writeAuth(ctx, home, (data) => removeRow(data, provider.id, target));
  const { index, row } = result;
  const out = ctx.out;
  out.result({
    provider: provider.id,
    removed: { index, id: row.id, label: row.label, source: row.source },
    also_removed: result.alsoRemoved.map((r) => ({
      index: r.index,
      id: r.row.id,
      label: r.row.label,
      source: r.row.source,
    })),
    cleared_login: result.clearedLogin,
    suppressed: result.suppressed,
    remaining: result.remaining,
    path: authFilePath(home),
  });
  out.success(
    `Removed ${provider.id} credential #${index} (${
      printable(JSON.stringify(String(row.label)))
    }, id=${printable(String(row.id))})`,
  );
  for (const also of result.alsoRemoved) {
    out.info(
      `Removed #${also.index} (${JSON.stringify(String(also.row.label))}, id=${also.row.id}) ` +
        "too: it held the same login.",
    );
  }
  if (result.clearedLogin) {
    out.info(
      `Cleared the ${provider.id} login state from auth.json too: that credential mirrored it.`,
    );
  }
  if (result.suppressed.length > 0) {
    out.info(
      out.style.dim(
        `Hermes will not bring it back (suppressed ${result.suppressed.join(", ")}); ` +
          `\`hermes-auth add ${provider.id}\` lifts that.`,
      ),
    );
  }
  if (result.remaining === 0) {
    out.info(
      `No ${provider.id} credentials are left. Log in again with \`hermes-auth add ${provider.id}\`.`,
    );
  } else if (index <= result.remaining) {
    out.info(
      out.style.dim(
        `The credentials after it moved up one place (see \`hermes-auth list ${provider.id}\`).`,
      ),
    );
  }
  return Exit.OK;
}
