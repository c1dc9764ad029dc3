import assert from "node:assert/strict";
import { join } from "node:path";
import { isAuthError } from "../../lib/errors.ts";
import {
  configFilePath,
  formatConfigValue,
  getConfigValue,
  parseScalar,
  readConfig,
  splitConfigKey,
  updateConfig,
} from "../../lib/store/config.ts";

const posix = Deno.build.os !== "windows";
const root = posix && Deno.uid() === 0;

/** A config.yaml as Hermes and its user leave it: comments, odd spacing, keys we do not know. */
const HERMES_CONFIG = `# ~/.hermes/config.yaml — Hermes Agent settings
# Edit by hand or with \`hermes config set <key> <value>\`; comments survive.

model:
  # Default model for new sessions (provider/model for OpenRouter)
  default: anthropic/claude-opus-4.6
  provider: openrouter        # set by \`hermes model\`
  base_url: https://openrouter.ai/api/v1

# Terminal tool: where commands run
terminal:
  backend: local    # local | docker | ssh | modal
  cwd: "."
  timeout: 180
  docker_image: "nikolaik/python-nodejs:python3.11-nodejs20"

toolsets:
- all

compression:
  enabled: true
  threshold: 0.85
  summary_model: 'google/gemini-3-flash-preview'

display:
  compact: false
  tool_progress: all
  personality: kawaii

custom_providers:
  - name: local-llama
    base_url: http://localhost:8080/v1
    api_key: ''

memory:
  memory_enabled: true
  memory_char_limit: 2200   # ~800 tokens
  user_char_limit: 1375

agent:
  max_turns: 90
  system_prompt: >
    You are Hermes, a helpful assistant
    running on the user's machine.

# Settings a newer Hermes added; this program has never heard of them.
future_feature:
  knobs: {alpha: 1, beta: [x, y]}
  ratio: 1.50
  mask: 0x1F
`;

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-config-" });
  try {
    await fn(join(dir, "hermes"));
  } finally {
    await Deno.chmod(dir, 0o700).catch(() => {});
    await Deno.chmod(join(dir, "hermes"), 0o700).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

async function seed(home: string, text: string): Promise<string> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  const path = configFilePath(home);
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  return path;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

/** `text` with exactly the given lines replaced (each `from` must occur once). */
function replaceLines(text: string, swaps: [string, string][]): string {
  let out = text;
  for (const [from, to] of swaps) {
    assert.equal(out.split(from).length, 2, `fixture holds ${JSON.stringify(from)} once`);
    out = out.replace(from, to);
  }
  return out;
}

Deno.test("setting model.provider, model.default and model.base_url changes those three lines and no other byte", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, {
      "model.provider": "xai-oauth",
      "model.default": "grok-4.3",
      "model.base_url": "https://api.x.ai/v1",
    });
    const expected = replaceLines(HERMES_CONFIG, [
      ["  default: anthropic/claude-opus-4.6\n", "  default: grok-4.3\n"],
      ["  provider: openrouter        # set by", "  provider: xai-oauth        # set by"],
      ["  base_url: https://openrouter.ai/api/v1\n", "  base_url: https://api.x.ai/v1\n"],
    ]);
    assert.equal(await Deno.readTextFile(path), expected);
  });
});

Deno.test("a new key in an existing map is one new line after the map's last entry", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, { "display.streaming": true });
    const expected = replaceLines(HERMES_CONFIG, [
      ["  personality: kawaii\n", "  personality: kawaii\n  streaming: true\n"],
    ]);
    assert.equal(await Deno.readTextFile(path), expected);
  });
});

Deno.test("a key after a folded block scalar is added after the block, which stays as it was", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, { "agent.reasoning_effort": "medium" });
    const expected = replaceLines(HERMES_CONFIG, [
      [
        "    running on the user's machine.\n",
        "    running on the user's machine.\n  reasoning_effort: medium\n",
      ],
    ]);
    assert.equal(await Deno.readTextFile(path), expected);
  });
});

Deno.test("nested keys create their maps at the end of the file", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, { "auxiliary.vision.provider": "xai-oauth" });
    assert.equal(
      await Deno.readTextFile(path),
      HERMES_CONFIG + "auxiliary:\n  vision:\n    provider: xai-oauth\n",
    );
    const doc = await readConfig(home);
    assert.deepEqual(getConfigValue(doc, "auxiliary"), { vision: { provider: "xai-oauth" } });
  });
});

