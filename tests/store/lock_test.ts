import assert from "node:assert/strict";
import { join } from "node:path";
import { isAuthError } from "../../lib/errors.ts";
import { abandonedWaits, type HeldLock, withLock } from "../../lib/store/lock.ts";

const posix = Deno.build.os !== "windows";
const lockModule = new URL("../../lib/store/lock.ts", import.meta.url).href;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-lock-" });
  try {
    await fn(dir);
  } finally {
    // A wait a test gave up on stays blocked in flock until its holder (released by now) lets go.
    await abandonedWaits();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A child process that takes the lock, prints "locked", and keeps it until
 * {@link Holder.release}. The environment is inherited (DENO_DIR, certs…).
 */
class Holder {
  #child: Deno.ChildProcess;
  #reader: ReadableStreamDefaultReader<string>;
  #seen = "";

  constructor(command: string, args: string[]) {
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** A Deno child holding the lock through our own withLock. */
  static deno(lockPath: string): Holder {
    const code = `
      import { withLock } from ${JSON.stringify(lockModule)};
      await withLock(${JSON.stringify(lockPath)}, async () => {
        console.log("locked");
        await Deno.stdin.read(new Uint8Array(8));
      });
      console.log("released");`;
    return new Holder(Deno.execPath(), ["eval", code]);
  }

  /** A Python child holding the lock exactly as Hermes does: fcntl.flock LOCK_EX on a+. */
  static python(lockPath: string): Holder {
    const code = `
import fcntl, sys
f = open(sys.argv[1], "a+")
fcntl.flock(f.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
fcntl.flock(f.fileno(), fcntl.LOCK_UN)
print("released", flush=True)`;
    return new Holder("python3", ["-c", code, lockPath]);
  }

  async waitFor(word: string): Promise<void> {
    while (!this.#seen.includes(word)) {
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`child ended before printing "${word}": ${this.#seen}`);
      this.#seen += value;
    }
  }

  /** Let go of the lock and wait for the child to end. */
  async release(): Promise<void> {
    const writer = this.#child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    await this.waitFor("released");
    while (!(await this.#reader.read()).done) { /* drain */ }
    const status = await this.#child.status;
    assert.equal(status.code, 0);
  }
}

async function hasPython(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", "import fcntl"] }).output();
    return out.success;
  } catch {
    return false;
  }
}

const python = posix && await hasPython();

/**
 * Whether Hermes's Python could take auth.lock now, trying it the way its
 * `_auth_store_lock` does (LOCK_EX | LOCK_NB): "free" or "busy".
 */
async function hermesTakes(lockPath: string): Promise<string> {
  const probe = `
import fcntl, sys
f = open(sys.argv[1], "a+")
try:
    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("busy")`;
  const out = await new Deno.Command("python3", { args: ["-c", probe, lockPath] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
if (!python) {
  // deno-lint-ignore no-console
  console.log(
    "note: python3 with fcntl not found; the Hermes (Python flock) compatibility tests are skipped",
  );
}

Deno.test("withLock creates the lock file 0600 in a new 0700 directory and returns fn's result", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "home", "auth.lock");
    const result = await withLock(lockPath, () => Promise.resolve(42));
    assert.equal(result, 42);
    if (posix) {
      assert.equal((await Deno.stat(lockPath)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(join(dir, "home"))).mode! & 0o777, 0o700);
    }
  });
});

Deno.test("the lock is released when fn throws", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    await assert.rejects(withLock(lockPath, () => Promise.reject(new Error("boom"))), /boom/);
    assert.equal(
      await withLock(lockPath, () => Promise.resolve("again"), { timeoutMs: 200 }),
      "again",
    );
  });
});

Deno.test("independent callers in one process take turns", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    let inside = 0;
    let overlaps = 0;
    const worker = () =>
      withLock(lockPath, async () => {
        inside++;
        if (inside > 1) overlaps++;
        await new Promise((r) => setTimeout(r, 20));
        inside--;
      });
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.equal(overlaps, 0);
  });
});

Deno.test("a withLock nested inside fn joins the held lock instead of waiting for itself", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const result = await withLock(
      lockPath,
      (held) => withLock(lockPath, () => Promise.resolve("inner"), { timeoutMs: 200, lock: held }),
      { timeoutMs: 200 },
    );
    assert.equal(result, "inner");
  });
});

Deno.test("the held lock names the same file however the path was written", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const result = await withLock(
      lockPath,
      (held) =>
        withLock(join(dir, ".", "sub", "..", "auth.lock"), () => Promise.resolve("joined"), {
          timeoutMs: 200,
          lock: held,
        }),
      { timeoutMs: 200 },
    );
    assert.equal(result, "joined");
  });
});

