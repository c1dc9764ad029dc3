import assert from "node:assert/strict";
import { join } from "node:path";
import { Exit, isAuthError } from "../../lib/errors.ts";
import {
  finishPending,
  type FinishPendingOptions,
  type PendingLogin,
  pendingPath,
  savePending,
} from "../../lib/store/pending.ts";
import { rejectsWith } from "../rejects.ts";

const posix = Deno.build.os !== "windows";
const pendingModule = new URL("../../lib/store/pending.ts", import.meta.url).href;
const CREATED = new Date("2025-06-01T12:00:00.000Z");

async function withTempHome(fn: (home: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-pending-" });
  try {
    await fn(join(dir, "hermes"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pendingLogin(overrides: Partial<PendingLogin> = {}): PendingLogin {
  return {
    provider: "xai-oauth",
    state: "state-1",
    nonce: "nonce-1",
    codeVerifier: "verifier-secret-1",
    codeChallenge: "challenge-1",
    redirectUri: "http://127.0.0.1:56121/callback",
    clientId: "b1a00492-073a-47ea-816f-4c329264a828",
    createdAt: CREATED.toISOString(),
    authorizationEndpoint: "https://auth.x.ai/oauth2/authorize",
    tokenEndpoint: "https://auth.x.ai/oauth2/token",
    issuer: "https://auth.x.ai",
    ...overrides,
  };
}

/** Finish with a `finish` that succeeds and hands back the pending login it was given. */
function takePending(
  home: string,
  provider: string,
  state: string | null,
  options: FinishPendingOptions = {},
): Promise<PendingLogin> {
  return finishPending(home, provider, state, (p) => Promise.resolve(p), options);
}

/** One minute after the login was saved. */
const soon = () => new Date(CREATED.getTime() + 60_000);

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("a saved pending login comes back exactly as it was saved", async () => {
  await withTempHome(async (home) => {
    const saved = pendingLogin();
    const path = await savePending(home, saved);
    assert.equal(path, join(home, "pending", "xai-oauth.json"));
    const taken = await takePending(home, "xai-oauth", "state-1", { now: soon });
    assert.deepEqual(taken, saved);
  });
});

Deno.test("a login without a nonce round-trips without one", async () => {
  await withTempHome(async (home) => {
    const { nonce: _, ...saved } = pendingLogin({ provider: "spotify" });
    await savePending(home, saved);
    const taken = await takePending(home, "spotify", "state-1", { now: soon });
    assert.deepEqual(taken, saved);
    assert.equal("nonce" in taken, false);
  });
});

Deno.test({
  name: "the pending file is 0600 in a 0700 directory (it holds the code verifier)",
  ignore: !posix,
  fn: async () => {
    await withTempHome(async (home) => {
      const path = await savePending(home, pendingLogin());
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(join(home, "pending"))).mode! & 0o777, 0o700);
      const text = await Deno.readTextFile(path);
      assert.match(text, /verifier-secret-1/);
    });
  },
});

Deno.test({
  name: "an existing loose pending directory is tightened to 0700",
  ignore: !posix,
  fn: async () => {
    await withTempHome(async (home) => {
      await Deno.mkdir(join(home, "pending"), { recursive: true });
      await Deno.chmod(join(home, "pending"), 0o755);
      await savePending(home, pendingLogin());
      assert.equal((await Deno.stat(join(home, "pending"))).mode! & 0o777, 0o700);
    });
  },
});

Deno.test("a new --no-wait for the same provider replaces the older pending login", async () => {
  await withTempHome(async (home) => {
    await savePending(home, pendingLogin({ state: "old", codeVerifier: "old-verifier" }));
    await savePending(home, pendingLogin({ state: "new", codeVerifier: "new-verifier" }));
    await rejectsWith(takePending(home, "xai-oauth", "old", { now: soon }), "state_mismatch");
    const taken = await takePending(home, "xai-oauth", "new", { now: soon });
    assert.equal(taken.codeVerifier, "new-verifier");
  });
});

Deno.test("pending logins for different providers coexist", async () => {
  await withTempHome(async (home) => {
    await savePending(home, pendingLogin({ state: "x" }));
    await savePending(home, pendingLogin({ provider: "spotify", state: "s" }));
    assert.equal((await takePending(home, "spotify", "s", { now: soon })).provider, "spotify");
    assert.equal((await takePending(home, "xai-oauth", "x", { now: soon })).provider, "xai-oauth");
  });
});

Deno.test("no pending login is exit 3 and names the --no-wait command", async () => {
  await withTempHome(async (home) => {
    const e = await rejectsWith(takePending(home, "xai-oauth", "state-1"), "no_pending_login");
    assert.equal(e.exit, Exit.LOGIN_REQUIRED);
    assert.match(e.fix ?? "", /hermes-auth add xai-oauth --no-wait/);
    assert.equal(await exists(join(home, "pending")), false, "a take creates nothing");
  });
});

Deno.test("an expired pending login is exit 4 and removed", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    const late = () => new Date(CREATED.getTime() + 10 * 60_000 + 1);
    const e = await rejectsWith(
      takePending(home, "xai-oauth", "state-1", { now: late }),
      "pending_login_expired",
    );
    assert.equal(e.exit, Exit.TIMEOUT);
    assert.match(e.fix ?? "", /--no-wait/);
    assert.equal(await exists(path), false);
    await rejectsWith(takePending(home, "xai-oauth", "state-1", { now: soon }), "no_pending_login");
  });
});

