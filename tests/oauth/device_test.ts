import assert from "node:assert/strict";
import { Exit } from "../../lib/errors.ts";
import { pollDeviceToken, startDeviceAuthorization } from "../../lib/oauth/device.ts";
import { type ProviderServer, resolveServer } from "../../lib/oauth/server.ts";
import { xai } from "../../lib/providers/xai.ts";
import { type MockXai, type MockXaiOptions, startMockXai } from "../mock/xai_mock.ts";
import { rejectsWith } from "../rejects.ts";

function serverFor(mock: MockXai): Promise<ProviderServer> {
  return resolveServer(xai, {
    env: (name) => name === "HERMES_XAI_ISSUER" ? mock.issuer : undefined,
  });
}

/**
 * A clock the mock and the poller share, and a sleep that records what it
 * was asked to wait and advances the clock by that much (or by `advance`).
 */
function fakeTime(advance: (ms: number, call: number) => number = (ms) => ms) {
  let t = Date.now();
  const delays: number[] = [];
  return {
    now: () => t,
    delays,
    sleep: (ms: number) => {
      delays.push(ms);
      t += advance(ms, delays.length);
      return Promise.resolve();
    },
  };
}

async function setup(options: MockXaiOptions & { now: () => number }) {
  const mock = await startMockXai(options);
  try {
    const server = await serverFor(mock);
    const auth = await startDeviceAuthorization(server);
    return { mock, server, auth };
  } catch (e) {
    await mock.close();
    throw e;
  }
}

Deno.test("device authorization asks for the provider's scopes and returns the user code", async () => {
  const time = fakeTime();
  const { mock, auth } = await setup({ deviceInterval: 2, deviceCodeTtl: 300, now: time.now });
  await using _ = mock;
  assert.match(auth.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
  assert.equal(auth.verificationUri, `${mock.issuer}/oauth2/device`);
  assert.equal(
    auth.verificationUriComplete,
    `${mock.issuer}/oauth2/device?user_code=${auth.userCode}`,
  );
  assert.equal(auth.interval, 2);
  assert.equal(auth.expiresIn, 300);
  assert.ok(auth.deviceCode.length > 0);
  assert.equal(mock.stats.deviceAuthorizations, 1);
});

Deno.test("pending, then approved: each poll waits the advertised interval and tokens come back", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 2, now: time.now });
  await using _ = mock;
  const attempts: number[] = [];
  const tokens = await pollDeviceToken(server, auth, {
    sleep: time.sleep,
    now: time.now,
    onPoll: (attempt) => {
      attempts.push(attempt);
      if (attempt === 3) mock.approveDevice(auth.userCode);
    },
  });
  assert.deepEqual(time.delays, [2000, 2000, 2000]);
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(mock.stats.devicePolls, 3);
  assert.ok(tokens.access_token);
  assert.ok(tokens.refresh_token, "xAI logins must keep a refresh token");
  assert.ok(tokens.id_token);
  assert.equal(tokens.token_type?.toLowerCase(), "bearer");
  const sent = mock.stats.lastTokenParams!;
  assert.equal(sent.get("grant_type"), "urn:ietf:params:oauth:grant-type:device_code");
  assert.equal(sent.get("client_id"), xai.clientId.builtIn);
});

Deno.test("slow_down raises the poll interval by 5 s for every later poll", async () => {
  // The second wait is cut short (500 ms of the 2 s asked for), so the mock sees a poll
  // that is too early and answers slow_down.
  const time = fakeTime((ms, call) => call === 2 ? 500 : ms);
  const { mock, server, auth } = await setup({ deviceInterval: 2, now: time.now });
  await using _ = mock;
  await pollDeviceToken(server, auth, {
    sleep: time.sleep,
    now: time.now,
    onPoll: (attempt) => {
      if (attempt === 4) mock.approveDevice(auth.userCode);
    },
  });
  assert.deepEqual(time.delays, [2000, 2000, 7000, 7000]);
});

Deno.test("a denied device login is access_denied, exit 5", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, {
      sleep: time.sleep,
      now: time.now,
      onPoll: (attempt) => {
        if (attempt === 2) mock.denyDevice(auth.userCode);
      },
    }),
    "access_denied",
  );
  assert.equal(e.exit, Exit.DENIED);
  assert.equal(mock.stats.devicePolls, 2);
});

Deno.test("expired_token from the server is device_code_expired, exit 4, fix: run it again", async () => {
  // Only the mock's clock runs, so the poller's own deadline is never reached first.
  const time = fakeTime();
  const { mock, server, auth } = await setup({
    deviceInterval: 5,
    deviceCodeTtl: 12,
    now: time.now,
  });
  await using _ = mock;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, { sleep: time.sleep, now: () => 0 }),
    "device_code_expired",
  );
  assert.equal(e.exit, Exit.TIMEOUT);
  assert.match(e.fix ?? "", /hermes-auth add xai-oauth --device-code/);
  assert.deepEqual(time.delays, [5000, 5000, 5000]);
  assert.equal(mock.stats.devicePolls, 3);
});

