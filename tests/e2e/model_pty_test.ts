/**
 * `hermes-auth model` on a real terminal: the CLI runs under a
 * pseudo-terminal (util-linux `script`, else tmux; see pty.ts), the test reads the
 * screen and presses keys — Enter, arrow keys, Ctrl-C — as a person would.
 * Skipped, saying why, where neither tool exists.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { tempHome } from "./harness.ts";
import { CTRL_C, DOWN, driver, ENTER, openTerminal, waitFor } from "./pty.ts";

if (driver === null) {
  // deno-lint-ignore no-console -- the reason a test is skipped must be visible
  console.log("model_pty_test: skipped, neither `script` (util-linux) nor tmux is installed");
}

/** A local desktop session for the login the picker offers: a display, and a browser that does nothing. */
const DESKTOP = { DISPLAY: ":0", BROWSER: "true" };
/** A server reached over SSH. */
const SERVER = { SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 22", USER: "ada" };

Deno.test({
  name: "on a terminal: pick xAI, log in when offered (pasting the redirect), arrow to a model",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["model"], {
      // A desktop terminal (a display, a browser that "opens"), where `add` logs in with the
      // browser; on a server it would use the device code.
      env: {
        HERMES_HOME: home.path,
        HERMES_XAI_ISSUER: mock.issuer,
        ...DESKTOP,
      },
    });
    await waitFor(term, /Which provider should Hermes use\?/);
    await waitFor(term, /xAI Grok OAuth \(SuperGrok Subscription\)/);
    await term.type(ENTER);
    await waitFor(term, /not logged in to xAI Grok OAuth .* Log in now\?/);
    await term.type(ENTER);

    // The login: open the printed URL in the "browser", paste back the address it lands on.
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
    await waitFor(term, /Waiting up to 180 s/);
    const callback = await mock.approve(url);
    await term.type(callback + ENTER);
    await waitFor(term, /Added xai-oauth OAuth credential #1/);

    await waitFor(term, /Which xAI Grok OAuth \(SuperGrok Subscription\) model\?/);
    await waitFor(term, /grok-4\.3 \(default\)/);
    await term.type(DOWN);
    await waitFor(term, /❯ grok-4\.20-0309-reasoning/);
    await term.type(ENTER);
    assert.equal(await term.exitCode(), 0, await term.screen());

    assert.equal(
      await Deno.readTextFile(`${home.path}/config.yaml`),
      "model:\n  provider: xai-oauth\n  default: grok-4.20-0309-reasoning\n" +
        "  base_url: https://api.x.ai/v1\n",
    );
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.equal(auth.active_provider, "xai-oauth");
    assert.ok(auth.credential_pool["xai-oauth"][0].refresh_token);
    assert.equal(mock.stats.codeExchanges, 1);
  },
});

Deno.test({
  name: "on a terminal: after a login through the listener, the first arrow key still counts",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["model"], {
      // A desktop terminal (a display, a browser that "opens"), where `add` logs in with the
      // browser; on a server it would use the device code.
      env: {
        HERMES_HOME: home.path,
        HERMES_XAI_ISSUER: mock.issuer,
        ...DESKTOP,
      },
    });
    await waitFor(term, /Which provider should Hermes use\?/);
    await term.type(ENTER);
    await waitFor(term, /Log in now\?/);
    await term.type(ENTER);
    // This time the browser reaches the listener, while the paste prompt is still reading.
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
    await waitFor(term, /Waiting up to 180 s/);
    await fetch(await mock.approve(url)).then((r) => r.body?.cancel());
    await waitFor(term, /grok-4\.3 \(default\)/);
    await term.type(DOWN);
    await waitFor(term, /❯ grok-4\.20-0309-reasoning/, 5_000);
    await term.type(DOWN + ENTER);
    assert.equal(await term.exitCode(), 0, await term.screen());
    assert.match(
      await Deno.readTextFile(`${home.path}/config.yaml`),
      /default: grok-4\.20-0309-non-reasoning/,
    );
  },
});

Deno.test({
  name: "on a terminal: Ctrl-C in the picker exits 130 and writes nothing",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    await using term = await openTerminal(["model"], { env: { HERMES_HOME: home.path } });
    await waitFor(term, /Which provider should Hermes use\?/);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130);
    assert.match(await term.screen(), /Cancelled: nothing was changed\./);
    await assert.rejects(Deno.stat(`${home.path}/config.yaml`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "on a terminal: Ctrl-C at the model after a login from the picker says the login was kept",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai({ deviceInterval: 0.05 });
    await using home = await tempHome();
    // On a server (SSH), the login the picker offers is the device code: approve it "on a phone".
    await using term = await openTerminal(["model"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SERVER },
    });
    await waitFor(term, /Which provider should Hermes use\?/);
    await term.type(ENTER);
    await waitFor(term, /Log in now\?/);
    await term.type(ENTER);
    const code = (await waitFor(term, /enter the code [A-Z]{4}-[A-Z]{4}/)).slice(-9);
    await waitFor(term, /Waiting for approval/);
    mock.approveDevice(code);
    await waitFor(term, /grok-4\.3 \(default\)/);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130, await term.screen());
    const screen = await term.screen();
    assert.match(
      screen,
      /Cancelled: the new xAI Grok OAuth \(SuperGrok Subscription\) login is stored in auth\.json, but config\.yaml was not changed\./,
    );
    assert.match(screen, /Run `hermes-auth model` again to choose the model/);
    assert.doesNotMatch(screen, /nothing was changed/);
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.ok(auth.credential_pool["xai-oauth"][0].refresh_token, "the login is there");
    await assert.rejects(Deno.stat(`${home.path}/config.yaml`), Deno.errors.NotFound);
  },
});
