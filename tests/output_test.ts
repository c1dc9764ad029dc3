/** Output: human text vs JSON, colours, redaction, closed pipes. */
import assert from "node:assert/strict";
import { AuthError, Exit } from "../lib/errors.ts";
import { colorAllowed, Output, printable, type SyncWriter } from "../lib/output.ts";

class Sink implements SyncWriter {
  text = "";
  writeSync(p: Uint8Array): number {
    this.text += new TextDecoder().decode(p);
    return p.length;
  }
}

function make(json: boolean, color = false) {
  const stdout = new Sink();
  const stderr = new Sink();
  return { out: new Output({ json, color, stdout, stderr }), stdout, stderr };
}

Deno.test("human text goes to stderr, data to stdout, and --json keeps stdout pure JSON", () => {
  const human = make(false);
  human.out.info("hello");
  human.out.data("row");
  human.out.event({ event: "x" });
  assert.equal(human.stderr.text, "hello\n");
  assert.equal(human.stdout.text, "row\n");
  const json = make(true);
  json.out.info("hello");
  json.out.warn("careful");
  json.out.event({ event: "x" });
  assert.equal(json.stderr.text, "");
  assert.deepEqual(json.stdout.text.trim().split("\n").map((l) => JSON.parse(l)), [
    { event: "warning", message: "careful" },
    { event: "x" },
  ]);
});

Deno.test("a line after a prompt nobody answered starts on a line of its own", () => {
  const { out, stderr } = make(false);
  out.prompt("Paste it here (Ctrl-C to give up): ");
  out.error(new AuthError("callback_timeout", "no callback arrived within 2 s"));
  assert.equal(
    stderr.text,
    "Paste it here (Ctrl-C to give up): \n✗ no callback arrived within 2 s\n",
  );
});

Deno.test("after the person answered a prompt (Enter), no extra blank line is added", () => {
  const { out, stderr } = make(false);
  out.prompt("Paste again: ");
  out.answered();
  out.warn("that is not a code");
  out.success("Logged in");
  assert.equal(stderr.text, "Paste again: ! that is not a code\n✓ Logged in\n");
});

Deno.test("a registered secret is redacted from every line, including error events", () => {
  const { out, stdout, stderr } = make(false);
  out.secret("s3cr3t-token-value");
  out.info("token is s3cr3t-token-value");
  out.error(new AuthError("x", "failed with s3cr3t-token-value", { exit: Exit.PROVIDER }));
  assert.ok(!stderr.text.includes("s3cr3t-token-value"));
  assert.match(stderr.text, /\[redacted\]/);
  const j = make(true);
  j.out.secret("s3cr3t-token-value");
  j.out.event({ event: "e", message: "s3cr3t-token-value" });
  assert.ok(!j.stdout.text.includes("s3cr3t-token-value"));
  assert.equal(stdout.text, "");
});

Deno.test("colours only when asked, never in JSON mode", () => {
  const plain = make(false, false);
  plain.out.success("done");
  assert.equal(plain.stderr.text, "✓ done\n");
  const colored = make(false, true);
  colored.out.success("done");
  assert.ok(colored.stderr.text.includes("\x1b[32m"));
});

Deno.test("colour is per stream: a piped stdout gets plain data while stderr stays coloured", () => {
  const stdout = new Sink();
  const stderr = new Sink();
  const out = new Output({ json: false, color: { stdout: false, stderr: true }, stdout, stderr });
  out.data(`${out.dataStyle.bold("xai-oauth")}  logged in`);
  out.warn("careful");
  assert.equal(stdout.text, "xai-oauth  logged in\n");
  assert.equal(stderr.text, "\x1b[33m!\x1b[39m careful\n");
  const reverse = new Output({
    json: false,
    color: { stdout: true, stderr: false },
    stdout,
    stderr,
  });
  assert.equal(reverse.dataStyle.bold("x"), "\x1b[1mx\x1b[22m");
  assert.equal(reverse.style.bold("x"), "x");
});

Deno.test("colorAllowed: a terminal, NO_COLOR unset or empty, TERM not dumb", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(colorAllowed(true, env({ TERM: "xterm" })), true);
  assert.equal(colorAllowed(false, env({ TERM: "xterm" })), false, "not a terminal");
  assert.equal(colorAllowed(true, env({ NO_COLOR: "1" })), false);
  // https://no-color.org: only a NO_COLOR that is present and not empty counts.
  assert.equal(colorAllowed(true, env({ NO_COLOR: "" })), true);
  assert.equal(colorAllowed(true, env({ TERM: "dumb" })), false);
});

Deno.test("printable escapes control and bidi characters, keeps the rest, and keeps what it is told", () => {
  assert.equal(
    printable("evil\x1b[31m\nx\t\r\x07\x7f\u202e ü ✓"),
    "evil\\x1b[31m\\nx\\t\\r\\x07\\x7f\\u202e ü ✓",
  );
  assert.equal(printable("a\nb\x1b", "\n"), "a\nb\\x1b");
});

Deno.test("a closed pipe stops output quietly instead of crashing (add --json | head -1)", () => {
  let writes = 0;
  const broken: SyncWriter = {
    writeSync() {
      writes++;
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  };
  const out = new Output({ json: true, color: false, stdout: broken, stderr: new Sink() });
  out.event({ event: "authorize" });
  out.event({ event: "success" });
  assert.equal(writes, 1);
});
