/**
 * Remote logins end to end: the tunnel hint, paste-back through a real
 * pseudo-terminal, the two-step login across two processes, device code.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { runCli, spawnCli, tempHome } from "./harness.ts";
import { driver, ENTER, openTerminal, waitFor } from "./pty.ts";

type Json = Record<string, unknown>;
const SSH = { SSH_CONNECTION: "203.0.113.5 51000 198.51.100.7 2222", USER: "ada" };

function lastJson(stdout: string): Json {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("on SSH the terminal shows the tunnel command for the bound port, with -p for a non-22 server", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--port", "0", "--timeout", "1"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
  });
  const result = await cli.done();
  assert.equal(result.code, 4);
  const port = /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/.exec(result.stderr)?.[1];
  assert.ok(port && port !== "0", result.stderr);
  assert.ok(
    result.stderr.includes(
      `ssh -N -L 127.0.0.1:${port}:127.0.0.1:${port} -p 2222 ada@198.51.100.7`,
    ),
    result.stderr,
  );
  assert.match(result.stderr, /--device-code/);
});

Deno.test("off SSH, with a display, no tunnel hint is printed", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const result = await runCli(
    ["add", "xai-oauth", "--port", "0", "--timeout", "1", "--no-browser"],
    {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, DISPLAY: ":0" },
    },
  );
  assert.equal(result.code, 4);
  assert.doesNotMatch(result.stderr, /ssh -N -L \d/);
});

Deno.test({
  name:
    "a remote login completes by pasting the failed page's address into a terminal; the listener is never called",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    // A real pseudo-terminal on stdin and stdout (tests/e2e/pty.ts).
    await using term = await openTerminal(["add", "xai-oauth", "--loopback", "--json"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
    });
    const line = await waitFor(term, /\{"event":"authorize".*\}/);
    const authorize = JSON.parse(line) as Json;
    assert.equal(
      authorize.tunnel,
      `ssh -N -L 127.0.0.1:${authorize.port}:127.0.0.1:${authorize.port} -p 2222 ada@198.51.100.7`,
    );
    const callback = await mock.approve(String(authorize.url));
    // Typed into the terminal, as a person would after the browser failed to load it.
    await term.type(`  ${callback}  ${ENTER}`);
    const status = { code: await term.exitCode() };
    const screen = await term.screen();
    assert.equal(status.code, 0, screen);
    assert.match(screen, /"event":"success"/);
    const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
    assert.ok(auth.credential_pool["xai-oauth"][0].refresh_token);
    assert.equal(mock.stats.codeExchanges, 1);
  },
});

Deno.test("--manual-paste starts no listener and accepts the URL on a piped stdin", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (blocker.addr as Deno.NetAddr).port;
  blocker.close();
  const cli = spawnCli(["add", "xai-oauth", "--manual-paste", "--json", "--port", String(port)], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
    stdin: true,
  });
  const authorize = await cli.event("authorize");
  assert.equal(authorize.listening, false);
  assert.equal(authorize.redirect_uri, `http://127.0.0.1:${port}/callback`);
  // Nothing listens on the redirect port.
  await assert.rejects(fetch(String(authorize.redirect_uri)));
  const callback = await mock.approve(String(authorize.url));
  await cli.write(`${callback}\n`);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("a two-step login works across two processes, and replaying the callback URL is refused", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const first = await runCli(["add", "xai-oauth", "--no-wait", "--json"], { env });
  assert.equal(first.code, 0, first.stderr);
  const authorize = JSON.parse(first.stdout.split("\n")[0]);
  assert.equal(authorize.event, "authorize");
  const pendingFile = `${home.path}/pending/xai-oauth.json`;
  assert.equal((await Deno.stat(pendingFile)).mode! & 0o777, 0o600);
  assert.ok(!first.stdout.includes(JSON.parse(await Deno.readTextFile(pendingFile)).codeVerifier));

  const callback = await mock.approve(String(authorize.url));
  const second = await runCli(["add", "xai-oauth", "--callback-url", callback, "--json"], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(lastJson(second.stdout).event, "success");
  assert.equal(await exists(pendingFile), false);

  const replay = await runCli(["add", "xai-oauth", "--callback-url", callback], { env });
  assert.equal(replay.code, 3);
  assert.match(replay.stderr, /--no-wait/);
  assert.equal(mock.stats.codeExchanges, 1);
});

Deno.test("--callback-url with another login's state is refused and the pending login is kept", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const first = await runCli(["add", "xai-oauth", "--no-wait", "--json"], { env });
  const authorize = JSON.parse(first.stdout.split("\n")[0]);
  const callback = new URL(await mock.approve(String(authorize.url)));
  const forged = new URL(callback);
  forged.searchParams.set("state", "not-the-state");
  const refused = await runCli(["add", "xai-oauth", "--callback-url", forged.href], { env });
  assert.equal(refused.code, 5);
  const ok = await runCli(["add", "xai-oauth", "--callback-url", callback.href], { env });
  assert.equal(ok.code, 0, ok.stderr);
});

/** Start a two-step login; the authorize URL and where the pending login is kept. */
async function startTwoStep(env: { HERMES_HOME: string; HERMES_XAI_ISSUER: string }) {
  const first = await runCli(["add", "xai-oauth", "--no-wait", "--json"], { env });
  assert.equal(first.code, 0, first.stderr);
  const authorize = JSON.parse(first.stdout.split("\n")[0]);
  return { url: String(authorize.url), pendingFile: `${env.HERMES_HOME}/pending/xai-oauth.json` };
}

