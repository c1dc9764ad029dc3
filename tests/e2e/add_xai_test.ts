/**
 * `hermes-auth add xai-oauth` end to end: the real CLI process against the
 * mock accounts.x.ai, the test playing the browser.
 */
import assert from "node:assert/strict";
import { lockFilePath } from "../../lib/store/paths.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { runCli, spawnCli, tempHome } from "./harness.ts";
import { seedLogin } from "./seed_login.ts";

type Json = Record<string, unknown>;

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Send a raw request to the listener (to control the Host header). */
async function rawGet(port: number, path: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

function env(home: string, issuer: string, extra: Record<string, string> = {}) {
  return { HERMES_HOME: home, HERMES_XAI_ISSUER: issuer, ...extra };
}

Deno.test("a login stores Hermes's layout 0600 in a 0700 directory, tokens never printed", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--loopback", "--json"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  assert.equal(authorize.provider, "xai-oauth");
  const redirect = new URL(String(authorize.redirect_uri));
  assert.equal(redirect.hostname, "127.0.0.1");
  assert.equal(redirect.pathname, "/callback");
  assert.equal(Number(redirect.port), authorize.port);
  const url = new URL(String(authorize.url));
  assert.equal(url.searchParams.get("plan"), "generic");
  assert.equal(url.searchParams.get("referrer"), "hermes-agent");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.ok(url.searchParams.get("nonce"));

  const callback = await mock.approve(String(authorize.url));
  const page = await fetch(callback);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /xAI authorization received\. You can close this tab\./);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  const success = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  assert.equal(success.event, "success");
  assert.equal(success.index, 1);
  assert.equal(success.updated, false);
  assert.equal(success.account, "grok.user@example.com");

  // One pool row of its own (docs/hermes-compat.md): no login state to fork the grant with.
  const auth = await readAuth(home.path);
  assert.equal((auth.providers as Json)["xai-oauth"], undefined);
  assert.equal(auth.active_provider, "xai-oauth");
  const rows = (auth.credential_pool as Json)["xai-oauth"] as Json[];
  assert.equal(rows.length, 1);
  assert.match(String(rows[0].id), /^[0-9a-f]{6}$/);
  assert.equal(rows[0].auth_type, "oauth");
  assert.equal(rows[0].source, "manual:loopback_pkce");
  assert.equal(rows[0].label, "grok.user@example.com");
  const tokens = rows[0];
  assert.ok(String(tokens.access_token).split(".").length === 3);
  assert.ok(tokens.refresh_token);
  // xAI demands the challenge again on the token request.
  assert.equal(
    mock.stats.lastTokenParams?.get("code_challenge"),
    url.searchParams.get("code_challenge"),
  );

  assert.equal((await Deno.stat(`${home.path}/auth.json`)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(home.path)).mode! & 0o777, 0o700);
  for (const secret of [tokens.access_token, tokens.refresh_token]) {
    assert.ok(!result.stdout.includes(String(secret)) && !result.stderr.includes(String(secret)));
  }
  assert.ok(!result.stdout.includes(new URL(callback).searchParams.get("code")!));
});

