/**
 * The provider registry: built-in providers and alias resolution.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "./types.ts";
import { spotify } from "./spotify.ts";
import { xai } from "./xai.ts";

export type { ProviderSpec } from "./types.ts";

/** Built-in providers, in display order. */
export const builtinProviders: readonly ProviderSpec[] = [xai, spotify];

/** Every provider known: built-ins plus any `extra` (from config.yaml). */
export function allProviders(extra: readonly ProviderSpec[] = []): ProviderSpec[] {
  return [...builtinProviders, ...extra];
}

/**
 * Find a provider by id or alias (case-insensitive). Unknown names are a
 * usage error that lists what exists.
 */
export function resolveProvider(
  name: string,
  extra: readonly ProviderSpec[] = [],
): ProviderSpec {
  const wanted = name.trim().toLowerCase();
  const providers = allProviders(extra);
  const found = providers.find((p) => p.id === wanted || p.aliases.includes(wanted));
  if (found) return found;
  throw new AuthError("unknown_provider", `unknown provider "${name}"`, {
    exit: Exit.USAGE,
    fix: `use one of: ${providers.map((p) => p.id).join(", ")}`,
  });
}

/** The built-in provider with this id or alias, or undefined. */
export function findBuiltin(name: string): ProviderSpec | undefined {
  const wanted = name.trim().toLowerCase();
  return builtinProviders.find((p) => p.id === wanted || p.aliases.includes(wanted));
}
