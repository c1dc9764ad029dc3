import assert from "node:assert/strict";
import { join } from "node:path";
import { Exit } from "../../lib/errors.ts";
import { type AccessTokenOptions, getAccessToken } from "../../lib/oauth/refresh.ts";
import { expired, readCredential, refreshDue } from "../../lib/oauth/access_token.ts";
import { xai } from "../../lib/providers/xai.ts";
import { readLogin, type StoredToken } from "../../lib/store/credentials.ts";
import { lockFilePath } from "../../lib/store/paths.ts";
import { abandonedWaits } from "../../lib/store/lock.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "../e2e/seed_login.ts";
import { rejectsWith } from "../rejects.ts";

type Json = Record<string, unknown>;

/** A temp HERMES_HOME, removed at scope end. */
async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-refresh-" });
  return {
    path: join(dir, "hermes"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Options for the mock at `issuer`, recording each URL fetched and each wait. */
function options(home: string, issuer: string, extra: Partial<AccessTokenOptions> = {}) {
  const fetched: string[] = [];
  const waits: number[] = [];
  const opts: AccessTokenOptions = {
    home,
    env: (name) => name === "HERMES_XAI_ISSUER" ? issuer : undefined,
    fetch: (input, init) => {
      fetched.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    },
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...extra,
  };
  return { opts, fetched, waits };
}

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(join(home, "auth.json")));
}

/** 30 s left of a 3600 s token: due for a refresh (skew 120 s), not yet expired. */
const EXPIRING = 3570;

Deno.test("a fresh token is handed out without a single request", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const { opts, fetched } = options(home.path, mock.issuer);
  const result = await getAccessToken(xai, opts);
  assert.equal(result.accessToken, tokens.access_token);
  assert.equal(result.origin, "stored");
  assert.deepEqual(fetched, []);
});

Deno.test("a token expiring within 120 s is refreshed once at the stored token endpoint, no discovery", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  const { opts, fetched } = options(home.path, mock.issuer);
  const result = await getAccessToken(xai, opts);
  assert.equal(result.origin, "refreshed");
  assert.notEqual(result.accessToken, old.access_token);
  assert.deepEqual(fetched, [`${mock.issuer}/oauth2/token`]);
  assert.equal(mock.stats.refreshes, 1);
  assert.equal(mock.stats.lastTokenParams?.get("refresh_token"), old.refresh_token);

  const auth = await readAuth(home.path);
  const state = (auth.providers as Json)["xai-oauth"] as Json;
  const stored = state.tokens as Json;
  assert.equal(stored.access_token, result.accessToken);
  assert.notEqual(stored.refresh_token, old.refresh_token, "the rotated refresh token is stored");
  const row = ((auth.credential_pool as Json)["xai-oauth"] as Json[])[0];
  assert.equal(row.access_token, result.accessToken);
  assert.equal(row.refresh_token, stored.refresh_token);
  // The new token is fresh: the next call makes no request.
  const again = await getAccessToken(xai, opts);
  assert.equal(again.accessToken, result.accessToken);
  assert.equal(mock.stats.refreshes, 1);
});

Deno.test("a credential the caller has read (seen) is used as read: no second read before the lock", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  const seen = await readCredential(xai, home.path, new Date());
  // auth.json changes after the caller read it. A call that read it again would find the fresh
  // login there ("stored"); one that goes by `seen` finds it due, takes the lock and, reading
  // under it, finds the token changed by someone else: no request either way.
  await using other = await tempHome();
  const fresh = await seedLogin(other.path, mock);
  await Deno.copyFile(join(other.path, "auth.json"), join(home.path, "auth.json"));
  const { opts } = options(home.path, mock.issuer, { seen });
  const result = await getAccessToken(xai, opts);
  assert.equal(seen.login.accessToken, old.access_token);
  assert.equal(result.origin, "refreshed_elsewhere");
  assert.equal(result.accessToken, fresh.access_token);
  assert.equal(mock.stats.refreshes, 0);
});

Deno.test("force refreshes a fresh token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock);
  const { opts } = options(home.path, mock.issuer, { force: true });
  const result = await getAccessToken(xai, opts);
  assert.equal(result.origin, "refreshed");
  assert.notEqual(result.accessToken, old.access_token);
  assert.equal(mock.stats.refreshes, 1);
});

Deno.test("a response without a refresh token keeps the old one, which still works", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock);
  mock.faults.omitRefreshToken = true;
  const { opts } = options(home.path, mock.issuer, { force: true });
  await getAccessToken(xai, opts);
  await getAccessToken(xai, opts);
  const state = ((await readAuth(home.path)).providers as Json)["xai-oauth"] as Json;
  assert.equal((state.tokens as Json).refresh_token, old.refresh_token);
  assert.equal(mock.stats.refreshes, 2);
});

