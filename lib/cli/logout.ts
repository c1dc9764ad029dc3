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
 * `hermes-auth logout` without a provider asks which, on a terminal, among
 * the providers something is stored for; without one it is a usage error.
 *
 * @module
 */
import { AuthError, Exit, isAuthError, usageError } from "../errors.ts";
import { printable } from "../output.ts";
import { providerIdOf } from "../store/active_provider.ts";
import { type AuthFileView, readAuthFile, strayPoolEntries } from "../store/auth_store.ts";
import { isFsError, writeError } from "../store/fs_errors.ts";
import { configFilePath, getConfigValue, readConfig, updateConfig } from "../store/config.ts";
import { pendingPath } from "../store/pending.ts";
import { hasProviderState, logoutProvider, type LogoutResult, poolRows } from "../store/pool.ts";
import { pickCredential } from "../store/credentials.ts";
import { builtinProviders } from "../providers/mod.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { writeAuth } from "./auth_write.ts";
import { type Context, lockWaitOptions } from "./context.ts";
import type { Prompter } from "./model.ts";
import { allKnownProviders, providerNamed } from "./providers.ts";

/** Options of `logout`, as commander hands them over. */
export interface LogoutOptions {
  json?: boolean;
}

/** Hermes's `_reset_config_provider` writes this base URL when one was set. */
export const RESET_BASE_URL = "https://openrouter.ai/api/v1";

/**
 * Run `logout`. An unknown provider is a usage error (exit 2). Logging out
 * when nothing is stored is exit 0 with a note. An auth.json that is not a
 * Hermes store is AuthError `auth_file_corrupt` (exit 1) and nothing is
 * changed, config.yaml included. The report says what was really removed,
 * pool entries that were not credentials included. With `--json`:
 * `{"provider", "logged_out", "login_state", "credentials": [{index, id,
 * label}], "ignored_entries_removed", "active_provider_cleared",
 * "pending_discarded", "config_reset", "path"}`.
 */
export async function logout(
  ctx: Context,
  providerName: string | undefined,
  opts: LogoutOptions,
): Promise<number> {
  if (providerName !== undefined || !ctx.stdinIsTerminal) {
    return await logoutWith(ctx, providerName, opts, noPrompter);
  }
  const { inquirerPrompter } = await import("./model.ts");
  return await logoutWith(ctx, providerName, opts, inquirerPrompter(ctx));
}

/** Without a terminal nothing is asked: {@link logoutWith} refuses first. */
const noPrompter: Pick<Prompter, "select"> = {
  select: () => Promise.reject(new Error("logout asked without a terminal")),
};

/**
 * `logout` with the given picker. Without a provider: on a terminal, pick
 * one of the providers something is stored for (a login, pool rows, the
 * active provider), the active one preselected; nothing stored is exit 0
 * with a note. Without a terminal it is a usage error (exit 2) naming them,
 * as `gh auth logout` does: a script must say what to forget.
 */
