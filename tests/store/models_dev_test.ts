import assert from "node:assert/strict";
import { join } from "node:path";
import { xai } from "../../lib/providers/xai.ts";
import { modelChoices, modelsDevCachePath } from "../../lib/store/models_dev.ts";

const HOME = "/nonexistent/hermes";

function reader(files: Record<string, string>) {
  return (path: string) =>
    path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound(path));
}

const CACHE = {
  xai: {
    id: "xai",
    name: "xAI",
    models: {
      "grok-5": { id: "grok-5", modalities: { input: ["text"], output: ["text"] } },
      "grok-4.3": { id: "grok-4.3" },
      "grok-2-image": { id: "grok-2-image", modalities: { output: ["image"] } },
      "grok-beta": { id: "grok-beta", status: "deprecated" },
    },
  },
  openai: { id: "openai", models: { "gpt-x": { id: "gpt-x" } } },
};

Deno.test("the cache sits where Hermes's models_dev.py keeps it", () => {
  assert.equal(modelsDevCachePath(HOME), join(HOME, "models_dev_cache.json"));
});

Deno.test("without a cache, xAI offers the built-in models with grok-4.3 first", async () => {
  const choices = await modelChoices(HOME, xai, reader({}));
  assert.equal(choices.source, "builtin");
  assert.deepEqual(choices.models, xai.models!.models);
  assert.equal(choices.models[0], "grok-4.3");
});

Deno.test("with a cache, its xAI chat models are offered, grok-4.3 pinned first", async () => {
  const files = { [modelsDevCachePath(HOME)]: JSON.stringify(CACHE) };
  const choices = await modelChoices(HOME, xai, reader(files));
  assert.equal(choices.source, "models.dev");
  // Image-only and deprecated models are left out.
  assert.deepEqual(choices.models, ["grok-4.3", "grok-5"]);
});

Deno.test("a cache without grok-4.3 still gets it pinned on top", async () => {
  const cache = { xai: { models: { "grok-5": { id: "grok-5" } } } };
  const files = { [modelsDevCachePath(HOME)]: JSON.stringify(cache) };
  assert.deepEqual((await modelChoices(HOME, xai, reader(files))).models, ["grok-4.3", "grok-5"]);
});

Deno.test("a malformed or foreign cache is ignored", async () => {
  for (const text of ["{not json", "[]", JSON.stringify({ openai: CACHE.openai }), "{}"]) {
    const files = { [modelsDevCachePath(HOME)]: text };
    const choices = await modelChoices(HOME, xai, reader(files));
    assert.equal(choices.source, "builtin", text);
  }
});

Deno.test("a provider without a model catalogue offers nothing", async () => {
  const choices = await modelChoices(HOME, { id: "spotify" }, reader({}));
  assert.deepEqual(choices.models, []);
});
