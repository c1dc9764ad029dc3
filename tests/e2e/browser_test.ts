/**
 * A real browser, end to end: `hermes-auth add xai-oauth` opens Debian's
 * Chromium (headless) through its ordinary browser opener — `$BROWSER` names
 * a small wrapper that starts Chromium with remote debugging on 127.0.0.1,
 * port 0 — on the mock accounts.x.ai. The test clicks Approve (or Deny) with
 * a real mouse event over the DevTools protocol. As on the real service, the
 * consent page does not redirect: its script calls the CLI's loopback
 * listener with a request Chromium preflights (CORS), and the page says done,
 * or — when Chromium cannot reach the listener — "Could not establish
 * connection" and the code, which the test then types into the waiting CLI on
 * a pseudo-terminal. The test reads what the page shows and saves a
 * screenshot of it.
 *
 * Skipped, saying why, when no Chromium is installed (`.ci/run` installs it
 * with apt-get). Set HERMES_AUTH_UPDATE_SCREENSHOTS=1 to copy the
 * screenshots over docs/img/login-done.png, login-unreachable.png and
 * login-denied.png.
 */
import assert from "node:assert/strict";
import { CONSENT_TITLE, type MockXai, startMockXai, UNREACHABLE_TEXT } from "../mock/xai_mock.ts";
import { spawnCli, tempHome, until } from "./harness.ts";
import { driver, ENTER, openTerminal, waitFor } from "./pty.ts";

const DOCS_IMG = new URL("../../docs/img/", import.meta.url);

/** The Chromium executable: $CHROMIUM_BIN, else the first of the usual names on PATH. */
function findChromium(): string | null {
  const explicit = Deno.env.get("CHROMIUM_BIN");
  if (explicit) return explicit;
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of dirs) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch { /* not here */ }
    }
  }
  return null;
}

const CHROMIUM = findChromium();
if (CHROMIUM === null) {
  // deno-lint-ignore no-console
  console.log(
    "skipped: real-browser e2e: no Chromium found (apt-get install chromium, or set CHROMIUM_BIN)",
  );
}

/** The flags that work on these machines (root, no GPU, no network but loopback). */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-crash-reporter",
  "--hide-scrollbars",
  "--force-device-scale-factor=1",
  "--window-size=800,500",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

/** Quote for /bin/sh. */
function sh(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A minimal Chrome DevTools Protocol session on one page target. */
class Cdp implements AsyncDisposable {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      const waiter = this.#pending.get(message.id);
      if (!waiter) return; // an event: not subscribed to any
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`CDP: ${JSON.stringify(message.error)}`));
      else waiter.resolve(message.result);
    });
    ws.addEventListener("close", () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error("CDP socket closed"));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
        once: true,
      });
    });
    return new Cdp(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) =>
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    );
  }

  /** Evaluate an expression in the page and return its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send<
      { result: { value: T }; exceptionDetails?: unknown }
    >("Runtime.evaluate", { expression, returnByValue: true });
    if (exceptionDetails) throw new Error(`page threw: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.#closed;
  }
}

/** Chromium as the CLI started it: found through the files its wrapper leaves. */
interface LaunchedBrowser extends AsyncDisposable {
  /** The first page target, connected. */
  page(): Promise<Cdp>;
}

/**
 * Write the $BROWSER wrapper: it records its pid (the exec'd Chromium keeps
 * it) and starts Chromium on the URL with a fresh profile.
 */