Deno.test("an empty map (`model:`) is filled in place", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "model:   # pick with `hermes model`\nagent:\n  max_turns: 90\n");
    await updateConfig(home, { "model.default": "grok-4.3" });
    assert.equal(
      await Deno.readTextFile(path),
      "model:\n  default: grok-4.3\nagent:\n  max_turns: 90\n",
    );
  });
});

Deno.test("values are typed as YAML reads them and written so YAML reads them back the same", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "# typed\n");
    const cases: [string, unknown, string][] = [
      ["3", 3, "three: 3"],
      ["true", true, "yes_bool: true"],
      ["null", null, "nothing: null"],
      ['"3"', "3", 'quoted: "3"'],
      ["1.5", 1.5, "ratio: 1.5"],
      ["https://api.x.ai/v1", "https://api.x.ai/v1", "url: https://api.x.ai/v1"],
    ];
    const keys = ["three", "yes_bool", "nothing", "quoted", "ratio", "url"];
    await updateConfig(
      home,
      Object.fromEntries(cases.map(([text], i) => [keys[i], parseScalar(text)])),
    );
    assert.equal(
      await Deno.readTextFile(path),
      "# typed\n" + cases.map((c) => c[2] + "\n").join(""),
    );
    const doc = await readConfig(home);
    cases.forEach(([, value], i) => assert.deepEqual(getConfigValue(doc, keys[i]), value));
  });
});

Deno.test("strings YAML 1.1 (PyYAML, which Hermes uses) would misread are quoted", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "");
    await updateConfig(home, {
      a: "on",
      b: "yes",
      c: "0123",
      d: "2025-01-01",
      e: "",
      f: "two\nlines",
      g: "plain text",
    });
    assert.equal(
      await Deno.readTextFile(path),
      'a: "on"\nb: "yes"\nc: "0123"\nd: "2025-01-01"\ne: ""\nf: "two\\nlines"\ng: plain text\n',
    );
  });
});

Deno.test("parseScalar reads command-line text as a YAML 1.2 core-schema scalar", () => {
  const cases: [string, unknown][] = [
    ["3", 3],
    ["-7", -7],
    ["0x1f", 31],
    ["0o17", 15],
    ["1.5", 1.5],
    ["1e3", 1000],
    [".inf", Infinity],
    ["-.inf", -Infinity],
    ["true", true],
    ["False", false],
    ["null", null],
    ["~", null],
    ['"3"', "3"],
    ["'true'", "true"],
    ['"a\\tb"', "a\tb"],
    ["yes", "yes"],
    ["on", "on"],
    ["grok-4.3", "grok-4.3"],
    ["https://api.x.ai/v1", "https://api.x.ai/v1"],
    ["a: b", "a: b"],
    ["[1, 2]", "[1, 2]"],
    ['"unterminated', '"unterminated'],
    ["", ""],
    ["12345678901234567890", "12345678901234567890"],
  ];
  for (const [text, value] of cases) assert.deepEqual(parseScalar(text), value, text);
  assert.ok(Number.isNaN(parseScalar(".nan")));
});

Deno.test("formatConfigValue shows a value as it is written", () => {
  assert.equal(formatConfigValue("grok-4.3"), "grok-4.3");
  assert.equal(formatConfigValue("3"), '"3"');
  assert.equal(formatConfigValue(3), "3");
  assert.equal(formatConfigValue(null), "null");
});

Deno.test("a key that goes through a string is refused with exit 2 and the file is untouched", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await assert.rejects(updateConfig(home, { "model.default.name": "x" }), (e) => {
      assert.ok(isAuthError(e, "config_not_a_map"));
      assert.equal(e.exit, 2);
      assert.match(e.message, /"model\.default" is a string/);
      assert.ok(e.fix);
      return true;
    });
    assert.equal(await Deno.readTextFile(path), HERMES_CONFIG);
  });
});

Deno.test("a key that goes through a sequence is refused with exit 2", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await assert.rejects(updateConfig(home, { "toolsets.web": true }), (e) => {
      assert.ok(isAuthError(e, "config_not_a_map"));
      assert.equal(e.exit, 2);
      assert.match(e.message, /"toolsets" is a list/);
      return true;
    });
    assert.equal(await Deno.readTextFile(path), HERMES_CONFIG);
  });
});