Deno.test("polling stops with exit 4 once expires_in has elapsed, without another request", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({
    deviceInterval: 5,
    deviceCodeTtl: 12,
    now: time.now,
  });
  await using _ = mock;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, { sleep: time.sleep, now: time.now }),
    "device_code_expired",
  );
  assert.equal(e.exit, Exit.TIMEOUT);
  // 5 s, 5 s, then only the 2 s left before the code expires.
  assert.deepEqual(time.delays, [5000, 5000, 2000]);
  assert.equal(mock.stats.devicePolls, 2);
});

Deno.test("aborting during the wait rejects with exit 130 at once and leaves no timer", async () => {
  await using mock = await startMockXai({ deviceInterval: 5 });
  const server = await serverFor(mock);
  const auth = await startDeviceAuthorization(server);
  const controller = new AbortController();
  const started = performance.now();
  const abortTimer = setTimeout(() => controller.abort(), 50);
  try {
    const e = await rejectsWith(
      pollDeviceToken(server, auth, { signal: controller.signal }),
      "interrupted",
    );
    assert.equal(e.exit, Exit.INTERRUPTED);
  } finally {
    clearTimeout(abortTimer);
  }
  assert.ok(performance.now() - started < 2000, "did not wait for the 5 s interval");
  assert.equal(mock.stats.devicePolls, 0);
});

Deno.test("an abort is honoured even when the injected sleep ignores the signal", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  const controller = new AbortController();
  const polling = pollDeviceToken(server, auth, {
    signal: controller.signal,
    now: time.now,
    sleep: () => new Promise<void>(() => {}),
  });
  controller.abort();
  await rejectsWith(polling, "interrupted");
});

Deno.test("an already aborted signal polls nothing", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  await rejectsWith(
    pollDeviceToken(server, auth, {
      signal: AbortSignal.abort(),
      sleep: time.sleep,
      now: time.now,
    }),
    "interrupted",
  );
  assert.equal(mock.stats.devicePolls, 0);
});

Deno.test("a server without a device endpoint is a clear usage error pointing at the browser login", async () => {
  await using mock = await startMockXai();
  const resolved = await serverFor(mock);
  const { device_authorization_endpoint: _, ...as } = resolved.as;
  const server: ProviderServer = { ...resolved, as };
  const e = await rejectsWith(startDeviceAuthorization(server), "device_code_unsupported");
  assert.equal(e.exit, Exit.USAGE);
  assert.match(e.fix ?? "", /hermes-auth add xai-oauth$/);
  assert.equal(mock.stats.deviceAuthorizations, 0);
});

Deno.test("a 500 from the token endpoint while polling is a provider error, exit 6", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  mock.faults.tokenStatus = 500;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, { sleep: time.sleep, now: time.now }),
    "provider_error",
  );
  assert.equal(e.exit, Exit.PROVIDER);
  assert.equal(mock.stats.devicePolls, 1);
});

Deno.test("the device code never appears in an error message", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  mock.faults.tokenStatus = 400;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, { sleep: time.sleep, now: time.now }),
    "token_rejected",
  );
  assert.equal(e.exit, Exit.DENIED);
  assert.ok(!e.message.includes(auth.deviceCode));
  assert.ok(!(e.fix ?? "").includes(auth.deviceCode));
});

Deno.test("a token endpoint answer that is not JSON is a provider error, exit 6", async () => {
  const time = fakeTime();
  const { mock, server, auth } = await setup({ deviceInterval: 1, now: time.now });
  await using _ = mock;
  mock.approveDevice(auth.userCode);
  mock.faults.tokenInvalidJson = true;
  const e = await rejectsWith(
    pollDeviceToken(server, auth, { sleep: time.sleep, now: time.now }),
    "provider_error",
  );
  assert.equal(e.exit, Exit.PROVIDER);
});

Deno.test("options.scopes replaces the provider's scopes in the device request", async () => {
  const time = fakeTime();
  await using mock = await startMockXai({ deviceInterval: 1, now: time.now });
  const server = await serverFor(mock);
  const auth = await startDeviceAuthorization(server, { scopes: ["openid", "offline_access"] });
  mock.approveDevice(auth.userCode);
  const tokens = await pollDeviceToken(server, auth, { sleep: time.sleep, now: time.now });
  assert.equal(tokens.scope, "openid offline_access");
  assert.ok(tokens.refresh_token);
});
