import assert from "node:assert/strict";
import { providerIdOf, resolveActiveProvider } from "../../lib/store/active_provider.ts";

function env(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("HERMES_INFERENCE_PROVIDER overrides config.yaml and auth.json", () => {
  const active = resolveActiveProvider({
    env: env({ HERMES_INFERENCE_PROVIDER: "grok-oauth" }),
    configProvider: "openrouter",
    authActive: "nous",
  });
  assert.deepEqual(active, {
    id: "xai-oauth",
    source: "HERMES_INFERENCE_PROVIDER",
    configured: "openrouter",
    overridesConfig: true,
  });
});

Deno.test("config.yaml's model.provider comes next, then auth.json's active_provider", () => {
  assert.equal(
    resolveActiveProvider({ env: env({}), configProvider: "x-ai-oauth", authActive: "nous" }).id,
    "xai-oauth",
  );
  const fromAuth = resolveActiveProvider({
    env: env({}),
    configProvider: "auto",
    authActive: "xai-oauth",
  });
  assert.equal(fromAuth.id, "xai-oauth");
  assert.equal(fromAuth.source, "auth.json");
});

Deno.test("auto, empty or missing everywhere means nothing is chosen", () => {
  const none = resolveActiveProvider({
    env: env({ HERMES_INFERENCE_PROVIDER: " auto " }),
    configProvider: 3,
    authActive: null,
  });
  assert.deepEqual(none, { id: null, source: null, configured: null, overridesConfig: false });
});

Deno.test("the same provider in the environment and config.yaml is no override", () => {
  const active = resolveActiveProvider({
    env: env({ HERMES_INFERENCE_PROVIDER: "xai-oauth" }),
    configProvider: "xai-grok-oauth",
    authActive: null,
  });
  assert.equal(active.overridesConfig, false);
  assert.equal(providerIdOf("OpenRouter"), "openrouter");
});