Deno.test("without the held lock a nested withLock waits for it, like any other caller", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    await assert.rejects(
      withLock(lockPath, () => withLock(lockPath, () => Promise.resolve(), { timeoutMs: 150 })),
      (e) => isAuthError(e, "lock_timeout"),
    );
  });
});

Deno.test("a held lock joins only its own file, and only until its withLock returns", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const otherPath = join(dir, "other.lock");
    let kept: HeldLock | undefined;
    await withLock(lockPath, async (held) => {
      kept = held;
      assert.equal(held.active, true);
      // Another file is locked for real: a second, independent caller has to wait for it.
      await withLock(otherPath, async () => {
        await assert.rejects(
          withLock(otherPath, () => Promise.resolve(), { timeoutMs: 150 }),
          (e) => isAuthError(e, "lock_timeout"),
        );
      }, { lock: held });
    });
    assert.equal(kept!.active, false);
    // A released lock is not joined but taken again, so it still excludes independent callers.
    let inside = 0;
    let overlaps = 0;
    const worker = () =>
      withLock(lockPath, async () => {
        if (++inside > 1) overlaps++;
        await new Promise((r) => setTimeout(r, 20));
        inside--;
      }, { lock: kept });
    await Promise.all([worker(), worker(), worker()]);
    assert.equal(overlaps, 0);
  });
});

Deno.test("a second process waits until the first releases the lock", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    let acquired = false;
    const waiting = withLock(lockPath, () => {
      acquired = true;
      return Promise.resolve();
    });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(acquired, false, "must not get the lock while another process holds it");
    await holder.release();
    await waiting;
    assert.equal(acquired, true);
  });
});

Deno.test("a lock held past the timeout gives lock_timeout naming the lock file", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    try {
      let called = false;
      const started = performance.now();
      await assert.rejects(
        withLock(lockPath, () => {
          called = true;
          return Promise.resolve();
        }, { timeoutMs: 300 }),
        (e) => {
          assert.ok(isAuthError(e, "lock_timeout"));
          assert.equal(e.exit, 1);
          // `token` quotes it inside its warning: "(… auth.lock); using the current one".
          assert.equal(
            e.message,
            `timed out after 0.3 s waiting for the auth store lock ${lockPath}`,
          );
          if (posix) {
            assert.ok(
              e.fix!.includes(`lsof ${lockPath}`) && e.fix!.includes(`fuser ${lockPath}`),
              e.fix,
            );
          }
          return true;
        },
      );
      const waited = performance.now() - started;
      assert.equal(called, false);
      assert.ok(waited >= 290 && waited < 3000, `waited ${waited} ms`);
    } finally {
      await holder.release();
    }
  });
});

Deno.test(
  "withLock waits for Hermes's Python fcntl.flock on auth.lock",
  { ignore: !python },
  async () => {
    await withTempDir(async (dir) => {
      const lockPath = join(dir, "auth.lock");
      const holder = Holder.python(lockPath);
      await holder.waitFor("locked");
      let acquired = false;
      const waiting = withLock(lockPath, () => {
        acquired = true;
        return Promise.resolve();
      });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(acquired, false, "must not get the lock while Python holds it");
      await holder.release();
      await waiting;
      assert.equal(acquired, true);
    });
  },
);

Deno.test(
  "Hermes's Python cannot take auth.lock while withLock holds it",
  { ignore: !python },
  async () => {
    await withTempDir(async (dir) => {
      const lockPath = join(dir, "auth.lock");
      const run = () => hermesTakes(lockPath);
      assert.equal(await withLock(lockPath, run), "busy");
      assert.equal(await run(), "free");
    });
  },
);

Deno.test("Ctrl-C while waiting for the lock ends the wait with interrupted (exit 130), not a 10 s timeout", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "auth.lock");
    const controller = new AbortController();
    await withLock(path, async () => {
      // An independent caller in this process waits like any other (no held-lock token).
      const waiting = withLock(path, () => Promise.resolve("got it"), {
        timeoutMs: 10_000,
        signal: controller.signal,
      });
      const timer = setTimeout(() => controller.abort(), 100);
      await assert.rejects(waiting, (e) => isAuthError(e, "interrupted") && e.exit === 130);
      clearTimeout(timer);
    });
  });
});