export async function logoutWith(
  ctx: Context,
  providerName: string | undefined,
  _opts: LogoutOptions,
  prompter: Pick<Prompter, "select">,
): Promise<number> {
  const home = hermesHome(ctx.env);
  const view = await readAuthFile(home);
  if (providerName === undefined) {
    const picked = await pickProvider(ctx, view, prompter);
    if (picked === undefined) return Exit.OK;
    providerName = picked;
  }
  const provider = await providerNamed(ctx, providerName);
  if (view.corrupt) {
    // The login may well be in there; removing "nothing" and resetting config.yaml would lie.
    throw new AuthError(
      "auth_file_corrupt",
      `${authFilePath(home)} cannot be read as a Hermes auth store (${
        view.problem?.replace(/\.$/, "") ?? "unusable content"
      }), so the ${provider.id} login in it cannot be removed; nothing was changed.`,
      {
        fix:
          `Repair ${authFilePath(home)} or move it aside (\`hermes-auth doctor\` shows what is ` +
          `wrong), then run \`hermes-auth logout ${provider.id}\` again.`,
      },
    );
  }
  const empty: Removed = { login: false, rows: [], wasActive: false, stray: 0, notALogin: false };
  const result = hasProviderState(view.data, provider.id)
    ? await writeAuth(ctx, home, (data): Removed => {
      // What is there before it goes, so the report says what really was removed.
      const state = data.providers?.[provider.id];
      const notALogin = state !== undefined && !isRecord(state);
      const stray = strayPoolEntries(data, provider.id);
      return { ...logoutProvider(data, provider.id), stray, notALogin };
    })
    : empty;
  const pending = await discardPending(home, provider.id);
  const removedAuth = result.login || result.rows.length > 0 || result.wasActive ||
    result.stray > 0;
  // Hermes resets model.provider even when no login was left (hermes_cli/auth.py,
  // _should_reset_config_provider_on_logout): a config.yaml naming a provider without a login
  // would leave Hermes stuck on it. It is reported as what it is, not as a logout.
  const config = provider.models ? await resetConfig(ctx, home, provider.id) : { reset: false };
  const configReset = config.reset;
  const loggedOut = removedAuth || pending === "discarded";

  const out = ctx.out;
  out.result({
    provider: provider.id,
    logged_out: loggedOut,
    login_state: result.login,
    credentials: result.rows.map(({ index, row }) => ({ index, id: row.id, label: row.label })),
    ignored_entries_removed: result.stray,
    active_provider_cleared: result.wasActive,
    pending_discarded: pending === "discarded",
    config_reset: configReset,
    path: authFilePath(home),
  });
  if (loggedOut) {
    out.success(`Logged out of ${provider.displayName}`);
    if (result.login) {
      out.info(
        result.notALogin
          ? `  removed auth.json providers.${provider.id}, which held no login`
          : `  removed the ${provider.id} login state from auth.json`,
      );
    }
    for (const { index, row } of result.rows) {
      out.info(
        `  removed credential #${index} (${printable(JSON.stringify(String(row.label)))}, id=${
          printable(String(row.id))
        })`,
      );
    }
    if (result.stray > 0) {
      out.info(
        `  removed ${result.stray} entr${result.stray === 1 ? "y" : "ies"} of ` +
          `credential_pool.${provider.id} that ${
            result.stray === 1 ? "was not a credential" : "were not credentials"
          }`,
      );
    }
    if (result.wasActive) out.info("  auth.json active_provider is no longer set");
    if (pending === "discarded") out.info("  discarded a two-step login that was still waiting");
    if (configReset) out.info(`  model.provider is back to auto in ${configFilePath(home)}`);
  } else if (configReset) {
    out.info(`No ${provider.displayName} login was stored in ${authFilePath(home)}.`);
    out.success(
      `config.yaml still selected ${provider.id}: model.provider is back to auto in ` +
        configFilePath(home),
    );
  } else {
    out.info(`Not logged in to ${provider.displayName}: nothing to remove.`);
  }
  if (pending instanceof Error) {
    out.warn(`Could not discard the pending two-step login: ${pending.message}`);
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

/** The provider to log out of, asked on a terminal; undefined when nothing is stored. */
async function pickProvider(
  ctx: Context,
  view: AuthFileView,
  prompter: Pick<Prompter, "select">,
): Promise<string | undefined> {
  if (view.corrupt) {
    throw usageError(
      `${authFilePath(hermesHome(ctx.env))} cannot be read, so there is no list of logins to ` +
        "choose from.",
      "Name the provider: hermes-auth logout <provider> (see `hermes-auth doctor`).",
    );
  }
  // A config.yaml that cannot be read must not hide the built-in logins.
  const known = await allKnownProviders(ctx).catch(() => [...builtinProviders]);
  const stored = known.filter((p) => hasProviderState(view.data, p.id));
  const names = stored.map((p) => p.id).join(", ");
  if (!ctx.stdinIsTerminal) {
    throw usageError(
      stored.length
        ? `logout needs a provider: one of ${names} (logged in here).`
        : "logout needs a provider; nothing is logged in here.",
      stored.length
        ? `e.g. hermes-auth logout ${stored[0].id}`
        : "e.g. hermes-auth logout xai-oauth",
    );
  }
  if (stored.length === 0) {
    ctx.out.info("Not logged in to any provider: nothing to remove.");
    return undefined;
  }
  const now = ctx.now();
  const active = view.data.active_provider;
  return await prompter.select(
    "Log out of which provider?",
    stored.map((p) => {
      const rows = poolRows(view.data, p.id).length;
      const usable = pickCredential(view.data, p, now);
      return {
        name: p.displayName + (p.id === active ? " (active)" : ""),
        value: p.id,
        description: `${p.id}: ${usable ? "logged in" : "stored state"}` +
          (rows ? `, ${rows} credential${rows === 1 ? "" : "s"}` : ""),
      };
    }),
    stored.some((p) => p.id === active) ? active as string : undefined,
  );
}

/** What the logout removed from auth.json. */
interface Removed extends LogoutResult {
  /** Pool entries that were not credentials (`null`, numbers…), removed with the rest. */
  stray: number;
  /** `providers[<id>]` was there but was not an object, so it held no login. */
  notALogin: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function discardPending(
  home: string,
  providerId: string,
): Promise<"discarded" | "none" | AuthError> {
  const path = pendingPath(home, providerId);
  try {
    await Deno.remove(path);
    return "discarded";
  } catch (error) {
    // None waiting is the usual case; a failure is said (it would still expire by itself).
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return "none";
    }
    if (!isFsError(error)) throw error;
    return await writeError(home, path, error);
  }
}

/**
 * Hermes's `_reset_config_provider`, when config.yaml selects `providerId`.
 * A config.yaml that cannot be read is reported back (the logout of
 * auth.json has happened and stands), not thrown.
 */
async function resetConfig(
  ctx: Context,
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
  await updateConfig(home, edits, lockWaitOptions(ctx));
  return { reset: true };
}
