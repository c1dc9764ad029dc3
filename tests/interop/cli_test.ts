/**
 * The real CLI against a real authorization server: a provider defined in
 * config.yaml pointing at oidc-provider (oidc_server.ts), then
 * `add` (the test plays the browser through the server's own sign-in and
 * consent pages and delivers the redirect to the CLI's listener), `token`,
 * a forced `refresh` (the server rotates the refresh token), `logout`.
 */
import assert from "node:assert/strict";
import { runCli, spawnCli, tempHome } from "../e2e/harness.ts";
import { playBrowser, playDeviceVerification } from "./browser.ts";
import { type OidcServer, startOidcServer } from "./oidc_server.ts";

type Json = Record<string, unknown>;
type CliResult = Awaited<ReturnType<typeof runCli>>;

const ID = "local-oidc";

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

function loginState(auth: Json): Json | undefined {
  return (auth.providers as Json | undefined)?.[ID] as Json | undefined;
}

function poolRows(auth: Json): Json[] {
  return ((auth.credential_pool as Json | undefined)?.[ID] as Json[] | undefined) ?? [];
}

/** The tokens as stored: the login's own pool row, or a login state when there is one. */
function storedTokens(auth: Json): { access: string; refresh: string } {
  const state = loginState(auth) ?? poolRows(auth)[0];
  const tokens = (state.tokens as Json | undefined) ?? state;
  return { access: String(tokens.access_token), refresh: String(tokens.refresh_token) };
}

/** The result of a `--json` command: one object, on one line or pretty-printed. */
function jsonResult(stdout: string): Json {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.split("\n").at(-1)!); // event lines: the last one is the outcome
  }
}

/**
 * A command that cannot yet resolve providers from config.yaml (or does
 * not exist yet) answers "unknown provider" or fails to load: report it as
 * a skip rather than a failure of the server interplay this suite proves.
 */
function notReady(result: { code: number; stderr: string; stdout: string }): string | undefined {
  const text = result.stderr + result.stdout;
  if (result.code === 2 && /unknown provider \\?"local-oidc\\?"/.test(text)) {
    return "it does not resolve providers from config.yaml yet";
  }
  if (result.code === 1 && /Module not found|Cannot find module/.test(text)) {
    return "the command is not implemented yet";
  }
  return undefined;
}

/** config.yaml with the `local-oidc` provider pointing at `server`. */
async function writeConfig(home: string, server: OidcServer, port: number): Promise<void> {
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    `${home}/config.yaml`,
    [
      "# a provider of our own",
      "oauth_providers:",
      `  ${ID}:`,
      "    display_name: Local OIDC",
      `    issuer: ${server.issuer}`,
      `    client_id: ${server.clientId}`,
      "    scopes: [openid, offline_access]",
      `    redirect: { port: ${port}, path: /callback, port_fallback: true }`,
      "    # oidc-provider grants offline_access only with explicit consent",
      "    extra_authorize_params: { prompt: consent }",
      "",
    ].join("\n"),
  );
}

function skipped(command: string, why: string): void {
  // deno-lint-ignore no-console
  console.log(`skipped: interop \`hermes-auth ${command} ${ID}\`: ${why}`);
}

