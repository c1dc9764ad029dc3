/** The command tree: usage errors name the command that failed; option values are checked. */
import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/cli/tree.ts";

/** Parse `argv` the way main.ts does, capturing what commander prints. */
async function parse(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const answer = await parseCommandLine(argv, "0.0.0-test", {
    writeOut: (s) => void (stdout += s),
    writeErr: (s) => void (stderr += s),
  });
  return { code: typeof answer === "number" ? answer : undefined, stdout, stderr };
}

const hints: [string[], string][] = [
  [["token", "xai-oauth", "--jsn"], "(hermes-auth token --help for usage)"],
  [["status", "--foo"], "(hermes-auth status --help for usage)"],
  [["config", "get"], "(hermes-auth config get --help for usage)"],
  [["config", "frob"], "(hermes-auth config --help for usage)"],
  [["remove", "xai-oauth"], "(hermes-auth remove --help for usage)"],
  [["frobnicate"], "(hermes-auth --help for usage)"],
  [["switch"], "(hermes-auth --help for usage)"],
];
for (const [argv, hint] of hints) {
  Deno.test(`\`${argv.join(" ")}\` is exit 2 and points at ${hint}`, async () => {
    const { code, stderr } = await parse(argv);
    assert.equal(code, 2);
    assert.equal(stderr.trimEnd().split("\n").at(-1), hint);
    assert.doesNotMatch(stderr, /\(add --help/);
  });
}

Deno.test("a typo in an option still gets commander's suggestion", async () => {
  const { stderr } = await parse(["token", "xai-oauth", "--jsn"]);
  assert.match(stderr, /unknown option '--jsn'\n\(Did you mean --json\?\)\n/);
});

Deno.test("--timeout above a day is refused naming the maximum", async () => {
  const { code, stderr } = await parse(["add", "xai-oauth", "--timeout", "86401"]);
  assert.equal(code, 2);
  assert.match(stderr, /'86401' is invalid\. .*at most 86400 \(24 hours\)/);
  assert.equal(typeof (await parse(["add", "xai-oauth", "--timeout", "86400"])).code, "undefined");
  assert.equal(typeof (await parse(["add", "xai-oauth", "--timeout", "0.5"])).code, "undefined");
});

Deno.test("--timeout takes plain decimal seconds only: 1e3, 0x10, ' 5' and 0 are refused", async () => {
  for (const value of ["1e3", "0x10", " 5", "5 ", "0", "-1", "", "Infinity"]) {
    const { code } = await parse(["add", "xai-oauth", "--timeout", value]);
    assert.equal(code, 2, JSON.stringify(value));
  }
});

Deno.test("--port ' 80' is refused, not read as 80", async () => {
  for (const value of [" 80", "80 ", "+80", "8e1", "65536", "-1", ""]) {
    const { code, stderr } = await parse(["add", "xai-oauth", "--port", value]);
    assert.equal(code, 2, JSON.stringify(value));
    assert.match(stderr, /expected a whole number from 0 to 65535/);
  }
  assert.equal(typeof (await parse(["add", "xai-oauth", "--port", "0"])).code, "undefined");
});

Deno.test("a label with control characters is refused, and the error shows them escaped", async () => {
  for (const value of ["evil\x1b[31m\nx", "tab\there", "bell\x07", "rtl\u202egnp.exe"]) {
    const { code, stderr } = await parse(["add", "xai-oauth", "--label", value]);
    assert.equal(code, 2, JSON.stringify(value));
    assert.match(stderr, /a label cannot contain control characters/);
    // deno-lint-ignore no-control-regex -- no raw escape may reach the terminal
    assert.doesNotMatch(stderr, /[\x1b\x07\t\u202e]/, JSON.stringify(stderr));
  }
  const { stderr } = await parse(["add", "xai-oauth", "--label", "evil\x1b[31mx"]);
  assert.match(stderr, /'evil\\x1b\[31mx'/);
  assert.equal(
    typeof (await parse(["add", "xai-oauth", "--label", "work laptop"])).code,
    "undefined",
  );
});

Deno.test("completion takes bash, zsh or fish; another shell is exit 2 naming the choices", async () => {
  const { code, stderr } = await parse(["completion", "tcsh"]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /Allowed choices are bash, zsh, fish\.\n\(hermes-auth completion --help for usage\)/,
  );
  assert.equal(typeof (await parse(["completion", "fish"])).code, "undefined");
});
