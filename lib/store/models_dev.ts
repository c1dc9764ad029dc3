/**
 * The models.dev catalogue as Hermes caches it on disk:
 * `$HERMES_HOME/models_dev_cache.json`, the JSON of
 * `https://models.dev/api.json` (`{<models.dev provider id>: {id, name, api,
 * models: {<model id>: {id, name, status?, modalities?: {input, output}}}}}`),
 * written by Hermes's `agent/models_dev.py`. This program never downloads it;
 * when Hermes has left one behind, `model` offers the models it lists instead
 * of the short built-in list, so new releases show up without an update.
 *
 * @module
 */

import { join } from "./path.ts";
import type { ProviderSpec } from "../providers/types.ts";

/** `<home>/models_dev_cache.json`, Hermes's `_get_cache_path()`. */
export function modelsDevCachePath(home: string): string {
  return join(home, "models_dev_cache.json");
}

/** The models a provider offers, and where the list came from. */
export interface ModelChoices {
  /** Default first, then the rest in catalogue order. */
  models: string[];
  source: "models.dev" | "builtin";
}

/**
 * The chat models of `provider`: from the models.dev cache in `home` when it
 * holds the provider's vendor (text-output models that are not marked
 * deprecated), else the provider's built-in list. The provider's default
 * model is always first. A missing, unreadable or malformed cache is the
 * same as none. Empty when the provider has no model catalogue at all.
 */
export async function modelChoices(
  home: string,
  provider: Pick<ProviderSpec, "id" | "models">,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<ModelChoices> {
  const builtin = provider.models?.models ?? [];
  const pinned = provider.models?.defaultModel;
  const cached = await cachedModels(home, provider.models?.modelsDevId, readTextFile);
  const list = cached ?? builtin;
  const models = pinned ? [pinned, ...list.filter((m) => m !== pinned)] : [...list];
  return { models, source: cached ? "models.dev" : "builtin" };
}

async function cachedModels(
  home: string,
  vendor: string | undefined,
  readTextFile: (path: string) => Promise<string>,
): Promise<string[] | null> {
  if (!vendor) return null;
  let data: unknown;
  try {
    data = JSON.parse(await readTextFile(modelsDevCachePath(home)));
  } catch {
    return null;
  }
  const entry = isRecord(data) ? data[vendor] : undefined;
  const models = isRecord(entry) ? entry.models : undefined;
  if (!isRecord(models)) return null;
  const ids = Object.entries(models)
    .filter(([, info]) => isChatModel(info))
    .map(([key, info]) => isRecord(info) && typeof info.id === "string" ? info.id : key);
  return ids.length > 0 ? ids : null;
}

function isChatModel(info: unknown): boolean {
  if (!isRecord(info)) return false;
  if (info.status === "deprecated") return false;
  const modalities = info.modalities;
  if (!isRecord(modalities) || !Array.isArray(modalities.output)) return true;
  return modalities.output.includes("text");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
