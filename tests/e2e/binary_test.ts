/**
 * The compiled binary. `--version` is checked against whatever the suite
 * runs (main.ts, or the binary named by HERMES_AUTH_BIN). Then, when a
 * binary can be built — DENORT_BIN, or a denort in Deno's cache — it is
 * compiled exactly as `deno task compile` does and the whole e2e suite runs
 * again against it. When none can be built, the suite says so and skips.
 */
import assert from "node:assert/strict";
import { compile, denortSource, hostTarget, ROOT, VERSION } from "../../scripts/compile.ts";
import { runCli, tempHome } from "./harness.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("--version and -V print deno.json's version and touch nothing", async () => {
  await using home = await tempHome();
  for (const flag of ["--version", "-V"]) {
    const result = await runCli([flag], { env: { HERMES_HOME: home.path } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, "");
  }
  assert.equal(await exists(home.path), false);
});

const preset = Deno.env.get("HERMES_AUTH_BIN");
const source = preset ? null : await denortSource(hostTarget());
const canBuild = source !== null && source.kind !== "download";
if (preset) {
  // deno-lint-ignore no-console
  console.log(`binary e2e: this suite already runs against HERMES_AUTH_BIN=${preset}`);
} else if (!canBuild) {
  // deno-lint-ignore no-console
  console.log(
    "skipped: no denort runtime available (set DENORT_BIN): " +
      "the e2e suite ran against main.ts only, not against a compiled binary",
  );
}

Deno.test({
  name: "the compiled binary passes the whole e2e suite (HERMES_AUTH_BIN)",
  ignore: !canBuild,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hermes-auth-binary-" });
    try {
      const binary = `${dir}/hermes-auth${Deno.build.os === "windows" ? ".exe" : ""}`;
      await compile({ output: binary }); // also checks that `binary --version` says VERSION
      const files: string[] = [];
      for await (const entry of Deno.readDir(`${ROOT}tests/e2e`)) {
        if (entry.name.endsWith("_test.ts") && entry.name !== "binary_test.ts") {
          files.push(`tests/e2e/${entry.name}`);
        }
      }
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--sanitize-ops", "--sanitize-resources", ...files.sort()],
        cwd: ROOT,
        env: { HERMES_AUTH_BIN: binary, NO_COLOR: "1" },
      }).output();
      const out = new TextDecoder().decode(stdout);
      const summary = out.match(/\d+ passed.*\| \d+ failed.*/)?.[0] ?? "(no summary)";
      assert.equal(code, 0, `${out}\n${new TextDecoder().decode(stderr)}`);
      // deno-lint-ignore no-console
      console.log(`binary e2e against ${binary}: ${summary}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
