import assert from "node:assert/strict";
import { configGet, configSet } from "../../lib/cli/config.ts";
import { isAuthError } from "../../lib/errors.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { fakeContext, run, withHome } from "./command_context.ts";

async function seed(home: string, text: string): Promise<string> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  const path = configFilePath(home);
  await Deno.writeTextFile(path, text);
  return path;
}

const CONFIG = `# Hermes settings
model:
  default: anthropic/claude-opus-4.6   # the usual
  provider: openrouter
toolsets:
- all
terminal:
  timeout: 180
  cwd: ""
  env: ~
`;

Deno.test("config set prints ✓ Set <key> to <value> in <path> and edits only that line", async () => {
  await withHome(async (home) => {
    const path = await seed(home, CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configSet(ctx, "model.default", "grok-4.3", {})), 0);
    assert.equal(fake.stderr.text, `✓ Set model.default to grok-4.3 in ${path}\n`);
    assert.equal(fake.stdout.text, "");
    assert.equal(
      await Deno.readTextFile(path),
      CONFIG.replace("default: anthropic/claude-opus-4.6 ", "default: grok-4.3 "),
    );
  });
});

Deno.test("config set --json prints {key, value, path} with the typed value", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home, { json: true });
    assert.equal(
      await run(fake, (ctx) => configSet(ctx, "agent.max_turns", "90", { json: true })),
      0,
    );
    assert.deepEqual(JSON.parse(fake.stdout.text), {
      key: "agent.max_turns",
      value: 90,
      path: configFilePath(home),
    });
    assert.equal(fake.stderr.text, "");
    assert.equal(await Deno.readTextFile(configFilePath(home)), "agent:\n  max_turns: 90\n");
  });
});

Deno.test('config set with a quoted "3" stores the string and says so', async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configSet(ctx, "label", '"3"', {})), 0);
    assert.equal(fake.stderr.text, `✓ Set label to "3" in ${configFilePath(home)}\n`);
    assert.equal(await Deno.readTextFile(configFilePath(home)), 'label: "3"\n');
  });
});

Deno.test("config set through a scalar is exit 2 with the key named and a fix", async () => {
  await withHome(async (home) => {
    const path = await seed(home, CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configSet(ctx, "model.default.x", "1", {})), 2);
    assert.match(
      fake.stderr.text,
      /^✗ Cannot set "model\.default\.x": "model\.default" is a string/,
    );
    assert.match(fake.stderr.text, /\n {2}→ /);
    assert.equal(await Deno.readTextFile(path), CONFIG);
  });
});

Deno.test("config get prints a scalar plainly on stdout", async () => {
  await withHome(async (home) => {
    await seed(home, CONFIG);
    for (
      const [key, shown] of [["model.default", "anthropic/claude-opus-4.6"], [
        "terminal.timeout",
        "180",
      ]]
    ) {
      const fake = fakeContext(home);
      assert.equal(await run(fake, (ctx) => configGet(ctx, key, {})), 0);
      assert.equal(fake.stdout.text, shown + "\n");
      assert.equal(fake.stderr.text, "");
    }
  });
});

Deno.test("config get prints maps and sequences as YAML", async () => {
  await withHome(async (home) => {
    await seed(home, CONFIG);
    let fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configGet(ctx, "model", {})), 0);
    assert.equal(fake.stdout.text, "default: anthropic/claude-opus-4.6\nprovider: openrouter\n");
    fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configGet(ctx, "toolsets", {})), 0);
    assert.equal(fake.stdout.text, "- all\n");
  });
});

Deno.test("config get --json prints {key, value}", async () => {
  await withHome(async (home) => {
    await seed(home, CONFIG);
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => configGet(ctx, "model", { json: true })), 0);
    assert.deepEqual(JSON.parse(fake.stdout.text), {
      key: "model",
      value: { default: "anthropic/claude-opus-4.6", provider: "openrouter" },
    });
  });
});

Deno.test("config get of a key set but empty prints nothing and exits 0 (as gh does)", async () => {
  await withHome(async (home) => {
    await seed(home, CONFIG);
    for (const key of ["terminal.cwd", "terminal.env"]) {
      const fake = fakeContext(home);
      assert.equal(await run(fake, (ctx) => configGet(ctx, key, {})), 0);
      assert.equal(fake.stdout.text, "");
      assert.equal(fake.stderr.text, "");
    }
    const fake = fakeContext(home, { json: true });
    assert.equal(await run(fake, (ctx) => configGet(ctx, "terminal.env", { json: true })), 0);
    assert.deepEqual(JSON.parse(fake.stdout.text), { key: "terminal.env", value: null });
  });
});

Deno.test('config get of an absent key is exit 1: config key "x.y" is not set', async () => {
  await withHome(async (home) => {
    await seed(home, CONFIG);
    await assert.rejects(
      configGet(fakeContext(home).ctx, "model.base_url", {}),
      (e) => isAuthError(e, "config_key_missing") && e.exit === 1,
    );
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configGet(ctx, "model.base_url", {})), 1);
    assert.equal(fake.stdout.text, "");
    const [first] = fake.stderr.text.split("\n");
    assert.equal(first, '✗ config key "model.base_url" is not set');
  });
});

Deno.test("config get without a config.yaml reports the key as not set and creates nothing", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configGet(ctx, "model.default", {})), 1);
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("malformed keys are usage errors (exit 2) with a fix, for get and set", async () => {
  await withHome(async (home) => {
    for (const key of ["", "model.", "model..default"]) {
      let fake = fakeContext(home);
      assert.equal(await run(fake, (ctx) => configGet(ctx, key, {})), 2);
      assert.match(fake.stderr.text, /invalid config key/);
      assert.match(fake.stderr.text, /→ Use dot-separated names/);
      fake = fakeContext(home);
      assert.equal(await run(fake, (ctx) => configSet(ctx, key, "x", {})), 2);
    }
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("config get on invalid YAML names the file, line and column", async () => {
  await withHome(async (home) => {
    const path = await seed(home, "model:\n  default: [grok\nagent: 1\n");
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => configGet(ctx, "model.default", {})), 1);
    assert.ok(fake.stderr.text.includes(path), fake.stderr.text);
    assert.match(fake.stderr.text, /line \d+, column \d+/);
  });
});
