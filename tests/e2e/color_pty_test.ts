/**
 * Colour is decided per stream: on a terminal, `hermes-auth status | grep`
 * must get plain data on the pipe while errors on stderr (still the
 * terminal) keep their colour. Runs the real CLI on a pseudo-terminal.
 */
import assert from "node:assert/strict";
import { tempHome } from "./harness.ts";
import { driver, openTerminal } from "./pty.ts";

const ESC = "\x1b";
/** harness.ts sets NO_COLOR=1 for every child: these runs unset it first. */
const colour = (command: string) => `unset NO_COLOR; ${command}`;

Deno.test({
  name: "status piped from a terminal writes no escape codes into the pipe",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    await using term = await openTerminal(["status"], {
      env: { HERMES_HOME: home.path },
      wrap: (command) => colour(`${command} | cat -v`),
    });
    await term.exitCode();
    const screen = await term.raw();
    assert.match(screen, /xai-oauth +not logged in/);
    assert.ok(!screen.includes("^["), `escape codes reached the pipe:\n${screen}`);
  },
});

Deno.test({
  name: "status straight on a terminal is coloured (so the pipe test above can fail)",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    await using term = await openTerminal(["status"], {
      env: { HERMES_HOME: home.path },
      wrap: colour,
    });
    await term.exitCode();
    assert.ok((await term.raw()).includes(`${ESC}[1mxai-oauth`), await term.raw());
  },
});

Deno.test({
  name: "with stdout piped, an error on the terminal's stderr keeps its colour",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    await using term = await openTerminal(["refresh", "xai-oauth"], {
      env: { HERMES_HOME: home.path },
      wrap: (command) => colour(`${command} | cat -v`),
    });
    await term.exitCode();
    const screen = await term.raw();
    assert.ok(screen.includes(`${ESC}[31m✗${ESC}[39m not logged in`), screen);
  },
});

Deno.test({
  name: "TERM=dumb and NO_COLOR each turn colour off on a terminal",
  ignore: driver === null,
  async fn() {
    await using home = await tempHome();
    const cases = [`TERM=dumb`, `NO_COLOR=1`];
    for (const setting of cases) {
      await using term = await openTerminal(["status"], {
        env: { HERMES_HOME: home.path },
        wrap: (command) => colour(`${setting} ${command}`),
      });
      await term.exitCode();
      const screen = await term.raw();
      assert.match(screen, /xai-oauth +not logged in/);
      assert.ok(!screen.includes(`${ESC}[1m`), `${setting}: ${screen}`);
    }
  },
});
