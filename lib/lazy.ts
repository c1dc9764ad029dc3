/**
 * Loading a module only when a command really needs it.
 *
 * `deno run` prepares every module it can see before running anything,
 * including the targets of `import("./literal.ts")`. For `token` that meant
 * paying for commander, oauth4webapi and yaml on every call although a fresh
 * token needs none of them (docs/performance.md). A specifier built at run
 * time is invisible to that pass, so the module loads when called.
 *
 * The price: `deno compile` cannot see these modules either, so every path
 * passed here is also listed in {@link LAZY_MODULES}, which scripts/compile.ts
 * hands to `deno compile --include` (tests/lazy_test.ts checks the two agree).
 *
 * @module
 */

/** Modules loaded through {@link lazy}, relative to the repository root. */
export const LAZY_MODULES: readonly string[] = [
  "lib/cli/tree.ts",
  "lib/cli/when.ts",
  "lib/oauth/refresh.ts",
  "lib/oauth/refresh_locked.ts",
  "lib/providers/custom.ts",
  "lib/store/fs_errors.ts",
  "lib/store/pool.ts",
  "lib/store/yaml_package.ts",
];

/**
 * `import(specifier)` resolved against `base` (pass `import.meta.url`), out
 * of sight of Deno's up-front module preparation. Type it with
 * `lazy<typeof import("./x.ts")>(…)`, which adds no run-time dependency.
 */
export function lazy<T>(specifier: string, base: string): Promise<T> {
  return import(new URL(specifier, base).href);
}

/**
 * Load npm package `name` (a bare specifier of deno.json's imports) by the file it resolves to,
 * before a lazily loaded module that imports it statically; call it right before that `lazy()`.
 *
 * Why: `deno run` (2.9.6) never takes an npm package reached through a dynamic import from its
 * code cache. It looks the cache up under the `npm:` specifier that resolution keeps on that
 * path and stores it under the file the specifier resolves to, so the two never meet: every such
 * load compiles the package afresh and writes its cache again, into the SQLite journal under
 * `$DENO_DIR` that every Deno process on the machine then reads back at start (docs/performance.md,
 * fifth round). Imported by its file URL, the package is served from the cache, and the static
 * import that follows finds it in the module map: one instance (tests/lazy_test.ts). For
 * oauth4webapi that is about 4 ms of CPU and a 31 KB write less in the one process of a refresh
 * storm that holds auth.lock while the others wait.
 *
 * Best effort: if the package cannot be loaded this way, the static import loads it as usual
 * and reports a real failure.
 */
export async function preloadPackage(name: string): Promise<void> {
  try {
    await import(import.meta.resolve(name));
  } catch {
    // Left to the static import that follows.
  }
}