async function browserWrapper(
  dir: string,
  extraFlags: string[] = [],
): Promise<{ command: string; launched: () => LaunchedBrowser }> {
  const profile = `${dir}/profile`;
  const pidFile = `${dir}/chromium.pid`;
  const script = `${dir}/open-in-chromium`;
  await Deno.writeTextFile(
    script,
    `#!/bin/sh
echo $$ > ${sh(pidFile)}
exec ${sh(CHROMIUM!)} ${[...CHROMIUM_FLAGS, ...extraFlags].map(sh).join(" ")} \\
  --user-data-dir=${sh(profile)} "$1" \\
  > ${sh(`${dir}/chromium.log`)} 2>&1
`,
    { mode: 0o755 },
  );
  const launched = (): LaunchedBrowser => {
    let port: number | undefined;
    const readPort = async () => {
      try {
        const [line] = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n");
        return /^\d+$/.test(line) ? Number(line) : undefined;
      } catch {
        return undefined;
      }
    };
    return {
      async page() {
        port = await until("Chromium's DevToolsActivePort", readPort);
        const ws = await until("a page target", async () => {
          const response = await fetch(`http://127.0.0.1:${port}/json/list`);
          const targets = await response.json() as { type: string; webSocketDebuggerUrl: string }[];
          return targets.find((t) => t.type === "page")?.webSocketDebuggerUrl;
        });
        return await Cdp.connect(ws);
      },
      async [Symbol.asyncDispose]() {
        let pid: number | undefined;
        try {
          pid = Number(await Deno.readTextFile(pidFile));
        } catch {
          return; // never started
        }
        // Ask politely over the protocol, then make sure.
        port ??= await readPort();
        if (port !== undefined) {
          try {
            const { webSocketDebuggerUrl } = await (await fetch(
              `http://127.0.0.1:${port}/json/version`,
            )).json();
            await using browser = await Cdp.connect(webSocketDebuggerUrl);
            await browser.send("Browser.close").catch(() => {});
          } catch { /* already gone */ }
        }
        // The opener gave it its own process group: wait for the whole group
        // to go (SIGCONT only probes), and kill what is left after a while.
        const gone = (signal: Deno.Signal) => {
          try {
            Deno.kill(-pid!, signal);
            return Promise.resolve(undefined);
          } catch {
            return Promise.resolve(true); // no such process group any more
          }
        };
        await until("Chromium to exit", () => gone("SIGCONT"), 5_000)
          .catch(() => until("Chromium to die", () => gone("SIGKILL"), 5_000));
      },
    };
  };
  return { command: `${sh(script)} %s`, launched };
}

/** Click the centre of the element `selector` with real mouse events. */
async function click(page: Cdp, selector: string): Promise<void> {
  const box = await page.evaluate<{ x: number; y: number } | null>(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  })()`);
  assert.ok(box, `no ${selector} on the page`);
  for (const type of ["mouseMoved", "mousePressed", "mouseReleased"]) {
    await page.send("Input.dispatchMouseEvent", {
      type,
      x: box.x,
      y: box.y,
      button: "left",
      clickCount: 1,
    });
  }
}

/** What the page shows once it has loaded at an address starting with `prefix`. */
function loadedAt(
  page: Cdp,
  prefix: string,
): Promise<{ title: string; text: string; href: string }> {
  return until(`a page at ${prefix}`, async () => {
    const state = await page.evaluate<{ ready: string; href: string; title: string; text: string }>(
      `({ ready: document.readyState, href: location.href, title: document.title,
          text: document.body ? document.body.innerText : "" })`,
    ).catch(() => undefined); // navigating: the context went away
    if (state?.ready === "complete" && state.href.startsWith(prefix)) return state;
    return undefined;
  });
}

async function screenshot(page: Cdp, path: string): Promise<Uint8Array> {
  const { data } = await page.send<{ data: string }>("Page.captureScreenshot", { format: "png" });
  const png = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  await Deno.writeFile(path, png);
  return png;
}

async function keep(png: Uint8Array, name: string): Promise<void> {
  if (Deno.env.get("HERMES_AUTH_UPDATE_SCREENSHOTS") !== "1") return;
  await Deno.mkdir(DOCS_IMG, { recursive: true });
  await Deno.writeFile(new URL(name, DOCS_IMG), png);
}

/** What the consent page shows once its script has called the app: "done" or "unreachable". */
function outcomeOf(
  page: Cdp,
): Promise<{ state: string; text: string; code: string | null; href: string }> {
  return until("the consent page's outcome", async () => {
    const seen = await page.evaluate<
      { state: string; text: string; code: string | null; href: string } | null
    >(`(() => {
      const outcome = document.getElementById("outcome");
      if (!outcome || outcome.dataset.state === "connecting") return null;
      const code = document.getElementById("code");
      return { state: outcome.dataset.state, text: document.body.innerText, href: location.href,
               code: code && !code.closest("[hidden]") ? code.textContent : null };
    })()`).catch(() => null);
    return seen ?? undefined;
  });
}

/** A port nothing listens on: Chromium's proxy there refuses every connection. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Chromium flags that leave only the mock reachable: every request goes to a proxy that is not
 * there, loopback included (`<-loopback>` removes Chromium's implicit loopback bypass), except
 * the mock's own host:port. The page can load, but its call to the listener fails, as when the
 * browser runs on a laptop and the listener on a server.
 */
function unreachableListenerFlags(mock: MockXai): string[] {
  return [
    `--proxy-server=http://127.0.0.1:${deadPort()}`,
    `--proxy-bypass-list=<-loopback>;${new URL(mock.issuer).host}`,
  ];
}