Deno.test("when 56121 is busy the listener moves and everything printed uses the port actually bound", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  let blocker: Deno.Listener | undefined;
  try {
    blocker = Deno.listen({ hostname: "127.0.0.1", port: 56121 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e; // already busy: just as good
  }
  try {
    const cli = spawnCli(["add", "xai-oauth", "--loopback", "--json"], {
      env: env(home.path, mock.issuer, {
        SSH_CONNECTION: "203.0.113.9 50000 198.51.100.7 22",
        USER: "ada",
      }),
    });
    const authorize = await cli.event("authorize");
    assert.notEqual(authorize.port, 56121);
    assert.equal(authorize.redirect_uri, `http://127.0.0.1:${authorize.port}/callback`);
    assert.equal(
      authorize.tunnel,
      `ssh -N -L 127.0.0.1:${authorize.port}:127.0.0.1:${authorize.port} ada@198.51.100.7`,
    );
    const authUrl = new URL(String(authorize.url));
    assert.equal(authUrl.searchParams.get("redirect_uri"), authorize.redirect_uri);
    await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
    const result = await cli.done();
    assert.equal(result.code, 0, result.stderr);
  } finally {
    blocker?.close();
  }
});

Deno.test("denied consent shows the failure page and exits 5 without writing", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  const page = await fetch(await mock.deny(String(authorize.url)));
  assert.match(await page.text(), /xAI authorization failed/);
  const result = await cli.done();
  assert.equal(result.code, 5);
  const error = await cli.event("error");
  assert.equal(error.code, "access_denied");
  assert.equal(await exists(`${home.path}/auth.json`), false);
});

Deno.test("a forged state is refused with 400 and the real callback still completes the login", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  const callback = new URL(await mock.approve(String(authorize.url)));
  const forged = new URL(callback);
  forged.searchParams.set("state", "forged-state-value");
  const refused = await fetch(forged);
  assert.equal(refused.status, 400);
  await refused.body?.cancel();
  const warning = await cli.event("warning");
  assert.match(String(warning.message), /state/);
  const ok = await fetch(callback);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("missing code is 400, an unknown path 404, a foreign Host 403, and the login goes on", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  const port = Number(authorize.port);
  const missing = await fetch(`http://127.0.0.1:${port}/callback`);
  assert.equal(missing.status, 400);
  await missing.body?.cancel();
  const other = await fetch(`http://127.0.0.1:${port}/favicon.ico`);
  assert.equal(other.status, 404);
  await other.body?.cancel();
  const callback = new URL(await mock.approve(String(authorize.url)));
  const rebound = await rawGet(port, callback.pathname + callback.search, `evil.example:${port}`);
  assert.match(rebound, /^HTTP\/1\.1 403/);
  const ok = await fetch(callback);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("no callback before --timeout exits 4 and writes nothing", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const result = await runCli(["add", "xai-oauth", "--port", "0", "--timeout", "1"], {
    env: env(home.path, mock.issuer),
  });
  assert.equal(result.code, 4);
  assert.match(result.stderr, /no callback arrived within 1 s/);
  assert.equal(await exists(`${home.path}/auth.json`), false);
});

Deno.test("Ctrl-C during the wait closes the listener, writes nothing and exits 130", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  cli.child.kill("SIGINT");
  const result = await cli.done();
  assert.equal(result.code, 130);
  assert.equal(await exists(`${home.path}/auth.json`), false);
  await assert.rejects(fetch(`http://127.0.0.1:${authorize.port}/callback`));
});

Deno.test("Ctrl-C while a finished login waits for auth.lock exits 130 at once, says it was not saved", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const before = await Deno.readTextFile(`${home.path}/auth.json`);
  const lock = await Deno.open(lockFilePath(home.path), { read: true, write: true });
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  let ended;
  try {
    await lock.lock(true);
    const authorize = await cli.event("authorize");
    await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
    await cli.stderrIncludes("holds it");
    cli.child.kill("SIGINT");
    ended = await cli.doneWithin(5_000);
  } finally {
    await lock.unlock();
    lock.close();
    await cli.done();
  }
  if (ended === "still running") throw new Error("add went on waiting for auth.lock after Ctrl-C");
  assert.equal(ended.code, 130, ended.stderr);
  const error = JSON.parse(ended.stdout.trim().split("\n").at(-1)!);
  assert.equal(error.event, "error");
  assert.equal(error.code, "interrupted");
  assert.match(error.message, /^the new xai-oauth login was not saved: interrupted while waiting/);
  assert.match(error.fix, /hermes-auth add xai-oauth/);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json`), before, "nothing changed");
});

Deno.test("a discovery document naming a non-x.ai endpoint is refused before anything is sent", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  mock.faults.foreignEndpoints = true;
  const result = await runCli(["add", "xai-oauth", "--loopback", "--json"], {
    env: env(home.path, mock.issuer),
  });
  assert.equal(result.code, 6);
  const error = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  assert.equal(error.code, "endpoint_refused");
  assert.match(error.message, /evil\.example\.com/);
  assert.equal(mock.stats.authorizeRequests, 0);
});

Deno.test("an https issuer outside x.ai is refused (HERMES_XAI_ISSUER=https://x.ai.evil.com)", async () => {
  await using home = await tempHome();
  const result = await runCli(["add", "xai-oauth", "--loopback"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: "https://x.ai.evil.com" },
  });
  assert.equal(result.code, 6);
  assert.match(result.stderr, /not on x\.ai/);
});

Deno.test("a token endpoint 500 exits 6 and leaves stored credentials untouched", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  const before = JSON.stringify({
    version: 1,
    providers: { other: { a: 1 } },
    credential_pool: {},
  });
  await Deno.writeTextFile(`${home.path}/auth.json`, before);
  mock.faults.tokenStatus = 500;
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 6);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json`), before);
});

