/**
 * Many real CLI processes refreshing one login at once, and processes
 * killed (SIGKILL) in the middle of a refresh. The mock revokes a whole
 * login when a rotated refresh token is used again, so any double refresh
 * or lost write shows up as a dead login.
 */
import assert from "node:assert/strict";
import { lockFilePath } from "../../lib/store/paths.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { type CliProcess, runCli, spawnCli, tempHome, until } from "./harness.ts";
import { seedLogin } from "./seed_login.ts";

type Json = Record<string, unknown>;

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

async function storedToken(home: string): Promise<string> {
  const state = ((await readAuth(home)).providers as Json)["xai-oauth"] as Json;
  return String((state.tokens as Json).access_token);
}

Deno.test("12 concurrent `token` processes on an expiring token: one refresh, no failure, one token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const old = await seedLogin(home.path, mock, { ageSeconds: 3570 });
  // Slow enough that most processes find the old token and queue on the lock.
  mock.faults.slowMs = 300;
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const procs = Array.from({ length: 12 }, () => spawnCli(["token", "xai-oauth"], { env }));
  const results = await Promise.all(procs.map((p) => p.done()));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(mock.stats.refreshes, 1);
  const printed = new Set(results.map((r) => r.stdout));
  assert.equal(printed.size, 1, "every process printed the same token");
  const token = [...printed][0].trim();
  assert.notEqual(token, old.access_token);
  assert.equal(token, await storedToken(home.path));
});

Deno.test("short token lifetimes (60 s, under the 120 s skew) still make one refresh", async () => {
  await using mock = await startMockXai({ accessTokenTtl: 60 });
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 45 });
  mock.faults.slowMs = 200;
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const procs = Array.from({ length: 8 }, () => spawnCli(["token", "xai-oauth"], { env }));
  const results = await Promise.all(procs.map((p) => p.done()));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(mock.stats.refreshes, 1);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
});

Deno.test("while another program (Hermes) holds auth.lock, the processes wait and still refresh once", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const lock = await Deno.open(lockFilePath(home.path), { read: true, write: true });
  let procs;
  try {
    await lock.lock(true);
    procs = Array.from({ length: 4 }, () => spawnCli(["token", "xai-oauth"], { env }));
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(mock.stats.refreshes, 0, "nobody refreshes while the lock is held elsewhere");
  } finally {
    await lock.unlock();
    lock.close();
  }
  const results = await Promise.all(procs.map((p) => p.done()));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(mock.stats.refreshes, 1);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
});

Deno.test("a wait of over a second for auth.lock says once on stderr that another process holds it", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const lockPath = lockFilePath(home.path);
  const lock = await Deno.open(lockPath, { read: true, write: true });
  let human, json;
  try {
    await lock.lock(true);
    human = spawnCli(["token", "xai-oauth"], { env });
    json = spawnCli(["token", "xai-oauth", "--json"], { env });
    await human.stderrIncludes("holds it");
    await json.stderrIncludes("holds it");
  } finally {
    await lock.unlock();
    lock.close();
  }
  const [a, b] = [await human.done(), await json.done()];
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const notice = `! Waiting for ${lockPath}: another process (Hermes or hermes-auth) holds it; ` +
    "waiting up to 15 s.\n";
  assert.equal(a.stderr, notice, "one line, once");
  assert.equal(b.stderr, notice, "on stderr with --json too");
  // stdout stays what scripts parse: the token, or one JSON object.
  assert.equal(a.stdout.trim(), await storedToken(home.path));
  assert.equal(JSON.parse(b.stdout).access_token, await storedToken(home.path));
  assert.equal(mock.stats.refreshes, 1);
});

Deno.test("a short wait for auth.lock stays silent", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const lock = await Deno.open(lockFilePath(home.path), { read: true, write: true });
  let proc;
  try {
    await lock.lock(true);
    proc = spawnCli(["token", "xai-oauth"], { env });
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await lock.unlock();
    lock.close();
  }
  const result = await proc.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
});

/** Is process `pid` blocked in flock(2) on a lock someone else holds? (Linux: /proc/locks "->" rows.) */
async function blockedInFlock(pid: number): Promise<boolean> {
  const rows = (await Deno.readTextFile("/proc/locks")).split("\n");
  return rows.some((row) => /->\s+FLOCK\s/.test(row) && row.split(/\s+/).includes(String(pid)));
}