/** One login in a real browser; `decision` is the consent button to click. */
async function browserLogin(decision: "approve" | "deny") {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const dir = home.path.replace(/\/hermes$/, "");
  const wrapper = await browserWrapper(dir);
  await using browser = wrapper.launched();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0", "--timeout", "60"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, BROWSER: wrapper.command },
  });
  let exited = false;
  try {
    await cli.event("authorize");
    await using page = await browser.page();
    const consent = await loadedAt(page, mock.issuer);
    assert.equal(consent.title, CONSENT_TITLE);
    await click(page, `#${decision}`);
    await loadedAt(page, mock.issuer);
    const outcome = await outcomeOf(page);
    const name = decision === "approve" ? "login-done.png" : "login-denied.png";
    const png = await screenshot(page, `${dir}/${name}`);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    await keep(png, name);
    const result = await cli.done();
    exited = true;
    return { outcome, result, mock };
  } finally {
    if (!exited) {
      try {
        cli.child.kill("SIGTERM");
      } catch { /* already exited */ }
      await cli.done();
    }
  }
}

Deno.test({
  name:
    "real Chromium: Approve, the page's preflighted call reaches the listener, the page says done, the CLI exits 0",
  ignore: CHROMIUM === null,
  async fn() {
    const { outcome, result, mock } = await browserLogin("approve");
    assert.equal(outcome.state, "done", outcome.text);
    assert.match(outcome.text, /Done\. You can close this tab/);
    assert.ok(outcome.href.startsWith(mock.issuer), "the address bar stays on the provider");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout.trim().split("\n").at(-1)!).event, "success");
    assert.doesNotMatch(result.stderr, /refused/);
  },
});

Deno.test({
  name: "real Chromium: Deny reaches the listener by script too, and the CLI exits 5",
  ignore: CHROMIUM === null,
  async fn() {
    const { outcome, result } = await browserLogin("deny");
    assert.equal(outcome.state, "done", outcome.text);
    assert.match(outcome.text, /Access denied/);
    assert.equal(outcome.code, null);
    assert.equal(result.code, 5, result.stderr);
    assert.equal(JSON.parse(result.stdout.trim().split("\n").at(-1)!).code, "access_denied");
  },
});