Deno.test("concurrent callers on one expiring token make one request and get the same token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  mock.faults.slowMs = 100; // everyone finds the old token before the first refresh lands
  const { opts } = options(home.path, mock.issuer);
  const results = await Promise.all(Array.from({ length: 8 }, () => getAccessToken(xai, opts)));
  assert.equal(mock.stats.refreshes, 1);
  assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
  assert.deepEqual(
    results.map((r) => r.origin).sort(),
    ["refreshed", ...Array(7).fill("refreshed_elsewhere")],
  );
});

Deno.test("a stored token endpoint off x.ai is refused before anything is sent", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, {
    ageSeconds: EXPIRING,
    tokenEndpoint: "https://x.ai.evil.example/oauth2/token",
  });
  const { opts, fetched } = options(home.path, mock.issuer);
  const error = await rejectsWith(getAccessToken(xai, opts), "endpoint_refused");
  assert.equal(error.exit, Exit.PROVIDER);
  assert.match(error.message, /x\.ai\.evil\.example/);
  assert.deepEqual(fetched, []);
});

for (const status of [400, 401]) {
  Deno.test(`a ${status} refusal quarantines the login as Hermes does and exits 3`, async () => {
    await using mock = await startMockXai();
    await using home = await tempHome();
    await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
    const before = await readAuth(home.path);
    mock.faults.refreshStatus = status;
    const { opts, waits } = options(home.path, mock.issuer, { allowStale: true });
    const error = await rejectsWith(getAccessToken(xai, opts), "refresh_rejected");
    assert.equal(error.exit, Exit.LOGIN_REQUIRED);
    assert.match(error.fix!, /hermes-auth add xai-oauth/);
    assert.deepEqual(waits, [], "a refusal is not retried");
    assert.equal(mock.stats.refreshes, 1);

    const after = await readAuth(home.path);
    const state = (after.providers as Json)["xai-oauth"] as Json;
    assert.equal("access_token" in (state.tokens as Json), false);
    assert.equal("refresh_token" in (state.tokens as Json), false);
    const marker = state.last_auth_error as Json;
    assert.equal(marker.code, "xai_refresh_failed");
    assert.equal(marker.relogin_required, true);
    assert.equal(marker.reason, "runtime_refresh_failure");
    assert.match(String(marker.message), new RegExp(`HTTP ${status}`));
    const row = ((after.credential_pool as Json)["xai-oauth"] as Json[])[0];
    assert.equal(row.last_status, "dead");
    assert.equal(row.last_error_code, status);
    // Everything else is as it was.
    const { providers: _p, credential_pool: _c, updated_at: _u, ...restAfter } = after;
    const { providers: _p0, credential_pool: _c0, updated_at: _u0, ...restBefore } = before;
    assert.deepEqual(restAfter, restBefore);
    const beforeState = (before.providers as Json)["xai-oauth"] as Json;
    assert.deepEqual(state.discovery, beforeState.discovery);
    assert.equal(state.last_refresh, beforeState.last_refresh);

    // The next call needs no request to know the login is gone.
    const next = await rejectsWith(getAccessToken(xai, opts), "not_logged_in");
    assert.equal(next.exit, Exit.LOGIN_REQUIRED);
    assert.match(next.message, /no longer valid/);
    assert.equal(mock.stats.refreshes, 1);
  });
}

Deno.test("a revoked login (refresh token reuse) is a dead login too", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  mock.revokeAll();
  const { opts } = options(home.path, mock.issuer);
  await rejectsWith(getAccessToken(xai, opts), "refresh_rejected");
});

Deno.test("403 is the subscription tier: exit 5, tokens kept, file untouched", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  const before = await Deno.readTextFile(join(home.path, "auth.json"));
  mock.faults.refreshStatus = 403;
  const { opts } = options(home.path, mock.issuer, { allowStale: true });
  const error = await rejectsWith(getAccessToken(xai, opts), "subscription_forbidden");
  assert.equal(error.exit, Exit.DENIED);
  assert.match(error.fix!, /API key/);
  assert.equal(await Deno.readTextFile(join(home.path, "auth.json")), before);
});

Deno.test("5xx is retried after 0.5 s and 1 s, then exit 6 with the file untouched", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  const before = await Deno.readTextFile(join(home.path, "auth.json"));
  mock.faults.refreshStatus = 503;
  const { opts, waits } = options(home.path, mock.issuer);
  const error = await rejectsWith(getAccessToken(xai, opts), "provider_error");
  assert.equal(error.exit, Exit.PROVIDER);
  assert.deepEqual(waits, [500, 1000]);
  assert.equal(mock.stats.refreshes, 3);
  assert.equal(await Deno.readTextFile(join(home.path, "auth.json")), before);
});

Deno.test("a 5xx that clears up during the retries ends in a refresh", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  mock.faults.refreshStatus = 500;
  const { opts } = options(home.path, mock.issuer, {
    sleep: () => {
      delete mock.faults.refreshStatus;
      return Promise.resolve();
    },
  });
  const result = await getAccessToken(xai, opts);
  assert.equal(result.origin, "refreshed");
  assert.equal(mock.stats.refreshes, 2);
});

