/**
 * The e2e suite runs the CLI under exactly the permissions `deno compile`
 * bakes into the binary (scripts/compile.ts PERMISSIONS), so that a
 * permission the binary lacks fails here, where no binary can be built.
 * The tests below cover what the rest of the suite does not reach: a use of
 * a permission whose absence would only degrade the output quietly.
 */
import assert from "node:assert/strict";
import { PERMISSIONS } from "../../scripts/compile.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { cliArgv, runCli, tempHome } from "./harness.ts";

const preset = Deno.env.get("HERMES_AUTH_BIN");

Deno.test({
  name: "the e2e suite runs main.ts with exactly the binary's permission flags, never --allow-all",
  ignore: preset !== undefined || Deno.env.get("HERMES_AUTH_E2E_ALLOW_ALL") !== undefined,
  fn() {
    const argv = cliArgv();
    assert.deepEqual(argv.slice(1, 3), ["run", "--quiet"]);
    assert.deepEqual(argv.slice(3, -1), PERMISSIONS.map((p) => p.flag));
    assert.ok(argv.at(-1)!.endsWith("/main.ts"));
    assert.ok(!argv.includes("--allow-all") && !argv.includes("-A"));
  },
});

Deno.test("over `ssh localhost` (a loopback server address) the tunnel hint names this host: --allow-sys=hostname", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const result = await runCli(["add", "xai-oauth", "--port", "0", "--timeout", "1"], {
    env: {
      HERMES_HOME: home.path,
      HERMES_XAI_ISSUER: mock.issuer,
      SSH_CONNECTION: "127.0.0.1 51000 127.0.0.1 22",
      USER: "ada",
    },
  });
  assert.equal(result.code, 4, result.stderr);
  // Without the permission Deno.hostname() throws, and the hint says ada@<this-host>.
  assert.ok(result.stderr.includes(` ada@${Deno.hostname()}\n`), result.stderr);
  assert.doesNotMatch(result.stderr, /<this-host>/);
});
