/**
 * Logging in on a server: the real CLI on an SSH session against the xAI
 * mock. The device code grant is the default there (no redirect, so nothing
 * to tunnel and nothing to paste); `--loopback` still gives the browser
 * login with the tunnel command; a device endpoint that refuses falls back
 * to the browser login; and on a terminal the link is drawn as a QR code a
 * phone can scan.
 */
import assert from "node:assert/strict";
import { startMockXai } from "../mock/xai_mock.ts";
import { spawnCli, tempHome } from "./harness.ts";
import { CTRL_C, driver, openTerminal, waitFor } from "./pty.ts";
import { readQr } from "../qr_reader.ts";

const SSH = { SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 22", USER: "ada" };

type Json = Record<string, unknown>;

function lastEvent(stdout: string): Json {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

function events(stdout: string): Json[] {
  return stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("on SSH, add xai-oauth logs in with the device code: no listener, no tunnel, stored", async () => {
  await using mock = await startMockXai({ deviceInterval: 0.05 });
  await using home = await tempHome();
  const cli = spawnCli(["add", "xai-oauth", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
  });
  const device = await cli.event("device_code");
  assert.equal(device.verification_uri, `${mock.issuer}/oauth2/device`);
  assert.equal(
    device.verification_uri_complete,
    `${device.verification_uri}?user_code=${device.user_code}`,
  );
  mock.approveDevice(String(device.user_code));
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  const all = events(result.stdout);
  assert.equal(all[0].event, "device_code", "the device code comes first");
  assert.ok(!all.some((e) => e.event === "authorize"), "no browser login was started");
  assert.equal(lastEvent(result.stdout).event, "success");
  assert.equal(mock.stats.authorizeRequests, 0);
  assert.equal(mock.stats.deviceAuthorizations, 1);
  const auth = JSON.parse(await Deno.readTextFile(`${home.path}/auth.json`));
  const rows = auth.credential_pool["xai-oauth"];
  assert.equal(rows.length, 1);
  assert.equal(rows[0].source, "manual:device_code");
  assert.ok(rows[0].refresh_token);
  assert.ok(!result.stdout.includes(rows[0].refresh_token));
});

Deno.test("on SSH, --loopback prints the tunnel command binding 127.0.0.1 on the laptop", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH };
  const human = spawnCli(["add", "xai-oauth", "--loopback", "--timeout", "1"], { env });
  const text = await human.done();
  assert.equal(text.code, 4);
  const port = /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/.exec(text.stderr)?.[1];
  assert.ok(port, text.stderr);
  const command = `ssh -N -L 127.0.0.1:${port}:127.0.0.1:${port} ada@198.51.100.7`;
  assert.ok(text.stderr.includes(`  ${command}\n`), text.stderr);
  assert.match(text.stderr, /Help: hermes-auth help ssh/);
  assert.doesNotMatch(text.stderr, /docs\/guides\/oauth-over-ssh\.md/);

  const json = spawnCli(["add", "xai-oauth", "--loopback", "--json", "--timeout", "1"], { env });
  const authorize = await json.event("authorize");
  assert.equal(
    authorize.tunnel,
    `ssh -N -L 127.0.0.1:${authorize.port}:127.0.0.1:${authorize.port} ada@198.51.100.7`,
  );
  assert.equal((await json.done()).code, 4);
  assert.equal(mock.stats.deviceAuthorizations, 0);
});

Deno.test("a device endpoint that refuses: one line says why, and the browser login takes over", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  mock.faults.deviceAuthorizationStatus = 400;
  const cli = spawnCli(["add", "xai-oauth", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
  });
  const warning = await cli.event("warning");
  assert.match(String(warning.message), /device code login could not start .*unauthorized_client/);
  assert.match(String(warning.message), /using the browser login instead/);
  const authorize = await cli.event("authorize");
  assert.match(String(authorize.tunnel), /^ssh -N -L 127\.0\.0\.1:/);
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(lastEvent(result.stdout).event, "success");
  assert.equal(
    events(result.stdout).filter((e) => e.event === "warning").length,
    1,
    "one line, not one per attempt",
  );
});

Deno.test("--device-code that refuses does not fall back: the person asked for it (exit 6)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  mock.faults.deviceAuthorizationStatus = 400;
  const cli = spawnCli(["add", "xai-oauth", "--device-code", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
  });
  const result = await cli.done();
  assert.equal(result.code, 6);
  assert.equal(lastEvent(result.stdout).code, "device_authorization_failed");
  assert.equal(mock.stats.authorizeRequests, 0);
});

Deno.test("discovery without a device endpoint: xAI's own /oauth2/device/code is used", async () => {
  await using mock = await startMockXai({ deviceInterval: 0.05 });
  await using home = await tempHome();
  mock.faults.discoveryOmitsDevice = true;
  const cli = spawnCli(["add", "xai-oauth", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
  });
  const device = await cli.event("device_code");
  mock.approveDevice(String(device.user_code));
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(mock.stats.deviceAuthorizations, 1);
});

/** The QR code on a screen (no colour: light modules are the blocks), decoded as a phone would. */
function decodeScreenQr(screen: string): string | null {
  const rows = screen.split("\n").map((l) => l.replace(/\r$/, ""))
    .filter((l) => /^ {2}[█▀▄ ]{20,}$/.test(l)).map((l) => l.slice(2));
  return rows.length === 0 ? null : readQr(rows, false);
}

Deno.test({
  name: "on a terminal over SSH, the device login draws its link as a QR code that decodes to it",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["add", "xai-oauth"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
    });
    const link = await waitFor(
      term,
      /http:\/\/127\.0\.0\.1:\d+\/oauth2\/device\?user_code=[A-Z-]+/,
    );
    await waitFor(term, /Waiting for approval/);
    assert.equal(decodeScreenQr(await term.screen()), link);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130);
  },
});

Deno.test({
  name: "--no-qr: the same login on a terminal draws no QR code",
  ignore: driver === null,
  async fn() {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await using term = await openTerminal(["add", "xai-oauth", "--no-qr"], {
      env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, ...SSH },
    });
    await waitFor(term, /Waiting for approval/);
    const screen = await term.screen();
    assert.match(screen, /enter the code [A-Z]{4}-[A-Z]{4}/);
    assert.doesNotMatch(screen, /[█▀▄]/);
    assert.equal(decodeScreenQr(screen), null);
    await term.type(CTRL_C);
    assert.equal(await term.exitCode(), 130);
  },
});
