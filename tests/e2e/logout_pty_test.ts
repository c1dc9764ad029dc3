/**
 * `hermes-auth logout` without a provider on a real terminal: the picker
 * lists the providers logged in, arrow keys move, Enter logs out of the one
 * chosen. Skipped, saying why, without `script` or tmux.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "./seed_login.ts";
import { runCli, tempHome } from "./harness.ts";
import { CTRL_C, driver, ENTER, openTerminal, waitFor } from "./pty.ts";

if (driver === null) {
  // deno-lint-ignore no-console -- the reason a test is skipped must be visible
  console.log("logout_pty_test: skipped, neither `script` (util-linux) nor tmux is installed");
}

Deno.test({
  name: "on a terminal: logout with no provider offers the logged-in ones and logs out the pick",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await seedLogin(home.path, mock);
    await using term = await openTerminal(["logout"], { env: { HERMES_HOME: home.path } });
    await waitFor(term, /Log out of which provider\?/);
    await waitFor(term, /❯ xAI Grok OAuth \(SuperGrok Subscription\) \(active\)/);
    assert.doesNotMatch(await term.screen(), /Spotify/, "only what is logged in is offered");
    await term.type(ENTER);
    assert.equal(await term.exitCode(), 0, await term.screen());
    assert.match(await term.screen(), /Logged out of xAI Grok OAuth/);
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.equal(auth.providers["xai-oauth"], undefined);
  },
});

Deno.test({
  name: "on a terminal: Ctrl-C in the logout picker exits 130 and keeps the login",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await seedLogin(home.path, mock);
    await using term = await openTerminal(["logout"], { env: { HERMES_HOME: home.path } });
    await waitFor(term, /Log out of which provider\?/);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130);
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.ok(auth.providers["xai-oauth"].tokens.access_token);
  },
});

Deno.test("without a terminal: logout with no provider is exit 2 and names the choices", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const result = await runCli(["logout"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /logout needs a provider: one of xai-oauth \(logged in here\)/);
});