Deno.test("a config.yaml provider against oidc-provider: add, token, refresh, logout through the real CLI", async (t) => {
  await using server = await startOidcServer();
  await using home = await tempHome();
  // The configured port is taken, so the listener must move (port_fallback)
  // and the server must accept the port actually bound (RFC 8252 §7.3).
  using blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const configuredPort = blocker.addr.port;
  await writeConfig(home.path, server, configuredPort);
  const env = { HERMES_HOME: home.path };
  const ran: Record<string, boolean> = {};

  await t.step("add: sign in and consent on the server's pages, redirect to the CLI", async () => {
    const cli = spawnCli(["add", ID, "--json", "--loopback", "--no-browser"], { env });
    let authorize: Json;
    try {
      authorize = await cli.event("authorize");
    } catch (e) {
      const result = await cli.done();
      const why = notReady(result);
      if (why) return skipped("add", why);
      throw e;
    }
    assert.notEqual(authorize.port, configuredPort);
    assert.equal(authorize.redirect_uri, `http://127.0.0.1:${authorize.port}/callback`);
    const url = new URL(String(authorize.url));
    assert.equal(url.origin, server.issuer);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.equal(url.searchParams.get("prompt"), "consent");

    const { callback, pages } = await playBrowser(url.href, {
      redirectUri: String(authorize.redirect_uri),
    });
    assert.deepEqual(pages, ["Sign-in", "Authorize"]);
    const page = await fetch(callback);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Local OIDC authorization received\. You can close this tab\./);
    const result = await cli.done();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonResult(result.stdout).event, "success");

    const auth = await readAuth(home.path);
    const { access, refresh } = storedTokens(auth);
    assert.ok(access && refresh);
    assert.equal(poolRows(auth).length, 1);
    assert.deepEqual(server.stats.tokenGrants, ["authorization_code"]);
    for (const secret of [access, refresh]) {
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
    }
    ran.add = true;
  });

  /**
   * Run `hermes-auth <args>` after `add`, then check it in a step. The step
   * is ignored, saying why, when add did not run or the command is not
   * ready for config.yaml providers yet.
   */
  const commandStep = async (
    name: string,
    args: string[],
    check: (r: CliResult) => Promise<void>,
  ) => {
    let why = ran.add ? undefined : "add did not run";
    let result: CliResult | undefined;
    if (!why) {
      result = await runCli(args, { env });
      why = notReady(result);
    }
    if (why) skipped(args[0], why);
    await t.step({ name, ignore: why !== undefined, fn: () => check(result!) });
    ran[args[0]] = why === undefined;
  };

  const beforeRefresh = ran.add ? storedTokens(await readAuth(home.path)) : undefined;
  await commandStep(
    "token: prints the stored access token, no refresh needed",
    ["token", ID],
    async (result) => {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), storedTokens(await readAuth(home.path)).access);
      assert.deepEqual(server.stats.tokenGrants, ["authorization_code"]);
    },
  );

  await commandStep(
    "refresh: a forced refresh; the server rotates the refresh token, both stored",
    ["refresh", ID, "--json"],
    async (result) => {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(jsonResult(result.stdout).refreshed, true);
      assert.deepEqual(server.stats.tokenGrants, ["authorization_code", "refresh_token"]);
      const after = storedTokens(await readAuth(home.path));
      assert.notEqual(after.access, beforeRefresh!.access);
      assert.notEqual(after.refresh, beforeRefresh!.refresh, "the rotated refresh token is kept");
      assert.ok(!result.stdout.includes(after.access) && !result.stdout.includes(after.refresh));
      if (ran.token) {
        const token = await runCli(["token", ID], { env });
        assert.equal(token.code, 0, token.stderr);
        assert.equal(token.stdout.trim(), after.access);
      }
      // The new refresh token works at the server: a second forced refresh.
      const again = await runCli(["refresh", ID, "--json"], { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(server.stats.tokenGrants.length, 3);
    },
  );

  await commandStep(
    "logout: the login and its pool rows are gone; token then says log in",
    ["logout", ID, "--json"],
    async (result) => {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(jsonResult(result.stdout).logged_out, true);
      const auth = await readAuth(home.path);
      assert.equal(loginState(auth), undefined);
      assert.deepEqual(poolRows(auth), []);
      if (ran.token) {
        const token = await runCli(["token", ID], { env });
        assert.equal(token.code, 3, token.stderr);
      }
    },
  );
});