Deno.test({
  name:
    "real Chromium cannot reach the listener: the page shows the code, and pasting it into the waiting terminal logs in",
  ignore: CHROMIUM === null || driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    const dir = home.path.replace(/\/hermes$/, "");
    const wrapper = await browserWrapper(dir, unreachableListenerFlags(mock));
    await using browser = wrapper.launched();
    // A real pseudo-terminal on stdin and stdout (tests/e2e/pty.ts), as a person has.
    await using term = await openTerminal(
      ["add", "xai-oauth", "--json", "--port", "0", "--timeout", "60"],
      { env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, BROWSER: wrapper.command } },
    );
    await waitFor(term, /"event":"authorize"/);
    await using page = await browser.page();
    assert.equal((await loadedAt(page, mock.issuer)).title, CONSENT_TITLE);
    await click(page, "#approve");
    await loadedAt(page, mock.issuer);
    const outcome = await outcomeOf(page);
    assert.equal(outcome.state, "unreachable", outcome.text);
    assert.ok(outcome.text.includes(UNREACHABLE_TEXT), outcome.text);
    assert.ok(outcome.code, "the page shows the code");
    assert.ok(outcome.href.startsWith(mock.issuer), "no failed 127.0.0.1 address to copy");
    const png = await screenshot(page, `${dir}/login-unreachable.png`);
    await keep(png, "login-unreachable.png");
    // Typed into the terminal, as a person would after copying it from the page.
    await term.type(`${outcome.code}${ENTER}`);
    const code = await term.exitCode();
    const screen = await term.screen();
    assert.equal(code, 0, screen);
    assert.match(screen, /"event":"success"/);
    assert.doesNotMatch(screen, /that looks like a bare code|state mismatch|iss/);
    assert.equal(mock.stats.codeExchanges, 1);
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    // A login of its own: one pool row with a refresh token (docs/hermes-compat.md).
    assert.ok(auth.credential_pool["xai-oauth"][0].refresh_token);
  },
});

Deno.test({
  name: "real Chromium: a page on another origin cannot get an answer from the listener",
  ignore: CHROMIUM === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    const dir = home.path.replace(/\/hermes$/, "");
    const wrapper = await browserWrapper(dir);
    await using browser = wrapper.launched();
    // Another origin: same host, another port. Its page tries what the provider's page does.
    await using foreign = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response("<!doctype html><title>elsewhere</title><p>another site</p>", {
          headers: { "content-type": "text/html" },
        }),
    );
    const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0", "--timeout", "60"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, BROWSER: wrapper.command },
    });
    let exited = false;
    try {
      const authorize = await cli.event("authorize");
      const listener = `${authorize.redirect_uri}?code=forged&state=guessed`;
      await using page = await browser.page();
      await loadedAt(page, mock.issuer);
      const elsewhere = `http://127.0.0.1:${foreign.addr.port}/`;
      await page.send("Page.navigate", { url: elsewhere });
      await loadedAt(page, elsewhere);
      const attempts = await page.send<{ result: { value: string[] } }>("Runtime.evaluate", {
        expression: `Promise.all([
          { headers: { "Content-Type": "application/json" } },   // preflighted, like the provider
          {},                                                    // a simple request
        ].map((init) => fetch(${JSON.stringify(listener)}, init)
          .then((r) => "read " + r.status, (e) => "failed: " + e.message)))`,
        awaitPromise: true,
        returnByValue: true,
      });
      assert.deepEqual(attempts.result.value, [
        "failed: Failed to fetch",
        "failed: Failed to fetch",
      ]);
      // The login goes on: the provider's own page still completes it.
      await page.send("Page.navigate", { url: authorize.url });
      await loadedAt(page, mock.issuer);
      await click(page, "#approve");
      await loadedAt(page, mock.issuer);
      assert.equal((await outcomeOf(page)).state, "done");
      const result = await cli.done();
      exited = true;
      assert.equal(result.code, 0, result.stderr);
      const warning = result.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))
        .find((e) => e.event === "warning");
      assert.equal(
        warning?.message,
        `refused a cross-origin request from "http://127.0.0.1:${foreign.addr.port}": ` +
          "only the provider's own pages may call the listener",
      );
    } finally {
      if (!exited) {
        try {
          cli.child.kill("SIGTERM");
        } catch { /* already exited */ }
        await cli.done();
      }
    }
  },
});
