import assert from "node:assert/strict";
import { join } from "node:path";
import {
  inquirerPrompter,
  modelWith,
  type PromptChoice,
  type Prompter,
} from "../../lib/cli/model.ts";
import { AuthError, Exit } from "../../lib/errors.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { modelsDevCachePath } from "../../lib/store/models_dev.ts";
import {
  assertCtrlCEndsLockWait,
  fakeContext,
  readAuthJson,
  run,
  withHome,
  writeAuthJson,
} from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

/** A prompter that answers from a script and records what it was asked. */
class ScriptedPrompter implements Prompter {
  asked: { kind: string; message: string; choices?: PromptChoice<string>[]; default?: unknown }[] =
    [];
  constructor(readonly answers: (string | boolean | Error)[]) {}
  #next(): string | boolean {
    const answer = this.answers.shift();
    if (answer === undefined) throw new Error("the picker asked more than the test expected");
    if (answer instanceof Error) throw answer;
    return answer;
  }
  select<T extends string>(message: string, choices: PromptChoice<T>[], defaultValue?: T) {
    this.asked.push({ kind: "select", message, choices, default: defaultValue });
    return Promise.resolve(this.#next() as T);
  }
  confirm(message: string, defaultValue: boolean) {
    this.asked.push({ kind: "confirm", message, default: defaultValue });
    return Promise.resolve(this.#next() as boolean);
  }
}

const NO_PROMPTS = new ScriptedPrompter([]);

async function config(home: string): Promise<string> {
  return await Deno.readTextFile(configFilePath(home));
}

Deno.test("--provider (an alias) and --model write model.* and make the provider active", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, { ...poolStore(), active_provider: null });
    const fake = fakeContext(home);
    const opts = { provider: "grok-oauth", model: "grok-4.20-0309-reasoning" };
    assert.equal(await run(fake, (ctx) => modelWith(ctx, opts, NO_PROMPTS)), 0);
    assert.equal(
      await config(home),
      "model:\n  provider: xai-oauth\n  default: grok-4.20-0309-reasoning\n" +
        "  base_url: https://api.x.ai/v1\n",
    );
    assert.equal((await readAuthJson(home)).active_provider, "xai-oauth");
    assert.match(fake.stderr.text, /Hermes will use grok-4\.20-0309-reasoning from xAI Grok OAuth/);
    assert.doesNotMatch(fake.stderr.text, /Not logged in/);
  });
});

Deno.test("--provider alone takes the default model; XAI_BASE_URL is respected; comments stay", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home, { recursive: true });
    await Deno.writeTextFile(configFilePath(home), "# mine\nmodel:\n  default: gpt-5 # old\n");
    const fake = fakeContext(home, { json: true, env: { XAI_BASE_URL: "https://proxy.test/v1" } });
    assert.equal(
      await run(fake, (ctx) => modelWith(ctx, { provider: "xai-oauth" }, NO_PROMPTS)),
      0,
    );
    const lines = fake.stdout.text.trim().split("\n");
    const warning = JSON.parse(lines[0]);
    assert.equal(warning.event, "warning");
    assert.match(warning.message, /Not logged in to xAI Grok OAuth/);
    const doc = JSON.parse(lines.slice(1).join("\n"));
    assert.deepEqual(
      [doc.provider, doc.model, doc.base_url, doc.logged_in, doc.overridden_by],
      ["xai-oauth", "grok-4.3", "https://proxy.test/v1", false, null],
    );
    assert.equal(
      await config(home),
      "# mine\nmodel:\n  default: grok-4.3 # old\n  provider: xai-oauth\n" +
        "  base_url: https://proxy.test/v1\n",
    );
  });
});