Deno.test("paste-back against oidc-provider: --manual-paste, no listener, the redirect URL typed in", async () => {
  await using server = await startOidcServer();
  await using home = await tempHome();
  await writeConfig(home.path, server, 8765);
  const cli = spawnCli(["add", ID, "--json", "--manual-paste"], {
    env: { HERMES_HOME: home.path },
    stdin: true,
  });
  const authorize = await cli.event("authorize");
  assert.equal(authorize.redirect_uri, "http://127.0.0.1:8765/callback");
  assert.equal(authorize.listening, false);
  // The browser is sent to a 127.0.0.1 page that does not load; the person copies its address.
  const { callback } = await playBrowser(String(authorize.url), {
    redirectUri: String(authorize.redirect_uri),
  });
  await cli.write(`${callback.href}\n`);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(jsonResult(result.stdout).event, "success");
  assert.ok(storedTokens(await readAuth(home.path)).refresh);
});

Deno.test("two-step login against oidc-provider: --no-wait, then --callback-url", async () => {
  await using server = await startOidcServer();
  await using home = await tempHome();
  await writeConfig(home.path, server, 8765);
  const env = { HERMES_HOME: home.path };
  const start = await runCli(["add", ID, "--json", "--no-wait"], { env });
  assert.equal(start.code, 0, start.stderr);
  const authorize = start.stdout.trim().split("\n").map((l) => JSON.parse(l))
    .find((e) => e.event === "authorize");
  const { callback } = await playBrowser(authorize.url, { redirectUri: authorize.redirect_uri });
  const finish = await runCli(["add", ID, "--json", "--callback-url", callback.href], { env });
  assert.equal(finish.code, 0, finish.stderr);
  assert.ok(storedTokens(await readAuth(home.path)).refresh);
  assert.deepEqual(server.stats.tokenGrants, ["authorization_code"]);
});

Deno.test("device code against oidc-provider: the code approved on the server's own pages", async () => {
  await using server = await startOidcServer();
  await using home = await tempHome();
  await writeConfig(home.path, server, 8765);
  const cli = spawnCli(["add", ID, "--json", "--device-code"], { env: { HERMES_HOME: home.path } });
  const device = await cli.event("device_code");
  assert.equal(device.verification_uri, `${server.issuer}/device`);
  assert.equal(device.interval, 1);
  const pages = await playDeviceVerification(String(device.verification_uri_complete), {
    donePage: /Sign-in Success/,
  });
  // The code is confirmed, then the same sign-in and consent pages as a browser login.
  assert.deepEqual(pages.slice(-4), ["Confirm Device", "Sign-in", "Authorize", "Sign-in Success"]);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  const auth = await readAuth(home.path);
  assert.equal(poolRows(auth)[0]?.source, "manual:device_code");
  assert.ok(storedTokens(auth).refresh);
  assert.deepEqual(server.stats.tokenGrants, ["urn:ietf:params:oauth:grant-type:device_code"]);
});

Deno.test("token refreshes first when the stored access token is due (the server issues 1 s tokens)", async (t) => {
  await using server = await startOidcServer({ accessTokenTtl: 1 });
  await using home = await tempHome();
  await writeConfig(home.path, server, 8765);
  const env = { HERMES_HOME: home.path };
  const cli = spawnCli(["add", ID, "--json", "--port", "0"], { env });
  const authorize = await cli.event("authorize");
  const { callback } = await playBrowser(String(authorize.url), {
    redirectUri: String(authorize.redirect_uri),
  });
  await fetch(callback).then((r) => r.body?.cancel());
  const added = await cli.done();
  assert.equal(added.code, 0, added.stderr);
  const before = storedTokens(await readAuth(home.path));
  await new Promise((resolve) => setTimeout(resolve, 1100)); // now it has expired

  const result = await runCli(["token", ID], { env });
  const why = notReady(result);
  if (why) skipped("token", why);
  await t.step({
    name: "the printed token is the refreshed one, and it is stored",
    ignore: why !== undefined,
    fn: async () => {
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(server.stats.tokenGrants, ["authorization_code", "refresh_token"]);
      const after = storedTokens(await readAuth(home.path));
      assert.notEqual(after.access, before.access);
      assert.equal(result.stdout.trim(), after.access);
    },
  });
});
