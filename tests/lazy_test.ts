/** lib/lazy.ts: every lazily loaded module is handed to deno compile, and loads. */
import assert from "node:assert/strict";
import { lazy, LAZY_MODULES, preloadPackage } from "../lib/lazy.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("every lazy(...) call in lib/ names a module listed in LAZY_MODULES (compile --include)", async () => {
  const used = new Set<string>();
  for await (const file of walk(new URL("lib/", ROOT))) {
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/lazy<[^>]*>\(\s*"([^"]+)"/g)) {
      used.add(new URL(m[1], file).href.slice(ROOT.href.length));
    }
  }
  assert.deepEqual([...used].sort(), [...LAZY_MODULES].sort());
});

Deno.test("lazy() resolves relative to the caller and loads the module", async () => {
  const mod = await lazy<typeof import("../lib/lazy.ts")>("../lib/lazy.ts", import.meta.url);
  assert.equal(mod.LAZY_MODULES, LAZY_MODULES);
});

Deno.test("preloadPackage loads the one instance that the package's bare specifier gives", async () => {
  await preloadPackage("oauth4webapi");
  const byFile = await import(import.meta.resolve("oauth4webapi"));
  assert.ok(import.meta.resolve("oauth4webapi").startsWith("file:"));
  assert.equal(byFile, await import("oauth4webapi"));
});

Deno.test("preloadPackage leaves a name it cannot load to the static import", async () => {
  assert.equal(await preloadPackage("no-such-package-in-deno-json"), undefined);
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}