Deno.test("403 from the token endpoint is explained as the subscription tier (exit 5)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  mock.faults.tokenStatus = 403;
  const cli = spawnCli(["add", "xai-oauth", "--port", "0", "--json"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 5);
  const error = await cli.event("error");
  assert.equal(error.code, "subscription_forbidden");
  assert.match(String(error.fix), /API key/);
});

Deno.test("a corrupt auth.json is kept aside as auth.json.corrupt, then the login is stored", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  await Deno.writeTextFile(`${home.path}/auth.json`, "{ this is not json");
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json.corrupt`), "{ this is not json");
  const pool = (await readAuth(home.path)).credential_pool as Record<string, Json[]>;
  assert.equal(pool["xai-oauth"].length, 1);
});

Deno.test("unknown keys and another provider's data survive a login", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  const spotify = { client_id: "abc", access_token: "spotify-token", custom: [1, 2] };
  const row = { id: "abcdef", label: "mine", auth_type: "api_key", priority: 0, source: "manual" };
  await Deno.writeTextFile(
    `${home.path}/auth.json`,
    JSON.stringify({
      version: 1,
      providers: { spotify },
      credential_pool: { openrouter: [row] },
      suppressed_sources: { x: ["y"] },
      future_field: { nested: true },
    }),
  );
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  assert.equal((await cli.done()).code, 0);
  const auth = await readAuth(home.path);
  assert.deepEqual((auth.providers as Json).spotify, spotify);
  assert.deepEqual((auth.credential_pool as Json).openrouter, [row]);
  assert.deepEqual(auth.future_field, { nested: true });
  assert.deepEqual(auth.suppressed_sources, { x: ["y"] });
});

Deno.test("an unknown provider is a usage error (exit 2) that lists the providers", async () => {
  await using home = await tempHome();
  const result = await runCli(["add", "grok"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown provider "grok"/);
  assert.match(result.stderr, /xai-oauth/);
});

Deno.test("200 forged callbacks do not flood the terminal: three shown, the rest counted", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json", "--port", "0"], {
    env: env(home.path, mock.issuer),
  });
  const authorize = await cli.event("authorize");
  const forged = new URL(String(authorize.redirect_uri));
  forged.search = "code=forged&state=not-this-login";
  for (let i = 0; i < 200; i++) await fetch(forged).then((r) => r.body?.cancel());
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  const warnings = result.stdout.trim().split("\n").map((l) => JSON.parse(l))
    .filter((e) => e.event === "warning").map((e) => String(e.message));
  assert.equal(warnings.filter((m) => m.startsWith("refused a callback")).length, 3);
  assert.ok(warnings.length <= 8, warnings.join("\n"));
  assert.ok(warnings.includes("the listener refused 197 more request(s) in all (not shown)"));
});