Deno.test("invalid YAML is config_invalid naming file, line and column, and the file stays byte-identical", async () => {
  await withHome(async (home) => {
    const broken = "model:\n  default: grok-4.3\n  provider: [xai-oauth\nagent:\n  max_turns: 90\n";
    const path = await seed(home, broken);
    const before = await Deno.stat(path);
    await assert.rejects(updateConfig(home, { "model.default": "grok-4" }), (e) => {
      assert.ok(isAuthError(e, "config_invalid"));
      assert.equal(e.exit, 1);
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /line 4, column 1/);
      assert.match(e.fix ?? "", /line 4/);
      return true;
    });
    await assert.rejects(readConfig(home), (e) => isAuthError(e, "config_invalid"));
    assert.equal(await Deno.readTextFile(path), broken);
    assert.equal((await Deno.stat(path)).mtime?.getTime(), before.mtime?.getTime());
    assert.deepEqual(await names(home), ["auth.lock", "config.yaml"]);
  });
});

Deno.test("a missing config.yaml is created 0600 in a HERMES_HOME created 0700", async () => {
  await withHome(async (home) => {
    await updateConfig(home, {
      "model.provider": "xai-oauth",
      "model.default": "grok-4.3",
      "model.base_url": "https://api.x.ai/v1",
    });
    const path = configFilePath(home);
    assert.equal(
      await Deno.readTextFile(path),
      "model:\n  provider: xai-oauth\n  default: grok-4.3\n  base_url: https://api.x.ai/v1\n",
    );
    if (posix) {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700);
    }
  });
});

Deno.test({
  name: "an existing config.yaml keeps its mode",
  ignore: !posix,
  fn: async () => {
    await withHome(async (home) => {
      const path = await seed(home, "a: 1\n");
      await Deno.chmod(path, 0o644);
      await updateConfig(home, { a: 2 });
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
      assert.equal(await Deno.readTextFile(path), "a: 2\n");
    });
  },
});

Deno.test("a missing config.yaml reads as an empty document", async () => {
  await withHome(async (home) => {
    const doc = await readConfig(home);
    assert.equal(getConfigValue(doc, "model.default"), undefined);
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("getConfigValue: scalars, maps as plain objects, null when empty, undefined when absent", async () => {
  await withHome(async (home) => {
    await seed(home, HERMES_CONFIG + "empty:\nshared: &s {x: 1}\nalias: *s\n");
    const doc = await readConfig(home);
    assert.equal(getConfigValue(doc, "model.default"), "anthropic/claude-opus-4.6");
    assert.equal(getConfigValue(doc, "terminal.timeout"), 180);
    assert.equal(getConfigValue(doc, "memory.memory_enabled"), true);
    assert.deepEqual(getConfigValue(doc, "toolsets"), ["all"]);
    assert.deepEqual(getConfigValue(doc, "future_feature.knobs"), { alpha: 1, beta: ["x", "y"] });
    assert.deepEqual(getConfigValue(doc, "custom_providers"), [
      { name: "local-llama", base_url: "http://localhost:8080/v1", api_key: "" },
    ]);
    assert.equal(getConfigValue(doc, "empty"), null);
    assert.equal(getConfigValue(doc, "alias.x"), 1);
    assert.equal(getConfigValue(doc, "model.nope"), undefined);
    assert.equal(getConfigValue(doc, "model.default.deeper"), undefined);
    assert.equal(getConfigValue(doc, "nope.nope"), undefined);
  });
});

Deno.test("malformed keys are usage errors (exit 2)", async () => {
  for (const key of ["", "model.", ".model", "model..default", "model. default"]) {
    assert.throws(() => splitConfigKey(key), (e) => isAuthError(e, "usage") && e.exit === 2, key);
  }
  assert.deepEqual(splitConfigKey("model.base_url"), ["model", "base_url"]);
  await withHome(async (home) => {
    await assert.rejects(updateConfig(home, { "a..b": 1 }), (e) => isAuthError(e, "usage"));
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("remove deletes the entry's lines; a map emptied by it stays as {}", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, {}, {
      remove: ["model.base_url", "memory.user_char_limit", "nope.x"],
    });
    const expected = replaceLines(HERMES_CONFIG, [
      ["  base_url: https://openrouter.ai/api/v1\n", ""],
      ["  user_char_limit: 1375\n", ""],
    ]);
    assert.equal(await Deno.readTextFile(path), expected);

    await seed(home, "model:\n  provider: xai-oauth\nagent: 1\n");
    await updateConfig(home, {}, { remove: ["model.provider"] });
    assert.equal(await Deno.readTextFile(path), "model: {}\nagent: 1\n");
  });
});

Deno.test("a flow map that gains a key is rewritten as a block; the rest of the file is untouched", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    await updateConfig(home, { "future_feature.knobs.gamma": 3 });
    const expected = replaceLines(HERMES_CONFIG, [
      [
        "  knobs: {alpha: 1, beta: [x, y]}\n",
        '  knobs:\n    alpha: 1\n    beta:\n    - x\n    - "y"\n    gamma: 3\n',
      ],
    ]);
    assert.equal(await Deno.readTextFile(path), expected);
  });
});

Deno.test("CRLF line endings and a byte-order mark are kept", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "\uFEFFmodel:\r\n  default: a # c\r\n");
    await updateConfig(home, { "model.default": "b", "model.provider": "xai-oauth" });
    const bytes = await Deno.readFile(path);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(
      new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes),
      "\uFEFFmodel:\r\n  default: b # c\r\n  provider: xai-oauth\r\n",
    );
  });
});

