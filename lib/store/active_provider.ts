/**
 * Which inference provider Hermes will use, and why. In order:
 * `HERMES_INFERENCE_PROVIDER` (forces it at run time), then config.yaml's
 * `model.provider`, then auth.json's `active_provider`. `auto` (or an empty
 * value) at a level means "no choice here": the next level decides.
 * Aliases are turned into provider ids (`grok-oauth` -> `xai-oauth`); a name
 * this program does not know (`openrouter`) is kept as written.
 *
 * @module
 */

import { allProviders } from "../providers/mod.ts";
import type { ProviderSpec } from "../providers/types.ts";

/** Where the active provider was decided. */
export type ActiveSource = "HERMES_INFERENCE_PROVIDER" | "config.yaml" | "auth.json";

/** The result of {@link resolveActiveProvider}. */
export interface ActiveProvider {
  /** Provider id, or null when nothing chooses one (Hermes then auto-detects). */
  id: string | null;
  source: ActiveSource | null;
  /** config.yaml's `model.provider` as an id, when set and not `auto`. */
  configured: string | null;
  /** The environment variable overrides a different configured provider. */
  overridesConfig: boolean;
}

/** Inputs of {@link resolveActiveProvider}. */
export interface ActiveInputs {
  env: (name: string) => string | undefined;
  /** config.yaml's `model.provider`, as read (any type). */
  configProvider: unknown;
  /** auth.json's `active_provider`, as read (any type). */
  authActive: unknown;
  /** Providers beyond the built-ins (from config.yaml). */
  extra?: readonly ProviderSpec[];
}

/** Decide the active provider (see the module doc). */
export function resolveActiveProvider(inputs: ActiveInputs): ActiveProvider {
  const fromEnv = choice(inputs.env("HERMES_INFERENCE_PROVIDER"), inputs.extra);
  const configured = choice(inputs.configProvider, inputs.extra);
  const fromAuth = choice(inputs.authActive, inputs.extra);
  if (fromEnv) {
    return {
      id: fromEnv,
      source: "HERMES_INFERENCE_PROVIDER",
      configured,
      overridesConfig: configured !== null && configured !== fromEnv,
    };
  }
  if (configured) {
    return { id: configured, source: "config.yaml", configured, overridesConfig: false };
  }
  if (fromAuth) return { id: fromAuth, source: "auth.json", configured, overridesConfig: false };
  return { id: null, source: null, configured, overridesConfig: false };
}

/** A provider name as an id: aliases resolved, unknown names kept; null for unset or `auto`. */
export function providerIdOf(value: unknown, extra: readonly ProviderSpec[] = []): string | null {
  return choice(value, extra);
}

function choice(value: unknown, extra: readonly ProviderSpec[] = []): string | null {
  if (typeof value !== "string") return null;
  const name = value.trim().toLowerCase();
  if (name === "" || name === "auto") return null;
  const known = allProviders(extra).find((p) => p.id === name || p.aliases.includes(name));
  return known ? known.id : name;
}
