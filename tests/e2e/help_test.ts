/**
 * The guides travel inside the program: `help <topic>` run as a real process
 * (main.ts, or the compiled binary when the suite runs against one, which
 * has no docs folder beside it) prints exactly the files in docs/.
 */
import assert from "node:assert/strict";
import { runCli, tempHome } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("help <topic> --json carries each guide exactly as docs/ has it", async () => {
  await using home = await tempHome();
  const topics = { ssh: "oauth-over-ssh", xai: "xai-grok-oauth", spotify: "spotify" };
  for (const [topic, file] of Object.entries(topics)) {
    const result = await runCli(["help", topic, "--json"], { env: { HERMES_HOME: home.path } });
    assert.equal(result.code, 0, result.stderr);
    const expected = await Deno.readTextFile(new URL(`docs/guides/${file}.md`, ROOT));
    assert.equal(JSON.parse(result.stdout).markdown, expected, `help ${topic}`);
  }
});

Deno.test("help <command> prints that command's usage; help alone lists the topics", async () => {
  await using home = await tempHome();
  const add = await runCli(["help", "add"], { env: { HERMES_HOME: home.path } });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /^Usage: hermes-auth add \[options\] <provider>/m);
  const list = await runCli(["help"], { env: { HERMES_HOME: home.path } });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ {2}exit-codes +/m);
});