Deno.test("a wait given up on stays in flock until the holder lets go, then keeps nothing", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    try {
      await assert.rejects(
        withLock(lockPath, () => Promise.resolve(), { timeoutMs: 200 }),
        (e) => isAuthError(e, "lock_timeout"),
      );
      const timer = AbortSignal.timeout(300);
      const later = new Promise<string>((r) => timer.onabort = () => r("pending"));
      assert.equal(
        await Promise.race([abandonedWaits().then(() => "settled"), later]),
        "pending",
        "nothing can call a blocked flock back",
      );
      timer.onabort = null;
    } finally {
      await holder.release();
    }
    // Granted when the holder let go, on a file description nothing holds any more: let go.
    await abandonedWaits();
    const probe = await Deno.open(lockPath, { read: true, write: true });
    try {
      assert.equal(probe.tryLockSync(true), true);
    } finally {
      probe.close();
    }
  });
});

Deno.test("waiters that find the lock busy run afterWait together, under a shared lock, once the holder lets go", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    const inside = new Set<number>();
    let together = 0;
    let exclusiveRuns = 0;
    let everyone!: () => void;
    const allInside = new Promise<void>((resolve) => everyone = resolve);
    const waiter = (n: number) =>
      withLock(lockPath, () => {
        exclusiveRuns++;
        return Promise.resolve("fn");
      }, {
        timeoutMs: 5_000,
        afterWait: async () => {
          inside.add(n);
          together = Math.max(together, inside.size);
          if (inside.size === 3) everyone();
          // An exclusive lock would keep the others out, and this would time out.
          const timer = AbortSignal.timeout(3_000);
          await Promise.race([allInside, new Promise((r) => timer.onabort = r)]);
          timer.onabort = null;
          inside.delete(n);
          return `shared ${n}`;
        },
      });
    const waiting = [waiter(1), waiter(2), waiter(3)];
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(inside.size, 0, "afterWait must wait for the holder");
    await holder.release();
    assert.deepEqual(await Promise.all(waiting), ["shared 1", "shared 2", "shared 3"]);
    assert.equal(together, 3);
    assert.equal(exclusiveRuns, 0, "a value from afterWait ends the call without fn");
  });
});

Deno.test("afterWait returning undefined goes on to the exclusive lock and fn; a free lock skips afterWait", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const seen: string[] = [];
    const options = {
      afterWait: () => {
        seen.push("afterWait");
        return Promise.resolve(undefined);
      },
    };
    assert.equal(await withLock(lockPath, () => Promise.resolve("free"), options), "free");
    assert.equal(seen.length, 0, "the lock was free at once: nothing to wait for or look at");

    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    const waiting = withLock(lockPath, () => {
      seen.push("fn");
      return Promise.resolve("exclusive");
    }, options);
    await new Promise((r) => setTimeout(r, 100));
    await holder.release();
    assert.equal(await waiting, "exclusive");
    assert.deepEqual(seen, ["afterWait", "fn"]);
  });
});

Deno.test(
  "Hermes's Python cannot take auth.lock while afterWait holds it shared",
  { ignore: !python },
  async () => {
    await withTempDir(async (dir) => {
      const lockPath = join(dir, "auth.lock");
      const run = () => hermesTakes(lockPath);
      const holder = Holder.deno(lockPath);
      await holder.waitFor("locked");
      const waiting = withLock(lockPath, () => Promise.resolve("fn"), { afterWait: run });
      await new Promise((r) => setTimeout(r, 100));
      await holder.release();
      assert.equal(await waiting, "busy");
    });
  },
);

Deno.test("onWait is told once, with the lock file, when a wait lasts noticeAfterMs", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    const told: { path: string; waitedMs: number; timeoutMs: number }[] = [];
    try {
      await assert.rejects(
        withLock(lockPath, () => Promise.resolve(), {
          timeoutMs: 700,
          noticeAfterMs: 150,
          onWait: (wait) => told.push(wait),
          // Both phases (shared, then exclusive) share one notice and one deadline.
          afterWait: () => Promise.resolve(undefined),
        }),
        (e) => isAuthError(e, "lock_timeout"),
      );
    } finally {
      await holder.release();
    }
    assert.equal(told.length, 1);
    assert.equal(told[0].path, lockPath);
    assert.equal(told[0].timeoutMs, 700);
    assert.ok(told[0].waitedMs >= 150 && told[0].waitedMs < 700, `told at ${told[0].waitedMs} ms`);
  });
});

