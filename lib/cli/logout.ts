/**
 * `hermes-auth logout <provider>`: forget a provider, as Hermes's
 * `clear_provider_auth` does (docs/hermes-compat.md §8): delete
 * `providers[<id>]` and every pool row of it, clear `active_provider` when it
 * named the provider, and discard a pending two-step login. When config.yaml
 * selects the provider (`model.provider`), it goes back to `auto` and, only
 * when a `model.base_url` is set, that becomes Hermes's default
 * `https://openrouter.ai/api/v1`; `model.default` is left alone. Spotify and
 * other providers without a model catalogue never touch config.yaml.
 *
 * @module
 */
import { Exit, isAuthError } from "../errors.ts";
import { printable } from "../output.ts";
import { providerIdOf } from "../store/active_provider.ts";
import { readAuthFile } from "../store/auth_store.ts";
import { configFilePath, getConfigValue, readConfig, updateConfig } from "../store/config.ts";
import { pendingPath } from "../store/pending.ts";
import { hasProviderState, logoutProvider, type LogoutResult } from "../store/pool.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { writeAuth } from "./auth_write.ts";
import type { Context } from "./context.ts";
import { providerNamed } from "./providers.ts";

/** Options of `logout`, as commander hands them over. */
export interface LogoutOptions {
  json?: boolean;
}

/** Hermes's `_reset_config_provider` writes this base URL when one was set. */
export const RESET_BASE_URL = "https://openrouter.ai/api/v1";

/**
 * Run `logout`. An unknown provider is a usage error (exit 2). Logging out
 * when nothing is stored is exit 0 with a note. With `--json`:
 * `{"provider", "logged_out", "login_state", "credentials": [{index, id,
 * label}], "active_provider_cleared", "pending_discarded", "config_reset",
 * "path"}`.
 */
export async function logout(
  ctx: Context,
  providerName: string,
  _opts: LogoutOptions,
): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  const home = hermesHome(ctx.env);
  const empty: LogoutResult = { login: false, rows: [], wasActive: false };
  const result = hasProviderState((await readAuthFile(home)).data, provider.id)
    ? await writeAuth(ctx, home, (data) => logoutProvider(data, provider.id))
    : empty;
  const pendingDiscarded = await discardPending(home, provider.id);
  const config = provider.models ? await resetConfig(home, provider.id) : { reset: false };
  const configReset = config.reset;
  const loggedOut = result.login || result.rows.length > 0 || result.wasActive ||
    pendingDiscarded || configReset;

  const out = ctx.out;
  out.result({
    provider: provider.id,
    logged_out: loggedOut,
    login_state: result.login,
    credentials: result.rows.map(({ index, row }) => ({ index, id: row.id, label: row.label })),
    active_provider_cleared: result.wasActive,
    pending_discarded: pendingDiscarded,
    config_reset: configReset,
    path: authFilePath(home),
  });
  if (!loggedOut) {
    out.info(`Not logged in to ${provider.displayName}: nothing to remove.`);
  } else {
    out.success(`Logged out of ${provider.displayName}`);
    if (result.login) out.info(`  removed the ${provider.id} login state from auth.json`);
    for (const { index, row } of result.rows) {
      out.info(
        `  removed credential #${index} (${printable(JSON.stringify(String(row.label)))}, id=${
          printable(String(row.id))
        })`,
      );
    }
    if (result.wasActive) out.info("  auth.json active_provider is no longer set");
    if (pendingDiscarded) out.info("  discarded a two-step login that was still waiting");
    if (configReset) {
      out.info(`  model.provider is back to auto in ${configFilePath(home)}`);
    }
  }
  if (config.unreadable) {
    out.warn(
      `${config.unreadable} — model.provider was not checked; fix the file, then run \`hermes-auth logout ${provider.id}\` again.`,
    );
  }
  const forced = providerIdOf(ctx.env("HERMES_INFERENCE_PROVIDER"));
  if (forced === provider.id) {
    out.warn(
      `HERMES_INFERENCE_PROVIDER=${
        ctx.env("HERMES_INFERENCE_PROVIDER")
      } is set in your environment and still selects ${provider.id}; unset it or run \`hermes-auth model\`.`,
    );
  }
  return Exit.OK;
}

async function discardPending(home: string, providerId: string): Promise<boolean> {
  try {
    await Deno.remove(pendingPath(home, providerId));
    return true;
  } catch {
    // None waiting (the usual case), or not ours to remove: a stale one expires by itself.
    return false;
  }
}

/**
 * Hermes's `_reset_config_provider`, when config.yaml selects `providerId`.
 * A config.yaml that cannot be read is reported back (the logout of
 * auth.json has happened and stands), not thrown.
 */
async function resetConfig(
  home: string,
  providerId: string,
): Promise<{ reset: boolean; unreadable?: string }> {
  let doc;
  try {
    doc = await readConfig(home);
  } catch (error) {
    if (!isAuthError(error)) throw error;
    return { reset: false, unreadable: error.message };
  }
  if (providerIdOf(getConfigValue(doc, "model.provider")) !== providerId) return { reset: false };
  const edits: Record<string, unknown> = { "model.provider": "auto" };
  if (getConfigValue(doc, "model.base_url") !== undefined) edits["model.base_url"] = RESET_BASE_URL;
  await updateConfig(home, edits);
  return { reset: true };
}