Deno.test("with allowStale a failed refresh hands out the current token while it is valid", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  mock.faults.refreshStatus = 500;
  const { opts } = options(home.path, mock.issuer, { allowStale: true });
  const result = await getAccessToken(xai, opts);
  assert.equal(result.accessToken, old.access_token);
  assert.equal(result.staleBecause?.code, "provider_error");
});

Deno.test("allowStale never hands out a token that has expired", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3700 });
  mock.faults.refreshStatus = 500;
  const { opts } = options(home.path, mock.issuer, { allowStale: true });
  const error = await rejectsWith(getAccessToken(xai, opts), "provider_error");
  assert.equal(error.exit, Exit.PROVIDER);
});

Deno.test("an unreachable token endpoint is network_error after the retries", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await seedLogin(home.path, mock, {
    ageSeconds: EXPIRING,
    tokenEndpoint: `http://127.0.0.1:${port}/oauth2/token`,
  });
  const { opts, waits } = options(home.path, mock.issuer);
  const error = await rejectsWith(getAccessToken(xai, opts), "network_error");
  assert.equal(error.exit, Exit.PROVIDER);
  assert.deepEqual(waits, [500, 1000]);
});

Deno.test("a lock held elsewhere (as by Hermes) times out naming the lock file; allowStale serves the valid token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  const lockFile = await Deno.open(lockFilePath(home.path), { read: true, write: true });
  try {
    await lockFile.lock(true);
    const { opts } = options(home.path, mock.issuer, { lockTimeoutMs: 200 });
    const error = await rejectsWith(getAccessToken(xai, opts), "lock_timeout");
    assert.ok(error.message.includes(lockFilePath(home.path)));
    const stale = await getAccessToken(xai, { ...opts, allowStale: true });
    assert.equal(stale.accessToken, old.access_token);
    assert.equal(stale.staleBecause?.code, "lock_timeout");
    assert.equal(mock.stats.refreshes, 0);
  } finally {
    await lockFile.unlock();
    lockFile.close();
    await abandonedWaits(); // the two waits given up on, granted and let go now
  }
});

Deno.test("no login at all is not_logged_in, exit 3, naming the add command", async () => {
  await using home = await tempHome();
  const error = await rejectsWith(
    getAccessToken(xai, { home: home.path, env: () => undefined }),
    "not_logged_in",
  );
  assert.equal(error.exit, Exit.LOGIN_REQUIRED);
  assert.match(error.fix!, /hermes-auth add xai-oauth/);
});

Deno.test("Ctrl-C during the backoff stops the refresh with exit 130", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: EXPIRING });
  mock.faults.refreshStatus = 503;
  const controller = new AbortController();
  const { opts } = options(home.path, mock.issuer, {
    signal: controller.signal,
    sleep: () => {
      controller.abort();
      return Promise.resolve();
    },
  });
  const error = await rejectsWith(getAccessToken(xai, opts), "interrupted");
  assert.equal(error.exit, Exit.INTERRUPTED);
  assert.equal(mock.stats.refreshes, 1);
});

Deno.test("refreshDue: within the skew, or within half the lifetime when that is shorter", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  const login = (secondsLeft: number, lifetime?: number): StoredToken => ({
    accessToken: "a",
    tokenType: "Bearer",
    expiresAt: new Date(now.getTime() + secondsLeft * 1000),
    ...(lifetime
      ? {
        lastRefresh: new Date(now.getTime() + (secondsLeft - lifetime) * 1000).toISOString(),
      }
      : {}),
  });
  assert.equal(refreshDue(login(121), now, 120), false);
  assert.equal(refreshDue(login(120), now, 120), true);
  assert.equal(refreshDue(login(-5), now, 120), true);
  // A 60 s token is not "expiring" the moment it is issued…
  assert.equal(refreshDue(login(60, 60), now, 120), false);
  assert.equal(refreshDue(login(31, 60), now, 120), false);
  // …but is once half of it is gone.
  assert.equal(refreshDue(login(30, 60), now, 120), true);
  assert.equal(refreshDue({ ...login(0), expiresAt: null }, now, 120), false);
  assert.equal(expired(login(0), now), true);
  assert.equal(expired(login(1), now), false);
  assert.equal(expired({ ...login(0), expiresAt: null }, now), false);
});

Deno.test("the stored expiry is what decides: last_refresh + expires_in", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 100 });
  const state = ((await readAuth(home.path)).providers as Json)["xai-oauth"] as Json;
  const login = readLogin({ version: 1, providers: { "xai-oauth": state } }, "xai-oauth", "xai")!;
  const left = (login.expiresAt!.getTime() - Date.now()) / 1000;
  assert.ok(left > 3490 && left <= 3500, `expected ~3500 s left, got ${left}`);
});
