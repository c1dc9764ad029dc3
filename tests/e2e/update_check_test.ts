/**
 * The CLI processes the tests start talk to loopback only. `deno run` has an
 * update checker of its own: a process that lives 500 ms fetches the latest
 * version from dl.deno.land, and where that fails (here) it tries again in
 * every such process, since it records only a success (cli/tools/upgrade.rs,
 * `UPGRADE_CHECK_FETCH_DELAY`). The compiled binary has none. The harness's
 * environment turns it off; this shows it stays off, with Deno's own debug
 * log, which says when the checker has run.
 */
import assert from "node:assert/strict";
import { childEnv } from "./harness.ts";

Deno.test("a deno run started with the harness's environment runs no update check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-update-check-" });
  try {
    // Alive well past the checker's 500 ms delay, without a timer of its own to wait on.
    const script = `${dir}/wait.ts`;
    await Deno.writeTextFile(
      script,
      'await new Promise((r) => AbortSignal.timeout(900).addEventListener("abort", r));\n',
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--log-level=debug", "--no-config", script],
      env: childEnv({ HERMES_HOME: dir }),
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, log);
    // The debug log is on (it names the main module), so the checker's line would be there.
    assert.match(log, /main_module file:/);
    assert.doesNotMatch(log, /upgrade checker/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