Deno.test("--model alone keeps the active provider, HERMES_INFERENCE_PROVIDER first", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.writeTextFile(configFilePath(home), "model:\n  provider: openrouter\n");
    const env = { HERMES_INFERENCE_PROVIDER: "x-ai-oauth" };
    const fake = fakeContext(home, { env });
    assert.equal(await run(fake, (ctx) => modelWith(ctx, { model: "grok-4.3" }, NO_PROMPTS)), 0);
    assert.match(await config(home), /provider: xai-oauth/);

    // Without the variable, the configured openrouter is not one this program configures.
    const plain = fakeContext(home);
    await Deno.writeTextFile(configFilePath(home), "model:\n  provider: openrouter\n");
    assert.equal(await run(plain, (ctx) => modelWith(ctx, { model: "x" }, NO_PROMPTS)), 2);
    assert.match(plain.stderr.text, /"openrouter" is not one this program configures/);
    assert.match(plain.stderr.text, /--provider, one of: xai-oauth/);
  });
});

Deno.test("HERMES_INFERENCE_PROVIDER naming another provider is reported as an override", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home, { env: { HERMES_INFERENCE_PROVIDER: "openrouter" } });
    const opts = { provider: "xai-oauth" };
    assert.equal(await run(fake, (ctx) => modelWith(ctx, opts, NO_PROMPTS)), 0);
    assert.match(fake.stderr.text, /HERMES_INFERENCE_PROVIDER=openrouter is set and overrides/);
  });
});

Deno.test("an unknown model is written with a warning", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    const opts = { provider: "xai-oauth", model: "grok-9-preview" };
    assert.equal(await run(fake, (ctx) => modelWith(ctx, opts, NO_PROMPTS)), 0);
    assert.match(fake.stderr.text, /grok-9-preview is not among the known xai-oauth models/);
    assert.match(await config(home), /default: grok-9-preview/);
  });
});

Deno.test("bad input: unknown provider, a provider without models, no terminal: exit 2", async () => {
  await withHome(async (home) => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ provider: "grok" }, /unknown provider "grok"/],
      [{ provider: "spotify" }, /Spotify is not a model provider/],
      [{}, /`model` needs a terminal to ask, or --provider and --model/],
    ];
    for (const [opts, message] of cases) {
      const fake = fakeContext(home);
      assert.equal(await run(fake, (ctx) => modelWith(ctx, opts, NO_PROMPTS)), 2);
      assert.match(fake.stderr.text, message);
    }
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound, "nothing was created");
  });
});

Deno.test("malformed config.yaml: exit 1 naming line and column, file untouched", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home, { recursive: true });
    const broken = "model:\n  provider: xai-oauth\n  default: [grok\n";
    await Deno.writeTextFile(configFilePath(home), broken);
    const fake = fakeContext(home);
    assert.equal(
      await run(fake, (ctx) => modelWith(ctx, { provider: "xai-oauth" }, NO_PROMPTS)),
      1,
    );
    assert.match(fake.stderr.text, /Invalid YAML in .*config\.yaml at line \d+, column \d+/);
    assert.equal(await config(home), broken);
  });
});

Deno.test("a HERMES_HOME that cannot be written: a clear error, exit 1, config untouched", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home, { recursive: true });
    await Deno.writeTextFile(configFilePath(home), "model:\n  provider: auto\n");
    // Root ignores permission bits: a directory where the lock file must go stops every write.
    await Deno.mkdir(join(home, "auth.lock"));
    const fake = fakeContext(home);
    assert.equal(
      await run(fake, (ctx) => modelWith(ctx, { provider: "xai-oauth" }, NO_PROMPTS)),
      1,
    );
    assert.match(fake.stderr.text, /Cannot write .*auth\.lock: it is a directory, not a file/);
    assert.doesNotMatch(fake.stderr.text, /unexpected error/);
    assert.equal(await config(home), "model:\n  provider: auto\n");
  });
});

Deno.test("writing config.yaml waits for a busy auth.lock visibly, and Ctrl-C ends the wait", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await Deno.readTextFile(join(home, "auth.json"));
    await assertCtrlCEndsLockWait(
      home,
      (ctx) => modelWith(ctx, { provider: "xai-oauth" }, NO_PROMPTS),
    );
    await assert.rejects(Deno.stat(configFilePath(home)), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(join(home, "auth.json")), before);
  });
});

