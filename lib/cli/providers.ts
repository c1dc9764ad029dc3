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

/** The provider with this id or alias, built-in or from config.yaml; unknown names exit 2. */
export async function providerNamed(
  ctx: Pick<Context, "env">,
  name: string,
): Promise<ProviderSpec> {
  return findBuiltin(name) ?? resolveProvider(name, await customProviders(ctx));
}

/** Every provider: built-in first, then config.yaml's in file order. */
export async function allKnownProviders(ctx: Pick<Context, "env">): Promise<ProviderSpec[]> {
  return [...builtinProviders, ...await customProviders(ctx)];
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