Deno.test("--callback-url takes the bare code the page shows, or the query without iss", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const bare = await startTwoStep(env);
  const code = new URL(await mock.approve(bare.url)).searchParams.get("code")!;
  const byCode = await runCli(["add", "xai-oauth", "--callback-url", code, "--json"], { env });
  assert.equal(byCode.code, 0, byCode.stdout + byCode.stderr);
  assert.equal(await exists(bare.pendingFile), false);
  assert.ok(!byCode.stdout.includes(code), "the code is never printed");

  const query = await startTwoStep(env);
  const callback = new URL(await mock.approve(query.url));
  const short = `?code=${callback.searchParams.get("code")}&state=${
    callback.searchParams.get("state")
  }`;
  const byQuery = await runCli(["add", "xai-oauth", "--callback-url", short, "--json"], { env });
  assert.equal(byQuery.code, 0, byQuery.stdout + byQuery.stderr);
  assert.equal(mock.stats.codeExchanges, 2);
});

Deno.test("a refused --callback-url keeps the pending login: not a callback, a refused code, then the right one", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const { url, pendingFile } = await startTwoStep(env);
  const callback = new URL(await mock.approve(url));

  // Truncated before the code, as a careless copy does.
  const cut = `${callback.origin}${callback.pathname}?`;
  const truncated = await runCli(["add", "xai-oauth", "--callback-url", cut], { env });
  assert.equal(truncated.code, 2, truncated.stderr);
  assert.match(truncated.stderr, /no code= or error=.*the code the page shows/);
  assert.match(truncated.stderr, /the pending login is kept/);
  assert.equal(await exists(pendingFile), true);

  // A code the provider refuses (invalid_grant): said in one line, and the login stays.
  const refused = await runCli(["add", "xai-oauth", "--callback-url", "not-the-code", "--json"], {
    env,
  });
  assert.equal(refused.code, 5, refused.stderr);
  const error = lastJson(refused.stdout);
  assert.equal(error.code, "code_rejected");
  assert.match(String(error.message), /refused the authorization code: HTTP 400 invalid_grant/);
  assert.match(String(error.fix), /the pending login is kept/);
  assert.equal(await exists(pendingFile), true);

  const ok = await runCli(["add", "xai-oauth", "--callback-url", callback.href], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await exists(pendingFile), false);
});

Deno.test("an explicit denial passed to --callback-url ends the pending login (exit 5)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const { url, pendingFile } = await startTwoStep(env);
  const denied = await runCli(["add", "xai-oauth", "--callback-url", await mock.deny(url)], {
    env,
  });
  assert.equal(denied.code, 5, denied.stderr);
  assert.equal(await exists(pendingFile), false);
});

Deno.test("--manual-paste: a code the provider refuses, or another issuer's, asks again; the right code logs in", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--manual-paste", "--port", "0"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
    stdin: true,
  });
  await cli.stderrIncludes("Paste the code the page shows here:");
  assert.match(cli.stderr, /the page cannot reach this machine and shows a code instead/);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+)/.exec(cli.stderr)![1];
  const code = new URL(await mock.approve(url)).searchParams.get("code")!;
  await cli.write("wrong-code-from-another-tab\n");
  await cli.stderrIncludes("Paste again:");
  assert.match(cli.stderr, /refused the authorization code: HTTP 400 invalid_grant/);
  assert.match(cli.stderr, /open the login URL again, approve, and paste the new code/);
  // The right code with another server's iss: refused, and the login still goes on.
  await cli.write(`?code=${code}&iss=https%3A%2F%2Fevil.example\n`);
  await cli.stderrIncludes("paste the code the page shows for this login");
  assert.match(cli.stderr, /failed validation: unexpected "iss"/);
  await cli.write(`${code}\n`);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes(code), "the code is never echoed");
  assert.equal(mock.stats.codeExchanges, 2);
});