/**
 * `token` on a due login while this test holds auth.lock: SIGINT once `waiting` says it waits.
 * Checks that it ended within 5 s, the lock still held (only its own exit can end a wait blocked
 * in flock), and that nothing changed; returns how it ended.
 */
async function interruptWaitingToken(waiting: (proc: CliProcess) => Promise<void>) {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const before = await Deno.readTextFile(`${home.path}/auth.json`);
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const lock = await Deno.open(lockFilePath(home.path), { read: true, write: true });
  let proc: CliProcess | undefined;
  let result;
  try {
    await lock.lock(true);
    proc = spawnCli(["token", "xai-oauth"], { env });
    await waiting(proc);
    proc.child.kill("SIGINT");
    result = await proc.doneWithin(5_000);
  } finally {
    await lock.unlock();
    lock.close();
    await proc?.done();
  }
  if (result === "still running") {
    throw new Error("token went on waiting for the lock after Ctrl-C");
  }
  assert.equal(result.stdout, "");
  assert.equal(mock.stats.refreshes, 0);
  assert.equal(await Deno.readTextFile(`${home.path}/auth.json`), before);
  return result;
}

Deno.test("Ctrl-C during a noticed wait for auth.lock ends `token` at once: exit 130, nothing changed", async () => {
  const result = await interruptWaitingToken((proc) => proc.stderrIncludes("holds it"));
  assert.equal(result.code, 130, result.stderr);
  assert.equal(result.signal, null, "the CLI caught Ctrl-C and exited itself");
  assert.match(result.stderr, /interrupted while waiting for .*auth\.lock/);
});

Deno.test(
  "a `token` waiting for auth.lock sleeps in flock; Ctrl-C before the notice ends it the default way",
  { ignore: Deno.build.os !== "linux" },
  async () => {
    const result = await interruptWaitingToken(async (proc) => {
      await until(
        "token to block in flock",
        async () => (await blockedInFlock(proc.child.pid)) || undefined,
        10_000,
      );
    });
    // A short wait has no Ctrl-C listener (it costs every waiter of a refresh storm): SIGINT's
    // default action ends the process, which holds nothing.
    assert.equal(result.signal, "SIGINT");
    assert.equal(result.code, 130);
    assert.equal(result.stderr, "");
  },
);

/**
 * A proxy in front of the mock's token endpoint that records which refresh
 * tokens the server consumed and issued: the server's truth, against which
 * the file is judged after each kill.
 */
function startRecordingProxy(upstream: string) {
  /** Refresh token sent -> refresh token issued, for every refresh the server carried out. */
  const rotations = new Map<string, string>();
  let current: string | undefined;
  let inFlight = 0;
  /** Refresh tokens sent again after the server had already rotated them. */
  let reuses = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    inFlight++;
    try {
      let body: string;
      try {
        body = await req.text();
      } catch {
        return new Response(null, { status: 400 }); // the client died mid-request
      }
      const sent = new URLSearchParams(body).get("refresh_token");
      if (sent && rotations.has(sent)) reuses++;
      const answer = await fetch(`${upstream}${new URL(req.url).pathname}`, {
        method: req.method,
        headers: { "content-type": req.headers.get("content-type") ?? "" },
        body,
      });
      const text = await answer.text();
      const issued = answer.ok ? JSON.parse(text).refresh_token : undefined;
      if (sent && issued) {
        rotations.set(sent, issued);
        current = issued;
      }
      return new Response(text, {
        status: answer.status,
        headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
      });
    } finally {
      inFlight--;
    }
  });
  return {
    tokenEndpoint: `http://127.0.0.1:${server.addr.port}/oauth2/token`,
    rotations,
    /** The refresh token the server currently accepts. */
    get current(): string | undefined {
      return current;
    },
    set current(value: string | undefined) {
      current = value;
      reuses = 0;
    },
    get reuses(): number {
      return reuses;
    },
    /** Wait until requests that reached the proxy have been answered by the server. */
    async settle(): Promise<void> {
      // Bytes a killed process had sent may still be waiting to be read.
      await new Promise((resolve) => setTimeout(resolve, 50));
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    close: () => server.shutdown(),
  };
}

