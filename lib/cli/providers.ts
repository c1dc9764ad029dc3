/**
 * Provider lookup for commands: built-in providers without touching the
 * disk (so `token xai-oauth` stays fast), custom ones from config.yaml only
 * when a name is not built in or the whole list is wanted.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import { lazy } from "../lazy.ts";
import { builtinProviders, findBuiltin, resolveProvider } from "../providers/mod.ts";
import type { CustomProviderProblem } from "../providers/custom.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { hermesHome } from "../store/paths.ts";
import type { Context } from "./context.ts";

async function customProviders(ctx: Pick<Context, "env">): Promise<ProviderSpec[]> {
  const { loadCustomProviders } = await lazy<typeof import("../providers/custom.ts")>(
    "../providers/custom.ts",
    import.meta.url,
  );
  return await loadCustomProviders(hermesHome(ctx.env));
}

/**
 * The provider with this id or alias, built-in or from config.yaml; unknown
 * names exit 2. A custom provider whose own entry is invalid is that entry's
 * `config_invalid` error (file, line, key); another entry's mistake does not
 * stand in the way.
 */
export async function providerNamed(
  ctx: Pick<Context, "env">,
  name: string,
): Promise<ProviderSpec> {
  const builtin = findBuiltin(name);
  if (builtin) return builtin;
  const { loadCustomProvidersChecked } = await lazy<typeof import("../providers/custom.ts")>(
    "../providers/custom.ts",
    import.meta.url,
  );
  const { providers, problems } = await loadCustomProvidersChecked(hermesHome(ctx.env));
  const wanted = name.trim().toLowerCase();
  const broken = problems.find((p) => p.id === wanted || p.id === null);
  if (broken && !providers.some((p) => p.id === wanted || p.aliases.includes(wanted))) {
    throw broken.error;
  }
  return resolveProvider(name, providers);
}

/** Every provider: built-in first, then config.yaml's in file order. */
export async function allKnownProviders(ctx: Pick<Context, "env">): Promise<ProviderSpec[]> {
  return [...builtinProviders, ...await customProviders(ctx)];
}

/** What {@link knownProvidersChecked} found. */
export interface CheckedProviders {
  /** Built-in, then the usable custom ones. */
  providers: ProviderSpec[];
  /** Custom entries that cannot be used, each with its error (file, line, key). */
  broken: CustomProviderProblem[];
  /** config.yaml as a whole cannot be read or parsed: no custom provider is known. */
  configError?: AuthError;
}

/**
 * Every provider that can be used, and what is wrong with those that cannot,
 * for the views that show everything (`status`, `doctor`): one bad entry in
 * config.yaml neither hides the others nor stays silent.
 */
export async function knownProvidersChecked(ctx: Pick<Context, "env">): Promise<CheckedProviders> {
  const { loadCustomProvidersChecked } = await lazy<typeof import("../providers/custom.ts")>(
    "../providers/custom.ts",
    import.meta.url,
  );
  try {
    const { providers, problems } = await loadCustomProvidersChecked(hermesHome(ctx.env));
    return { providers: [...builtinProviders, ...providers], broken: problems };
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return { providers: [...builtinProviders], broken: [], configError: error };
  }
}

/** Options that choose a client id. */
export interface ClientIdInput {
  /** `--client-id`. */
  flag?: string;
  /** `client_id` of the stored login state, if any. */
  stored?: string;
}

/**
 * The client id for a login: `--client-id`, then the provider's environment
 * variables in order, then the stored state, then the built-in one. None at
 * all is a usage error with the provider's set-up guidance.
 */
export function chooseClientId(
  provider: ProviderSpec,
  input: ClientIdInput,
  env: (name: string) => string | undefined,
): string {
  const fromEnv = provider.clientId.env.map((name) => env(name)?.trim()).find(Boolean);
  const id = input.flag?.trim() || fromEnv || input.stored || provider.clientId.builtIn;
  if (id) return id;
  throw new AuthError("client_id_missing", `${provider.displayName} needs your app's client id`, {
    exit: Exit.USAGE,
    fix: provider.clientId.missingHelp ??
      `pass --client-id, or set one of ${provider.clientId.env.join(", ")}`,
  });
}