Deno.test("an ID token without a nonce logs in; one with another login's nonce exits 5 and stores nothing", async () => {
  for (const [nonce, exit] of [["omit", 0], ["wrong", 5]] as const) {
    await using mock = await startMockXai({ idTokenNonce: nonce });
    await using home = await tempHome();
    const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
    const { url } = await startTwoStep(env);
    const result = await runCli(
      ["add", "xai-oauth", "--callback-url", await mock.approve(url), "--json"],
      { env },
    );
    assert.equal(result.code, exit, result.stdout + result.stderr);
    const stored = await exists(`${home.path}/auth.json`);
    assert.equal(stored, exit === 0, nonce);
    if (exit !== 0) {
      assert.equal(lastJson(result.stdout).code, "id_token_nonce_mismatch");
      assert.doesNotMatch(result.stdout, /temporary/);
    }
  }
});

async function deviceRun(
  setup: (mock: Awaited<ReturnType<typeof startMockXai>>) => void,
  act: (mock: Awaited<ReturnType<typeof startMockXai>>, userCode: string) => void,
  options: { deviceCodeTtl?: number } = {},
) {
  await using mock = await startMockXai({ deviceInterval: 0.2, ...options });
  await using home = await tempHome();
  setup(mock);
  const cli = spawnCli(["add", "xai-oauth", "--device-code", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
  });
  const device = await cli.event("device_code");
  act(mock, String(device.user_code));
  const result = await cli.done();
  const auth = await Deno.readTextFile(`${home.path}/auth.json`).then(JSON.parse, () => null);
  return { result, device, auth, polls: mock.stats.devicePolls };
}

Deno.test("device code: pending, then approved, stores a manual:device_code row", async () => {
  const { result, device, auth, polls } = await deviceRun(() => {}, (mock, code) => {
    setTimeout(() => mock.approveDevice(code), 700);
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(String(device.verification_uri), /\/oauth2\/device$/);
  assert.ok(polls >= 2, `polled ${polls} times`);
  const [row] = auth.credential_pool["xai-oauth"];
  assert.equal(row.source, "manual:device_code");
  assert.ok(!result.stdout.includes(row.access_token));
});

Deno.test("device code: slow_down makes the CLI wait longer, then it succeeds", async () => {
  const started = Date.now();
  const { result } = await deviceRun((mock) => mock.faults.slowDownPolls = 1, (mock, code) => {
    setTimeout(() => mock.approveDevice(code), 1000);
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(Date.now() - started >= 5000, "slow_down adds 5 s to the interval (RFC 8628 §3.5)");
});

Deno.test("device code: denied exits 5", async () => {
  const { result, auth } = await deviceRun(() => {}, (mock, code) => mock.denyDevice(code));
  assert.equal(result.code, 5);
  assert.equal(lastJson(result.stdout).code, "access_denied");
  assert.equal(auth, null);
});

Deno.test("device code: an expired code exits 4", async () => {
  const { result } = await deviceRun(() => {}, () => {}, { deviceCodeTtl: 1 });
  assert.equal(result.code, 4);
  assert.equal(lastJson(result.stdout).code, "device_code_expired");
});

Deno.test({
  name: "on a terminal a timeout offers the paste prompt once more instead of failing",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["add", "xai-oauth", "--port", "0", "--timeout", "1"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
    });
    await waitFor(term, /No callback arrived within 1 s/);
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
    await term.type(`${await mock.approve(url)}${ENTER}`);
    assert.equal(await term.exitCode(), 0, await term.screen());
    assert.match(await term.screen(), /Logged in to xAI Grok OAuth/);
  },
});

Deno.test({
  name: "a timeout after the reminder: the error starts on a line of its own and counts both waits",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["add", "xai-oauth", "--loopback", "--timeout", "1"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
    });
    assert.equal(await term.exitCode(), 4);
    const screen = (await term.screen()).replaceAll("\r", "");
    assert.match(screen, /No callback arrived within 1 s\./);
    assert.match(
      screen,
      /paste it here \(Ctrl-C to give up\): *\n✗ no callback arrived within 2 s\n/,
    );
    assert.doesNotMatch(screen, /give up\): *✗/);
  },
});

Deno.test("without a terminal the timeout's fix offers the two-step login, not pasting", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const result = await runCli(["add", "xai-oauth", "--loopback", "--timeout", "1"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
  });
  assert.equal(result.code, 4);
  assert.match(result.stderr, /✗ no callback arrived within 1 s\n/);
  assert.match(result.stderr, /finish in two steps: --no-wait, then --callback-url/);
  assert.doesNotMatch(result.stderr, /→ .*\bpaste the/);
});
