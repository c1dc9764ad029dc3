/**
 * `hermes-auth help <topic>`: the guides in docs/ are inside the program, the
 * same text as the files, readable on a terminal that has no docs folder.
 */
import assert from "node:assert/strict";
import { findGuide, GUIDES } from "../../lib/cli/guides.ts";
import { renderGuide } from "../../lib/cli/help.ts";
import { runCommand } from "./fake_context.ts";

const ROOT = new URL("../../", import.meta.url);
const plain = {
  bold: (s: string) => s,
  dim: (s: string) => s,
  red: (s: string) => s,
  green: (s: string) => s,
  yellow: (s: string) => s,
  cyan: (s: string) => s,
};

async function withHome<T>(fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const home = await Deno.makeTempDir({ prefix: "hermes-help-" });
  try {
    return await fn({ HERMES_HOME: home });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("every guide in docs/guides has a help topic", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("docs/guides/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/guides/${entry.name}`);
  }
  const sources = GUIDES.map((g) => g.source);
  for (const file of files.sort()) assert.ok(sources.includes(file), `${file} has no help topic`);
  for (const topic of ["ssh", "xai", "spotify", "custom", "exit-codes"]) {
    assert.ok(findGuide(topic), `topic ${topic}`);
  }
});

Deno.test("the embedded guides are the files in docs/, byte for byte", async () => {
  for (const guide of GUIDES) {
    const [path, anchor] = guide.source.split("#");
    const file = await Deno.readTextFile(new URL(path, ROOT));
    if (anchor === undefined) {
      assert.equal(guide.markdown, file, `${guide.topic} differs from ${path}`);
    } else {
      // A section: the file's lines from its heading up to the next one of the same level.
      assert.ok(file.includes(guide.markdown.trimEnd()), `${guide.topic} is not a part of ${path}`);
      assert.match(guide.markdown, /^## Exit codes\n/);
      assert.ok(!/\n## /.test(guide.markdown), "the section stops at the next ## heading");
    }
  }
});

Deno.test("help exit-codes holds every exit code the program uses", async () => {
  const { Exit } = await import("../../lib/errors.ts");
  const text = findGuide("exit-codes")!.markdown;
  for (const code of Object.values(Exit)) {
    assert.match(text, new RegExp(`\\b${code}\\b`), `exit code ${code} is not explained`);
  }
});

Deno.test("help ssh prints the guide for a terminal: no markdown links, guides by topic", async () => {
  const result = await withHome((env) => runCommand(["help", "ssh"], { env }));
  assert.equal(result.code, 0);
  assert.equal(result.stderr, "");
  assert.match(result.stdout, /^LOGGING IN OVER SSH AND ON REMOTE HOSTS\n/);
  assert.ok(!/\]\(/.test(result.stdout), "markdown link syntax left in the output");
  assert.ok(!/```/.test(result.stdout), "code fences left in the output");
  assert.ok(!result.stdout.includes("docs/guides/"), "a repository path nobody can open");
});

Deno.test("links to other guides become `hermes-auth help <topic>`, web links stay", () => {
  const lines = renderGuide({
    topic: "t",
    summary: "",
    source: "docs/guides/spotify.md",
    markdown: [
      "# Title",
      "See the [xAI guide](xai-grok-oauth.md#flags-of-add) and [SSH](oauth-over-ssh.md).",
      "The [reference](../reference/cli.md), [a section](#troubleshooting),",
      "[Spotify's rules](https://developer.spotify.com/x).",
      "![A screenshot](../img/x.png)",
      "```sh",
      "hermes-auth add spotify",
      "```",
      "",
    ].join("\n"),
  }, plain);
  assert.deepEqual(lines, [
    "TITLE",
    "See the xAI guide (hermes-auth help xai) and SSH (hermes-auth help ssh).",
    "The reference, a section,",
    "Spotify's rules (https://developer.spotify.com/x).",
    "[picture: A screenshot]",
    "    hermes-auth add spotify",
  ]);
});

Deno.test("help with an unknown topic is a usage error naming the topics", async () => {
  const result = await withHome((env) => runCommand(["help", "tunnels"], { env }));
  assert.equal(result.code, 2);
  assert.match(result.stderr, /no help topic "tunnels"/);
  assert.match(result.stderr, /ssh, xai, spotify, custom, exit-codes/);
});

Deno.test("help without a topic lists the topics; --json gives a topic's markdown", async () => {
  const list = await withHome((env) => runCommand(["help"], { env }));
  assert.equal(list.code, 0);
  for (const g of GUIDES) assert.match(list.stdout, new RegExp(`^  ${g.topic} +\\S`, "m"));
  const json = await withHome((env) => runCommand(["help", "xai", "--json"], { env }));
  assert.equal(JSON.parse(json.stdout).markdown, findGuide("xai")!.markdown);
});
