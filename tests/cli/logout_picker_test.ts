/**
 * `hermes-auth logout` without a provider: on a terminal a picker of the
 * providers something is stored for; without one a usage error naming them.
 */
import assert from "node:assert/strict";
import { logout, logoutWith } from "../../lib/cli/logout.ts";
import type { PromptChoice, Prompter } from "../../lib/cli/model.ts";
import { AuthError, Exit } from "../../lib/errors.ts";
import { fakeContext, readAuthJson, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore } from "./pool_fixture.ts";

/** A picker that records what it offered and answers `answer`. */
function picker(answer: string | AuthError) {
  const asked: { message: string; choices: PromptChoice<string>[]; preselected?: string }[] = [];
  const prompter: Pick<Prompter, "select"> = {
    select<T extends string>(message: string, choices: PromptChoice<T>[], preselected?: T) {
      asked.push({ message, choices, preselected });
      return answer instanceof AuthError ? Promise.reject(answer) : Promise.resolve(answer as T);
    },
  };
  return { prompter, asked };
}

Deno.test("without a terminal, logout with no provider is a usage error naming what is logged in", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => logout(ctx, undefined, {})), Exit.USAGE);
    assert.match(
      fake.stderr.text,
      /✗ logout needs a provider: one of xai-oauth, spotify \(logged in here\)\.\n {2}→ e\.g\. hermes-auth logout xai-oauth/,
    );
    assert.ok((await readAuthJson(home)).providers["xai-oauth"], "nothing was removed");
    const json = fakeContext(home, { json: true });
    assert.equal(await run(json, (ctx) => logout(ctx, undefined, {})), Exit.USAGE);
    assert.equal(JSON.parse(json.stdout.text).code, "usage");
  });
});

Deno.test("on a terminal: a picker of the stored providers, the active one first chosen", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const fake = fakeContext(home, { stdinIsTerminal: true });
    const { prompter, asked } = picker("spotify");
    assert.equal(await run(fake, (ctx) => logoutWith(ctx, undefined, {}, prompter)), 0);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].message, "Log out of which provider?");
    assert.deepEqual(asked[0].choices.map((c) => c.value), ["xai-oauth", "spotify"]);
    assert.equal(asked[0].choices[0].name, "xAI Grok OAuth (SuperGrok Subscription) (active)");
    assert.equal(asked[0].choices[0].description, "xai-oauth: logged in, 2 credentials");
    assert.equal(asked[0].preselected, "xai-oauth");
    assert.match(fake.stderr.text, /Logged out of Spotify/);
    const data = await readAuthJson(home);
    assert.equal(data.providers.spotify, undefined, "the picked one is gone");
    assert.ok(data.providers["xai-oauth"], "the other one stays");
  });
});

Deno.test("on a terminal with nothing stored: a note and exit 0, no picker", async () => {
  await withHome(async (home) => {
    const fake = fakeContext(home, { stdinIsTerminal: true });
    const { prompter, asked } = picker("xai-oauth");
    assert.equal(await run(fake, (ctx) => logoutWith(ctx, undefined, {}, prompter)), 0);
    assert.equal(asked.length, 0);
    assert.match(fake.stderr.text, /Not logged in to any provider: nothing to remove\./);
  });
});

Deno.test("Ctrl-C in the logout picker is exit 130 and removes nothing", async () => {
  await withHome(async (home) => {
    await writeAuthJson(home, poolStore());
    const before = await readAuthJson(home);
    const fake = fakeContext(home, { stdinIsTerminal: true });
    const cancel = new AuthError("interrupted", "Cancelled: nothing was changed.", {
      exit: Exit.INTERRUPTED,
    });
    const { prompter } = picker(cancel);
    assert.equal(await run(fake, (ctx) => logoutWith(ctx, undefined, {}, prompter)), 130);
    assert.deepEqual(await readAuthJson(home), before);
  });
});