Deno.test("maxAgeMs shortens the lifetime of a pending login", async () => {
  await withTempHome(async (home) => {
    await savePending(home, pendingLogin());
    await rejectsWith(
      takePending(home, "xai-oauth", "state-1", { now: soon, maxAgeMs: 30_000 }),
      "pending_login_expired",
    );
  });
});

Deno.test("a state mismatch is exit 5 and keeps the pending login", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    const e = await rejectsWith(
      takePending(home, "xai-oauth", "someone-elses-state", { now: soon }),
      "state_mismatch",
    );
    assert.equal(e.exit, Exit.DENIED);
    assert.match(e.fix ?? "", /the pending login is kept/);
    assert.equal(await exists(path), true);
    const taken = await takePending(home, "xai-oauth", "state-1", { now: soon });
    assert.equal(taken.state, "state-1");
  });
});

Deno.test("without a state (a bare code) the provider's pending login is the one finished", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    const taken = await takePending(home, "xai-oauth", null, { now: soon });
    assert.equal(taken.codeVerifier, "verifier-secret-1");
    assert.equal(await exists(path), false);
  });
});

Deno.test("a finish that fails keeps the pending login, and a later finish completes it", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    const refused = Object.assign(new Error("invalid_grant"), { code: "code_rejected" });
    await assert.rejects(
      finishPending(home, "xai-oauth", "state-1", () => Promise.reject(refused), { now: soon }),
      (e) => e === refused,
    );
    assert.equal(await exists(path), true, "a refused code must not cost the login");
    const result = await finishPending(
      home,
      "xai-oauth",
      "state-1",
      (p) => Promise.resolve(`used ${p.codeVerifier}`),
      { now: soon },
    );
    assert.equal(result, "used verifier-secret-1");
    assert.equal(await exists(path), false);
  });
});

Deno.test("an error that ends the login (an explicit denial) removes the pending login", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    const denied = Object.assign(new Error("denied"), { code: "access_denied" });
    await assert.rejects(
      finishPending(home, "xai-oauth", "state-1", () => Promise.reject(denied), {
        now: soon,
        ends: (e) => (e as { code?: string }).code === "access_denied",
      }),
      (e) => e === denied,
    );
    assert.equal(await exists(path), false);
  });
});

Deno.test("a pending login is used once: the second take fails", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    await takePending(home, "xai-oauth", "state-1", { now: soon });
    assert.equal(await exists(path), false);
    await rejectsWith(takePending(home, "xai-oauth", "state-1", { now: soon }), "no_pending_login");
  });
});

Deno.test("an unreadable pending file is removed and reported as no pending login", async () => {
  await withTempHome(async (home) => {
    const path = await savePending(home, pendingLogin());
    await Deno.writeTextFile(path, "{not json");
    await rejectsWith(takePending(home, "xai-oauth", "state-1", { now: soon }), "no_pending_login");
    assert.equal(await exists(path), false);
  });
});

Deno.test("a provider id that is not a plain name never becomes a path", () => {
  for (const id of ["../auth", "a/b", "", ".hidden"]) {
    assert.throws(() => pendingPath("/tmp/h", id), (e) => isAuthError(e, "usage"));
  }
});

Deno.test("two processes finishing the same pending login at once: exactly one does", async () => {
  await withTempHome(async (home) => {
    await savePending(home, pendingLogin({ createdAt: new Date().toISOString() }));
    const sync = join(home, "..");
    const child = (n: number) => {
      const code = `
        import { finishPending } from ${JSON.stringify(pendingModule)};
        const sync = ${JSON.stringify(sync)};
        await Deno.writeTextFile(sync + "/ready-${n}", "");
        while (true) {
          try { await Deno.lstat(sync + "/go"); break; } catch { await new Promise((r) => setTimeout(r, 2)); }
        }
        try {
          const v = await finishPending(${JSON.stringify(home)}, "xai-oauth", "state-1",
            async (p) => { await new Promise((r) => setTimeout(r, 50)); return p.codeVerifier; });
          console.log("took " + v);
        } catch (e) {
          console.log("failed " + e.code);
        }`;
      return new Deno.Command(Deno.execPath(), {
        args: ["eval", code],
        stdout: "piped",
        stderr: "inherit",
      }).output();
    };
    const runs = [child(1), child(2)];
    const deadline = Date.now() + 30_000;
    while (!(await exists(join(sync, "ready-1"))) || !(await exists(join(sync, "ready-2")))) {
      assert.ok(Date.now() < deadline, "children did not start");
      await new Promise((r) => setTimeout(r, 10));
    }
    await Deno.writeTextFile(join(sync, "go"), "");
    const results = await Promise.all(runs);
    const lines = results.map((r) => {
      assert.equal(r.code, 0);
      return new TextDecoder().decode(r.stdout).trim();
    }).sort();
    assert.deepEqual(lines, ["failed no_pending_login", "took verifier-secret-1"]);
  });
});
