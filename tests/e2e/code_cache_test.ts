/**
 * What Deno's debug log says about the npm packages a command loads, whose
 * two code cache lines Deno's tests rely on too. Not for the compiled binary,
 * which loads nothing from `$DENO_DIR`.
 *
 * - The refreshing `token` takes oauth4webapi from Deno's code cache. Without
 *   lib/lazy.ts `preloadPackage`, `deno run` compiles the package afresh in
 *   every refresh and writes its cache again, because a package reached
 *   through a dynamic import is looked up under its `npm:` specifier and
 *   stored under its file.
 * - Commands that read config.yaml load yaml's ES module build, from the code
 *   cache, and none of its CommonJS build (lib/store/yaml.ts).
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { childEnv, cliPermissions, tempHome } from "./harness.ts";
import { seedLogin } from "./seed_login.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PACKAGE = /oauth4webapi\/[^/]+\/build\/index\.js/;

/** A run of the CLI under `deno run -Ldebug`: the lines of its debug log that match `wanted`. */
async function debugLog(
  args: string[],
  env: Record<string, string>,
  wanted: RegExp,
): Promise<string[]> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-Ldebug", ...cliPermissions(), MAIN, ...args],
    env: childEnv(env),
    stdout: "null",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(stderr);
  assert.equal(code, 0, log.split("\n").filter((l) => !l.startsWith("DEBUG")).join("\n"));
  return log.split("\n").filter((line) => wanted.test(line));
}

/** One refreshing `token`: its code cache log lines about oauth4webapi. */
async function refreshOnce(issuer: string, home: string): Promise<string[]> {
  const lines = await debugLog(
    ["token", "xai-oauth"],
    { HERMES_HOME: home, HERMES_XAI_ISSUER: issuer },
    PACKAGE,
  );
  return lines.filter((line) => /V8 code cache/.test(line));
}

Deno.test({
  name:
    "a refreshing `token` takes oauth4webapi from Deno's code cache and does not write it again",
  ignore: Deno.env.get("HERMES_AUTH_BIN") !== undefined,
  async fn() {
    await using mock = await startMockXai();
    await using first = await tempHome();
    await using second = await tempHome();
    await seedLogin(first.path, mock, { ageSeconds: 3570 });
    await seedLogin(second.path, mock, { ageSeconds: 3570 });
    const refreshes = mock.stats.refreshes;
    await refreshOnce(mock.issuer, first.path); // fills the cache if nothing has yet
    const lines = await refreshOnce(mock.issuer, second.path);
    assert.equal(mock.stats.refreshes - refreshes, 2, "both processes refreshed");
    assert.ok(lines.some((l) => /code cache hit/.test(l)), `no cache hit:\n${lines.join("\n")}`);
    assert.deepEqual(lines.filter((l) => /Updating V8 code cache/.test(l)), []);
  },
});

Deno.test({
  name: "`list` and `config get` load yaml's ES module build from the code cache, no CommonJS",
  ignore: Deno.env.get("HERMES_AUTH_BIN") !== undefined,
  async fn() {
    await using home = await tempHome();
    await Deno.mkdir(home.path, { recursive: true });
    await Deno.writeTextFile(`${home.path}/config.yaml`, "model:\n  provider: xai-oauth\n");
    const env = { HERMES_HOME: home.path };
    const yaml = /\/yaml\/[^/]+\/(browser|dist)\//;
    await debugLog(["list"], env, yaml); // fills the cache if nothing has yet
    for (const args of [["list"], ["config", "get", "model.provider"]]) {
      const lines = await debugLog(args, env, yaml);
      const what = `${args.join(" ")}:\n${lines.join("\n")}`;
      assert.ok(lines.some((l) => /code cache hit for ES module: .*\/browser\//.test(l)), what);
      assert.deepEqual(lines.filter((l) => /\/yaml\/[^/]+\/dist\//.test(l)), [], what);
      assert.deepEqual(lines.filter((l) => /Updating V8 code cache/.test(l)), [], what);
    }
  },
});