Deno.test("on a terminal: display names, then the models with grok-4.3 pinned and preselected", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const prompter = new ScriptedPrompter(["xai-oauth", "grok-4.20-multi-agent-0309"]);
    const fake = fakeContext(home, { stdinIsTerminal: true });
    assert.equal(await run(fake, (ctx) => modelWith(ctx, {}, prompter)), 0);
    const [providers, models] = prompter.asked;
    assert.equal(prompter.asked.length, 2, "logged in: no login offered");
    assert.deepEqual(providers.choices!.map((c) => c.name), [
      "xAI Grok OAuth (SuperGrok Subscription) (current)",
    ]);
    assert.equal(providers.choices![0].description, "xai-oauth: logged in");
    assert.equal(models.choices![0].name, "grok-4.3 (default)");
    assert.equal(models.default, "grok-4.3");
    assert.equal(models.choices!.length, 4);
    assert.match(await config(home), /default: grok-4\.20-multi-agent-0309/);
  });
});

Deno.test("on a terminal the current model is preselected, and the models.dev cache is used", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    await Deno.writeTextFile(
      configFilePath(home),
      "model:\n  provider: xai-oauth\n  default: grok-5\n",
    );
    await Deno.writeTextFile(
      modelsDevCachePath(home),
      JSON.stringify({ xai: { models: { "grok-5": { id: "grok-5" }, "grok-4.3": {} } } }),
    );
    const prompter = new ScriptedPrompter(["xai-oauth", "grok-5"]);
    const fake = fakeContext(home, { stdinIsTerminal: true });
    assert.equal(await run(fake, (ctx) => modelWith(ctx, {}, prompter)), 0);
    const models = prompter.asked[1];
    assert.match(models.message, /from the models\.dev cache/);
    assert.deepEqual(models.choices!.map((c) => c.value), ["grok-4.3", "grok-5"]);
    assert.equal(models.default, "grok-5");
  });
});

Deno.test("on a terminal without a usable login, a login is offered; declining still saves", async () => {
  await withHome(async (home) => {
    const prompter = new ScriptedPrompter(["xai-oauth", false, "grok-4.3"]);
    const fake = fakeContext(home, { stdinIsTerminal: true });
    assert.equal(await run(fake, (ctx) => modelWith(ctx, {}, prompter)), 0);
    const confirm = prompter.asked[1];
    assert.equal(confirm.kind, "confirm");
    assert.match(confirm.message, /not logged in to xAI Grok OAuth .* Log in now\?/);
    assert.equal(confirm.default, true);
    assert.match(fake.stderr.text, /Run `hermes-auth add xai-oauth` before using it/);
    assert.match(await config(home), /provider: xai-oauth/);
  });
});

Deno.test("cancelling the picker (Ctrl-C) is exit 130 and changes nothing", async () => {
  await withHome(async (home) => {
    const interrupted = new AuthError("interrupted", "Cancelled", { exit: Exit.INTERRUPTED });
    const prompter = new ScriptedPrompter([interrupted]);
    const fake = fakeContext(home, { stdinIsTerminal: true });
    assert.equal(await run(fake, (ctx) => modelWith(ctx, {}, prompter)), 130);
    await assert.rejects(Deno.stat(configFilePath(home)), Deno.errors.NotFound);
  });
});

Deno.test("the inquirer prompter turns an aborted prompt into exit 130", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home);
    const controller = new AbortController();
    controller.abort();
    const prompter = inquirerPrompter({ ...fake.ctx, signal: controller.signal });
    await assert.rejects(
      prompter.select("pick", [{ name: "a", value: "a" }]),
      (e) => e instanceof AuthError && e.exit === Exit.INTERRUPTED,
    );
  });
});
