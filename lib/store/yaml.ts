/**
 * The yaml package, loaded as ES modules.
 *
 * yaml ships two builds of the same code: CommonJS under `dist/` for Node,
 * and ES modules under `browser/` for every other runtime. Its package
 * exports name the CommonJS one under the `node` condition, which Deno
 * always sets, so `import "yaml"` loads 72 CommonJS files through Deno's
 * Node compatibility layer: about 85 ms of CPU in a fresh process, against
 * about 20 ms for the ES module build (docs/performance.md). `status`,
 * `list`, `doctor`, `model` and `config` read config.yaml in every run, so
 * they load the ES module build by its file, next to the one `yaml`
 * resolves to; if that file is missing (another layout, or a package not
 * yet downloaded), the package as usual (lib/store/yaml_package.ts). The
 * types are the package's own.
 *
 * @module
 */
import type * as Yaml from "yaml";
import { lazy } from "../lazy.ts";

/** yaml's ES module entry, relative to the CommonJS entry that `yaml` resolves to. */
const ESM_ENTRY = "../browser/index.js";

/** The yaml module: its ES module build when it is there, else the package as `yaml` resolves. */
export async function loadYaml(): Promise<typeof Yaml> {
  try {
    return await import(new URL(ESM_ENTRY, import.meta.resolve("yaml")).href);
  } catch {
    return await lazy<typeof Yaml>("./yaml_package.ts", import.meta.url);
  }
}
