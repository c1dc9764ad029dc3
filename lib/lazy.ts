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
];

/**
 * `import(specifier)` resolved against `base` (pass `import.meta.url`), out
 * of sight of Deno's up-front module preparation. Type it with
 * `lazy<typeof import("./x.ts")>(…)`, which adds no run-time dependency.
 */
export function lazy<T>(specifier: string, base: string): Promise<T> {
  return import(new URL(specifier, base).href);
}
