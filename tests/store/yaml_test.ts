/** lib/store/yaml.ts: yaml's ES module build, and the package as resolved to fall back to. */
import assert from "node:assert/strict";
import { loadYaml } from "../../lib/store/yaml.ts";

/** What lib/store/config.ts and lib/cli/config.ts take from the module. */
const USED = [
  "isAlias",
  "isMap",
  "isScalar",
  "isSeq",
  "LineCounter",
  "Pair",
  "parse",
  "parseDocument",
  "Scalar",
  "stringify",
  "visit",
  "YAMLMap",
];

Deno.test("loadYaml gives yaml's ES module build, and the fallback offers everything used too", async () => {
  const esm: Record<string, unknown> = await loadYaml();
  const fallback: Record<string, unknown> = await import("../../lib/store/yaml_package.ts");
  assert.notEqual(esm.parseDocument, fallback.parseDocument, "two builds, not one");
  for (const [build, yaml] of [["ES module", esm], ["fallback", fallback]] as const) {
    for (const name of USED) assert.equal(typeof yaml[name], "function", `${build}: ${name}`);
    const { parseDocument, stringify } = yaml as Awaited<ReturnType<typeof loadYaml>>;
    const doc = parseDocument("# kept\nmodel:\n  default: grok-4.3 # pinned\n");
    doc.setIn(["model", "default"], "grok-4.20");
    assert.equal(doc.toString(), "# kept\nmodel:\n  default: grok-4.20 # pinned\n", build);
    assert.equal(stringify({ a: "1", b: [true] }), 'a: "1"\nb:\n  - true\n', build);
  }
});
