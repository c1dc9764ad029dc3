import assert from "node:assert/strict";
import {
  browserCommand,
  type BrowserOptions,
  openBrowser,
  spawnDetached,
} from "../../lib/remote/browser.ts";
import { type SessionVerdict } from "../../lib/remote/session.ts";

const URL_WITH_QUERY = "https://auth.x.ai/oauth2/authorize?client_id=abc&state=x%20y&plan=generic";

const LOCAL: SessionVerdict = {
  remote: false,
  kind: "local",
  canTunnel: false,
  canOpenBrowser: true,
  reasons: [],
};
const REMOTE: SessionVerdict = {
  remote: true,
  kind: "ssh",
  canTunnel: true,
  canOpenBrowser: false,
  reasons: [],
};

function options(
  env: Record<string, string>,
  os: typeof Deno.build.os = "linux",
  session: SessionVerdict = LOCAL,
): BrowserOptions {
  return { env: (name) => env[name], os, session };
}

Deno.test("xdg-open on a Linux desktop", () => {
  assert.deepEqual(browserCommand(URL_WITH_QUERY, options({})), ["xdg-open", URL_WITH_QUERY]);
});

Deno.test("xdg-open on the BSDs", () => {
  assert.deepEqual(browserCommand("https://a", options({}, "freebsd")), ["xdg-open", "https://a"]);
});

Deno.test("open on macOS", () => {
  assert.deepEqual(browserCommand(URL_WITH_QUERY, options({}, "darwin")), ["open", URL_WITH_QUERY]);
});

Deno.test("rundll32 on Windows, so & in the URL is not a command separator", () => {
  assert.deepEqual(browserCommand(URL_WITH_QUERY, options({}, "windows")), [
    "rundll32",
    "url.dll,FileProtocolHandler",
    URL_WITH_QUERY,
  ]);
});

Deno.test("WSL opens the Windows browser", () => {
  assert.deepEqual(browserCommand("https://a", options({ WSL_DISTRO_NAME: "Ubuntu" })), [
    "rundll32.exe",
    "url.dll,FileProtocolHandler",
    "https://a",
  ]);
});

Deno.test("no command when the session cannot open a browser and $BROWSER is unset", () => {
  for (const os of ["linux", "darwin", "windows"] as const) {
    assert.equal(browserCommand("https://a", options({}, os, REMOTE)), null, os);
  }
  assert.equal(browserCommand("https://a", options({ BROWSER: "" }, "linux", REMOTE)), null);
  assert.equal(browserCommand("https://a", options({ BROWSER: " : " }, "linux", REMOTE)), null);
});

Deno.test("$BROWSER is honoured even on a remote session", () => {
  assert.deepEqual(browserCommand("https://a", options({ BROWSER: "w3m" }, "linux", REMOTE)), [
    "w3m",
    "https://a",
  ]);
});

Deno.test("$BROWSER: the URL is appended after the words", () => {
  assert.deepEqual(browserCommand("https://a", options({ BROWSER: "firefox --new-tab" })), [
    "firefox",
    "--new-tab",
    "https://a",
  ]);
});

Deno.test("$BROWSER: %s is replaced by the URL instead", () => {
  assert.deepEqual(
    browserCommand("https://a?b=1&c=2", options({ BROWSER: "chromium --app=%s --incognito" })),
    ["chromium", "--app=https://a?b=1&c=2", "--incognito"],
  );
});

Deno.test("$BROWSER: a colon-separated list takes the first non-empty entry", () => {
  assert.deepEqual(browserCommand("https://a", options({ BROWSER: ":  :lynx -dump:firefox" })), [
    "lynx",
    "-dump",
    "https://a",
  ]);
});

Deno.test("$BROWSER: quotes keep a path with spaces together", () => {
  assert.deepEqual(
    browserCommand("https://a", options({ BROWSER: `"/opt/My Browser/run" --flag 'x y' ''` })),
    ["/opt/My Browser/run", "--flag", "x y", "", "https://a"],
  );
});

Deno.test("$BROWSER on Windows is split on ';' so drive letters survive", () => {
  assert.deepEqual(
    browserCommand(
      "https://a",
      options({ BROWSER: `"C:\\Program Files\\Firefox\\firefox.exe";edge` }, "windows"),
    ),
    ["C:\\Program Files\\Firefox\\firefox.exe", "https://a"],
  );
});

Deno.test("openBrowser hands the argv to spawn and reports its result", async () => {
  const seen: string[][] = [];
  const spawn = (argv: string[]) => {
    seen.push(argv);
    return Promise.resolve(true);
  };
  assert.equal(await openBrowser("https://a", { ...options({ BROWSER: "b %s" }), spawn }), true);
  assert.deepEqual(seen, [["b", "https://a"]]);
  const missing = () => Promise.resolve(false);
  assert.equal(await openBrowser("https://a", { ...options({}), spawn: missing }), false);
});

Deno.test("openBrowser is false without spawning when there is no command", async () => {
  let called = false;
  const spawn = () => {
    called = true;
    return Promise.resolve(true);
  };
  assert.equal(await openBrowser("https://a", { ...options({}, "linux", REMOTE), spawn }), false);
  assert.equal(called, false);
});

Deno.test("openBrowser turns a throwing spawn into false", async () => {
  const spawn = () => Promise.reject(new Error("boom"));
  assert.equal(await openBrowser("https://a", { ...options({}), spawn }), false);
});

Deno.test({
  name: "openBrowser really spawns $BROWSER and returns without waiting on it",
  ignore: Deno.build.os === "windows",
  async fn() {
    const started = performance.now();
    assert.equal(await openBrowser("https://a", options({ BROWSER: "true" })), true);
    assert.ok(performance.now() - started < 1000, "openBrowser took too long");
    // `true` exits at once; give the runtime a moment to reap it before the sanitizers look.
    await new Promise((resolve) => setTimeout(resolve, 500));
  },
});

Deno.test({
  name: "openBrowser returns while a long-lived browser keeps running",
  ignore: Deno.build.os === "windows",
  async fn() {
    let child: Deno.ChildProcess | undefined;
    const spawn = (argv: string[]) => spawnDetached(argv, (c) => child = c);
    const started = performance.now();
    // `sleep 1` stands in for a browser that stays open; the URL becomes its argument.
    assert.equal(await openBrowser("1", { ...options({ BROWSER: "sleep" }), spawn }), true);
    assert.ok(performance.now() - started < 500, "openBrowser waited for the browser");
    assert.ok(child);
    // The child is unref'd so the CLI can exit before the browser does; ref it to await it here.
    child.ref();
    assert.equal((await child.status).success, true);
  },
});

Deno.test("openBrowser is false when $BROWSER cannot be found", async () => {
  assert.equal(
    await openBrowser("https://a", options({ BROWSER: "/nonexistent/hermes-auth-browser" })),
    false,
  );
});