Deno.test("a file without a final newline gets one", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "a: 1");
    await updateConfig(home, { a: 2 });
    assert.equal(await Deno.readTextFile(path), "a: 2\n");
  });
});

Deno.test("an edit that changes nothing does not rewrite the file", async () => {
  await withHome(async (home) => {
    const path = await seed(home, HERMES_CONFIG);
    const before = await Deno.stat(path);
    await updateConfig(home, { "model.default": "anthropic/claude-opus-4.6" });
    const after = await Deno.stat(path);
    assert.equal(after.ino, before.ino);
    assert.equal(await Deno.readTextFile(path), HERMES_CONFIG);
  });
});

Deno.test("concurrent updates in one process all land (the lock serialises them)", async () => {
  await withHome(async (home) => {
    await seed(home, HERMES_CONFIG);
    const keys = Array.from({ length: 8 }, (_, i) => `parallel.k${i}`);
    await Promise.all(keys.map((key, i) => updateConfig(home, { [key]: i })));
    const doc = await readConfig(home);
    keys.forEach((key, i) => assert.equal(getConfigValue(doc, key), i));
    assert.equal(getConfigValue(doc, "model.default"), "anthropic/claude-opus-4.6");
  });
});

Deno.test({
  name: "a read-only HERMES_HOME gives auth_write_failed and leaves config.yaml as it was",
  // root ignores directory modes; the symlink test below forces the failure for root.
  ignore: !posix || root,
  fn: async () => {
    await withHome(async (home) => {
      const path = await seed(home, HERMES_CONFIG);
      await Deno.writeTextFile(join(home, "auth.lock"), "", { mode: 0o600 });
      await Deno.chmod(home, 0o500);
      try {
        await assert.rejects(updateConfig(home, { "model.default": "grok-4.3" }), (e) => {
          assert.ok(isAuthError(e, "auth_write_failed"));
          assert.ok(e.message.includes(path));
          assert.ok(e.fix?.includes(home));
          return true;
        });
      } finally {
        await Deno.chmod(home, 0o700);
      }
      assert.equal(await Deno.readTextFile(path), HERMES_CONFIG);
      assert.deepEqual(await names(home), ["auth.lock", "config.yaml"]);
    });
  },
});

Deno.test({
  name: "a write that fails leaves no partial file and says which file",
  ignore: !posix,
  fn: async () => {
    await withHome(async (home) => {
      // config.yaml -> <dir>/gone/config.yaml: it reads as missing, but the temp
      // file cannot be created next to the target, even for root.
      await Deno.mkdir(home, { recursive: true, mode: 0o700 });
      const gone = join(home, "..", "gone");
      const path = configFilePath(home);
      await Deno.symlink(join(gone, "config.yaml"), path);
      await assert.rejects(updateConfig(home, { "model.default": "grok-4.3" }), (e) => {
        assert.ok(isAuthError(e, "auth_write_failed"), String(e));
        assert.ok(e.message.includes(path));
        return true;
      });
      assert.deepEqual(await names(home), ["auth.lock", "config.yaml"]);
      assert.deepEqual(await names(join(home, "..")), ["hermes"]);
      assert.equal((await Deno.lstat(path)).isSymlink, true);
    });
  },
});

Deno.test({
  name: "a config.yaml that cannot be read is config_unreadable, not an empty config",
  ignore: !posix,
  fn: async () => {
    await withHome(async (home) => {
      await Deno.mkdir(configFilePath(home), { recursive: true });
      await assert.rejects(readConfig(home), (e) => isAuthError(e, "config_unreadable"));
      await assert.rejects(
        updateConfig(home, { a: 1 }),
        (e) => isAuthError(e, "config_unreadable"),
      );
    });
  },
});