/**
 * SIGKILL at random moments of refreshing processes, in a loop.
 *
 * What "usable credential" can mean here: the provider rotates refresh
 * tokens and treats a second use of a rotated one as theft, revoking the
 * login. If a process is killed after the server has rotated the token but
 * before the new one reaches the disk, the new refresh token existed only in
 * the dead process's memory; the stored one is spent. No client can avoid
 * that window, since the new token is unknown until the server has
 * committed it, which is why real providers offer a reuse grace period
 * (Auth0's reuse interval, Okta's grace period) and real clients (gh, the
 * Codex and Claude CLIs, Hermes itself) answer a refused refresh token by
 * asking the user to log in again.
 *
 * So after every kill this test requires:
 * - auth.json always parses, and a refresh is never half written: the
 *   login state and its mirror pool row hold the same access and refresh
 *   tokens (one atomic rename wrote both);
 * - when the stored refresh token is the one the server currently accepts
 *   (no kill fell in the window), the credential works: a refresh succeeds
 *   and its token is accepted by the API;
 * - otherwise the login was lost in the window, and it is lost cleanly:
 *   either the stored refresh token is exactly one rotation behind the
 *   server (the lost write, never an older state) and the next refresh fails
 *   with exit 3, or a sibling process already sent that spent token, was
 *   refused, and quarantined the login (tokens removed, `last_auth_error`
 *   recorded, the rest of the file valid). A fresh login (`add`; here a
 *   seeded one) brings it back.
 */
Deno.test("SIGKILL during refreshes never corrupts auth.json nor loses a login outside the rotation window", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const proxy = startRecordingProxy(mock.issuer);
  try {
    const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
    const login = async () => {
      const tokens = await seedLogin(home.path, mock, { tokenEndpoint: proxy.tokenEndpoint });
      proxy.current = tokens.refresh_token;
    };
    await login();
    let intact = 0;
    let lost = 0;
    for (let i = 0; i < 15; i++) {
      // `refresh` forces a request on every run, so every process is a refreshing one.
      const procs = Array.from({ length: 3 }, () => spawnCli(["refresh", "xai-oauth"], { env }));
      const timers = procs.map((p) =>
        setTimeout(() => {
          try {
            p.child.kill("SIGKILL");
          } catch { /* already exited */ }
        }, 30 + Math.random() * 400)
      );
      await Promise.all(procs.map((p) => p.done()));
      timers.forEach(clearTimeout);
      await proxy.settle();

      const auth = await readAuth(home.path); // throws if the file does not parse
      const state = (auth.providers as Json)["xai-oauth"] as Json;
      const tokens = state.tokens as Json;
      const row = ((auth.credential_pool as Json)["xai-oauth"] as Json[])[0];
      const together = `iteration ${i}: state and pool row written together`;
      assert.equal(row.access_token || undefined, tokens.access_token, together);
      assert.equal(row.refresh_token, tokens.refresh_token, together);

      if (tokens.refresh_token === undefined) {
        // A sibling sent the spent token after the kill and quarantined the login.
        assert.ok(proxy.reuses > 0, `iteration ${i}: quarantined without a lost rotation`);
        assert.equal((state.last_auth_error as Json).relogin_required, true);
        assert.equal(row.last_status, "dead");
        lost++;
        await login();
        continue;
      }
      const stored = String(tokens.refresh_token);
      const serverCurrent = proxy.current;
      const check = await runCli(["refresh", "xai-oauth"], { env });
      if (stored === serverCurrent) {
        assert.equal(
          check.code,
          0,
          `iteration ${i}: an intact credential must refresh\n${check.stderr}`,
        );
        const response = await fetch(`${mock.issuer}/oauth2/userinfo`, {
          headers: { authorization: `Bearer ${await storedToken(home.path)}` },
        });
        await response.body?.cancel();
        assert.ok(response.ok, "the refreshed token is accepted");
        intact++;
      } else {
        assert.equal(
          proxy.rotations.get(stored),
          serverCurrent,
          `iteration ${i}: the stored refresh token must be exactly one rotation behind`,
        );
        assert.equal(check.code, 3, check.stderr);
        const dead = ((await readAuth(home.path)).providers as Json)["xai-oauth"] as Json;
        assert.equal((dead.last_auth_error as Json).relogin_required, true);
        lost++;
        await login();
      }
    }
    assert.equal(intact + lost, 15);
    // How often a kill lands in the window depends on the machine (it is ~10 ms of fsync and
    // rename per refresh here); that the intact path was taken at all is what matters.
    assert.ok(intact > 0, `intact ${intact}, lost in the rotation window ${lost}`);
  } finally {
    await proxy.close();
  }
});
