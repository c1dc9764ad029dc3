/**
 * A HERMES_HOME that is a file, or an auth.json (or config.yaml, auth.lock)
 * that is a directory: every command and doctor say what is really there,
 * instead of blaming permissions ("it should be yours, mode 600") or
 * warning that a directory lets other users read tokens.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { doctorWith } from "../../lib/cli/doctor.ts";
import { runCommand } from "./fake_context.ts";
import { fakeContext, QUIET_DOCTOR, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

/** Every command that reads or writes the home, with arguments a user would type. */
const COMMANDS: string[][] = [
  ["status"],
  ["status", "xai-oauth"],
  ["list"],
  ["token", "xai-oauth"],
  ["refresh", "xai-oauth"],
  ["logout", "xai-oauth"],
  ["remove", "xai-oauth", "1"],
  ["config", "get", "model.default"],
  ["config", "set", "model.default", "grok-4.3"],
  ["model", "--provider", "xai-oauth", "--model", "grok-4.3"],
  ["add", "xai-oauth", "--no-wait"],
];

function assertTruthful(stderr: string, what: RegExp, command: string[]): void {
  const name = command.join(" ");
  assert.match(stderr, what, name);
  assert.doesNotMatch(stderr, /mode 600|owner and permissions|unexpected error/, name);
}

Deno.test("HERMES_HOME is a file: every command says so, and how to fix it (exit 1)", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, ".."), { recursive: true });
    await Deno.writeTextFile(home, "not a directory\n");
    for (const command of COMMANDS) {
      const result = await runCommand(command, { env: { HERMES_HOME: home } });
      assert.equal(result.code, 1, `${command.join(" ")}: ${result.stderr}`);
      assertTruthful(result.stderr, /HERMES_HOME \S+ is a file, not a directory/, command);
      assert.match(result.stderr, /→ Move that file aside \(mv /, command.join(" "));
    }
    assert.equal(await Deno.readTextFile(home), "not a directory\n", "the file is left alone");
  });
});

Deno.test("HERMES_HOME under a file: every command names the file in the way", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, ".."), { recursive: true });
    await Deno.writeTextFile(home, "");
    for (const command of COMMANDS) {
      const result = await runCommand(command, { env: { HERMES_HOME: join(home, "sub") } });
      assert.equal(result.code, 1, command.join(" "));
      assertTruthful(
        result.stderr,
        /\S+ is a file, so HERMES_HOME \S+ cannot be a directory/,
        command,
      );
    }
  });
});

Deno.test("auth.json is a directory: every command that needs it says so (exit 1)", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, "auth.json"), { recursive: true });
    for (const command of COMMANDS.filter((c) => c[0] !== "config")) {
      const result = await runCommand(command, { env: { HERMES_HOME: home } });
      assert.equal(result.code, 1, `${command.join(" ")}: ${result.stderr}`);
      assertTruthful(result.stderr, /auth\.json: it is a directory, not a file/, command);
    }
  });
});

Deno.test("config.yaml or auth.lock is a directory: config set says which", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, "config.yaml"), { recursive: true });
    const config = await runCommand(["config", "set", "a", "1"], { env: { HERMES_HOME: home } });
    assert.equal(config.code, 1);
    assertTruthful(config.stderr, /config\.yaml: it is a directory, not a file/, ["config"]);
    await Deno.remove(join(home, "config.yaml"));
    await Deno.remove(join(home, "auth.lock"));
    await Deno.mkdir(join(home, "auth.lock"));
    const lock = await runCommand(["config", "set", "a", "1"], { env: { HERMES_HOME: home } });
    assert.equal(lock.code, 1);
    assertTruthful(lock.stderr, /Cannot write \S+auth\.lock: it is a directory/, ["config"]);
  });
});

Deno.test("doctor: auth.json that is a directory is not 'readable by others', it is a directory", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.remove(join(home, "auth.json"));
    await Deno.mkdir(join(home, "auth.json"), { mode: 0o755 });
    await Deno.chmod(join(home, "auth.json"), 0o755);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => doctorWith(ctx, {}, QUIET_DOCTOR)), 1);
    assert.match(fake.stdout.text, /✗ auth\.json: \S+ is a directory, not a file/);
    assert.doesNotMatch(fake.stdout.text, /other users can read your tokens/);
    assert.doesNotMatch(fake.stdout.text, /mode 600/);
  });
});

Deno.test("doctor: under a HERMES_HOME that is a file, auth.json is not 'nobody has logged in'", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, ".."), { recursive: true });
    await Deno.writeTextFile(home, "");
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => doctorWith(ctx, {}, QUIET_DOCTOR)), 1);
    assert.match(fake.stdout.text, /✗ HERMES_HOME: HERMES_HOME \S+ is a file, not a directory/);
    assert.match(fake.stdout.text, /auth\.json cannot exist while HERMES_HOME is not a directory/);
    assert.doesNotMatch(fake.stdout.text, /nobody has logged in/);
    assert.match(fake.stdout.text, /✗ 1 problem to fix/);
  });
});