Deno.test("a wait reports its limit exactly as given, whatever the clock reads when it starts", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const limit = 200;
    // A start at which `start + limit - start` is not `limit` in floating point (1 in 20 are).
    let start = 1000.1;
    while (start + limit - start === limit) start += 0.37;
    const told: number[] = [];
    await withLock(lockPath, async () => {
      const real = performance.now.bind(performance);
      const t0 = real();
      let first = true;
      // The wait's first reading of the clock is its start; later ones move on from there.
      performance.now = () => first ? (first = false, start) : start + (real() - t0);
      try {
        await assert.rejects(
          withLock(lockPath, () => Promise.resolve(), {
            timeoutMs: limit,
            noticeAfterMs: 50,
            onWait: (wait) => told.push(wait.timeoutMs),
          }),
          (e) => isAuthError(e, "lock_timeout") && e.message.includes("after 0.2 s"),
        );
      } finally {
        performance.now = real;
      }
    });
    assert.deepEqual(told, [limit]);
  });
});

Deno.test("onWait is not called when the lock is free, nor when it comes before noticeAfterMs", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    let told = 0;
    const onWait = () => told++;
    assert.equal(
      await withLock(lockPath, () => Promise.resolve("free"), { onWait, noticeAfterMs: 0 }),
      "free",
    );
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    const waiting = withLock(lockPath, () => Promise.resolve("after"), {
      onWait,
      noticeAfterMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 100));
    await holder.release();
    assert.equal(await waiting, "after");
    assert.equal(told, 0);
  });
});

Deno.test("a waiter blocks in flock until the holder lets go, instead of retrying every 50 ms", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    const prototype = Deno.FsFile.prototype;
    const { tryLockSync, lock } = prototype;
    let tries = 0;
    let blocking = 0;
    prototype.tryLockSync = function (this: Deno.FsFile, exclusive?: boolean) {
      tries++;
      return tryLockSync.call(this, exclusive);
    };
    prototype.lock = function (this: Deno.FsFile, exclusive?: boolean) {
      blocking++;
      return lock.call(this, exclusive);
    };
    try {
      const waiting = withLock(lockPath, () => Promise.resolve("got it"));
      await new Promise((r) => setTimeout(r, 1_200));
      // Polling would have tried ~24 times by now, and woken ~24 times.
      assert.equal(tries, 2, "one try before the wait, one as it starts");
      assert.equal(blocking, 1);
      await holder.release();
      assert.equal(await waiting, "got it");
    } finally {
      prototype.tryLockSync = tryLockSync;
      prototype.lock = lock;
    }
  });
});

Deno.test("a holder that unlocks without closing hands the lock over at once", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    // Another open file description of auth.lock, in this process: flock conflicts all the same.
    const holder = await Deno.open(lockPath, { read: true, write: true, create: true });
    try {
      await holder.lock(true);
      let unlockedAt = Infinity;
      const waiting = withLock(lockPath, () => Promise.resolve(performance.now() - unlockedAt), {
        timeoutMs: 5_000,
      });
      await new Promise((r) => setTimeout(r, 200));
      unlockedAt = performance.now();
      await holder.unlock(); // no close: nothing but the lock itself says it is free
      const after = await waiting;
      // The watch this replaced needed its safety retry, a second after the wait began.
      assert.ok(after < 700, `took the lock ${Math.round(after)} ms after the unlock`);
    } finally {
      holder.close();
    }
  });
});

Deno.test("a signal given as a function is asked for only when the wait reaches its notice", async () => {
  await withTempDir(async (dir) => {
    const lockPath = join(dir, "auth.lock");
    const controller = new AbortController();
    const asked: number[] = [];
    let started = 0;
    let asking!: () => void;
    const askedFor = new Promise<void>((resolve) => asking = resolve);
    const signal = () => {
      asked.push(performance.now() - started);
      asking();
      return controller.signal;
    };
    assert.equal(await withLock(lockPath, () => Promise.resolve("free"), { signal }), "free");
    assert.deepEqual(asked, [], "a lock free at once never asks");

    const holder = Holder.deno(lockPath);
    await holder.waitFor("locked");
    try {
      started = performance.now();
      const waiting = withLock(lockPath, () => Promise.resolve("got it"), {
        signal,
        noticeAfterMs: 300,
        timeoutMs: 10_000,
      });
      await askedFor;
      assert.equal(asked.length, 1);
      assert.ok(
        asked[0] >= 300,
        `asked ${Math.round(asked[0])} ms into the wait, before its notice`,
      );
      controller.abort();
      await assert.rejects(waiting, (e) => isAuthError(e, "interrupted") && e.exit === 130);
      assert.equal(asked.length, 1, "asked once");
    } finally {
      await holder.release();
    }
  });
});
