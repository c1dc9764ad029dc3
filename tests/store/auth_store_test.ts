import assert from "node:assert/strict";
import { join } from "node:path";
import { isAuthError } from "../../lib/errors.ts";
import {
  AuthFileError,
  emptyAuthFile,
  parseAuthFile,
  readAuthFile,
  updateAuthFile,
} from "../../lib/store/auth_store.ts";
import { abandonedWaits, withLock } from "../../lib/store/lock.ts";
import { authFilePath, lockFilePath } from "../../lib/store/paths.ts";

const posix = Deno.build.os !== "windows";
const storeModule = new URL("../../lib/store/auth_store.ts", import.meta.url).href;
const fixedNow = () => new Date("2025-06-01T12:34:56.789Z");

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-store-" });
  try {
    await fn(join(dir, "hermes"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

async function seed(home: string, content: string): Promise<void> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(authFilePath(home), content, { mode: 0o600 });
}

/** An auth.json as a newer Hermes might leave it: fields this program has never heard of. */
const HERMES_FILE = {
  version: 1,
  providers: {
    nous: {
      access_token: "n-at",
      agent_key: "ak",
      tls: { insecure: false },
      future: [1, 2.5, null],
    },
    "xai-oauth": { tokens: { access_token: "x-at" }, hermes_added: { keep: true } },
  },
  active_provider: "nous",
  credential_pool: {
    nous: [{
      id: "abc123",
      label: "me",
      auth_type: "oauth",
      priority: 0,
      source: "device_code",
      request_count: 3,
    }],
  },
  suppressed_sources: { openrouter: ["env:OPENROUTER_API_KEY"] },
  updated_at: "2025-01-01T00:00:00+00:00",
  some_future_key: { nested: ["é", "✓"] },
};

Deno.test("readAuthFile on a missing file gives an empty store and writes nothing", async () => {
  await withHome(async (home) => {
    const { data, corrupt } = await readAuthFile(home);
    assert.equal(corrupt, false);
    assert.deepEqual(data, emptyAuthFile());
    await assert.rejects(Deno.stat(home), Deno.errors.NotFound);
  });
});

Deno.test("readAuthFile of an unparseable file reports corrupt and never writes", async () => {
  await withHome(async (home) => {
    await seed(home, "{ not json");
    const { data, corrupt } = await readAuthFile(home);
    assert.equal(corrupt, true);
    assert.deepEqual(data, emptyAuthFile());
    assert.deepEqual(await names(home), ["auth.json"]);
    assert.equal(await Deno.readTextFile(authFilePath(home)), "{ not json");
  });
});

Deno.test("readAuthFile accepts a UTF-8 BOM, as Hermes's utf-8-sig read does", async () => {
  await withHome(async (home) => {
    await seed(home, '\uFEFF{"version": 1, "providers": {"a": {"x": 1}}}');
    const { data, corrupt } = await readAuthFile(home);
    assert.equal(corrupt, false);
    assert.deepEqual(data.providers, { a: { x: 1 } });
  });
});

Deno.test("readAuthFile refuses a file that is not UTF-8 as corrupt, never reads it half-decoded", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home, { recursive: true, mode: 0o700 });
    // A Latin-1 "é" inside a label: Deno.readTextFile would quietly make it U+FFFD.
    const bytes = new TextEncoder().encode('{"version": 1, "providers": {"a": {"label": "caf?"}}}');
    bytes[bytes.indexOf(63)] = 0xe9;
    await Deno.writeFile(authFilePath(home), bytes, { mode: 0o600 });
    const view = await readAuthFile(home);
    assert.equal(view.corrupt, true);
    assert.match(view.problem ?? "", /not valid UTF-8/);
  });
});

Deno.test("readAuthFile keeps a real U+FFFD character as it is written", async () => {
  await withHome(async (home) => {
    await seed(home, '{"version": 1, "providers": {"a": {"label": "\uFFFD-ok"}}}');
    const { data, corrupt } = await readAuthFile(home);
    assert.equal(corrupt, false);
    assert.equal(data.providers.a.label, "\uFFFD-ok");
  });
});

Deno.test("JSON that is not a Hermes store object counts as corrupt", () => {
  for (
    const text of ["[]", '"x"', "null", "42", '{"providers": []}', '{"credential_pool": "no"}', "{"]
  ) {
    assert.throws(
      () => parseAuthFile(text),
      (e) => e instanceof AuthFileError && e.code === "auth_file_corrupt",
      text,
    );
  }
  assert.deepEqual(parseAuthFile("{}"), { version: 1, providers: {} });
});

Deno.test("an unreadable auth.json is an error, not an empty store a save could wipe", async () => {
  await withHome(async (home) => {
    // A directory where the file should be: unreadable for every user, root included.
    await Deno.mkdir(join(authFilePath(home), "inside"), { recursive: true });
    await assert.rejects(readAuthFile(home), (e) => isAuthError(e, "auth_file_unreadable"));
    await assert.rejects(
      updateAuthFile(home, () => {}),
      (e) => isAuthError(e, "auth_file_unreadable"),
    );
    assert.deepEqual(await names(authFilePath(home)), ["inside"]);
  });
});

Deno.test("a first update creates the home 0700 and auth.json 0600, as 2-space JSON with a trailing newline", async () => {
  await withHome(async (home) => {
    const result = await updateAuthFile(home, (data) => {
      data.providers.spotify = { access_token: "t" };
      return "done";
    }, { now: fixedNow });
    assert.equal(result, "done");
    const text = await Deno.readTextFile(authFilePath(home));
    const expected = { ...emptyAuthFile(), providers: { spotify: { access_token: "t" } } };
    assert.equal(
      text,
      JSON.stringify({ ...expected, updated_at: "2025-06-01T12:34:56.789000+00:00" }, null, 2) +
        "\n",
    );
    if (posix) {
      assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(authFilePath(home))).mode! & 0o777, 0o600);
    }
    assert.deepEqual(await names(home), ["auth.json", "auth.lock"]);
  });
});

Deno.test("an update tightens an existing world-readable home to 0700, as Hermes does", {
  ignore: !posix,
}, async () => {
  await withHome(async (home) => {
    await Deno.mkdir(home);
    await Deno.chmod(home, 0o755);
    await updateAuthFile(home, () => {});
    assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700);
  });
});

Deno.test("a write keeps unknown keys, unknown fields and another provider's data exactly", async () => {
  await withHome(async (home) => {
    await seed(home, JSON.stringify(HERMES_FILE, null, 2));
    await updateAuthFile(home, (data) => {
      data.providers["xai-oauth"].last_refresh = "2025-06-01T12:34:56Z";
    }, { now: fixedNow });
    const written = JSON.parse(await Deno.readTextFile(authFilePath(home)));
    const expected = structuredClone(HERMES_FILE) as Record<string, unknown> & typeof HERMES_FILE;
    (expected.providers["xai-oauth"] as Record<string, unknown>).last_refresh =
      "2025-06-01T12:34:56Z";
    expected.updated_at = "2025-06-01T12:34:56.789000+00:00";
    assert.deepEqual(written, expected);
    assert.deepEqual(Object.keys(written), Object.keys(HERMES_FILE), "key order is kept");
  });
});

Deno.test("a failing mutate leaves auth.json byte-identical and the error reaches the caller", async () => {
  await withHome(async (home) => {
    const original = JSON.stringify(HERMES_FILE); // compact on purpose: a rewrite would show
    await seed(home, original);
    const boom = new Error("mutate failed");
    await assert.rejects(
      updateAuthFile(home, (data) => {
        data.providers = {};
        throw boom;
      }),
      (e) => e === boom,
    );
    await assert.rejects(updateAuthFile(home, () => Promise.reject(boom)), (e) => e === boom);
    assert.equal(await Deno.readTextFile(authFilePath(home)), original);
    assert.deepEqual(await names(home), ["auth.json", "auth.lock"]);
  });
});

Deno.test("mutate may be async and sees the file as it is under the lock", async () => {
  await withHome(async (home) => {
    await seed(home, JSON.stringify({ version: 1, providers: { a: { n: 1 } } }));
    const seen = await updateAuthFile(home, async (data) => {
      await new Promise((r) => setTimeout(r, 5));
      return data.providers.a.n;
    });
    assert.equal(seen, 1);
  });
});

Deno.test("a corrupt auth.json is copied aside before anything is written", async () => {
  await withHome(async (home) => {
    const garbage = "{ half a file \u0000";
    await seed(home, garbage);
    await updateAuthFile(home, (data) => {
      data.providers.spotify = { access_token: "t" };
    }, { now: fixedNow });
    assert.equal(await Deno.readTextFile(join(home, "auth.json.corrupt")), garbage);
    if (posix) {
      assert.equal((await Deno.stat(join(home, "auth.json.corrupt"))).mode! & 0o777, 0o600);
    }
    const written = JSON.parse(await Deno.readTextFile(authFilePath(home)));
    assert.deepEqual(written.providers, { spotify: { access_token: "t" } });
  });
});

Deno.test("a second corruption does not overwrite the first copy", async () => {
  await withHome(async (home) => {
    await seed(home, "first garbage");
    await updateAuthFile(home, () => {}, { now: fixedNow });
    await Deno.writeTextFile(authFilePath(home), "[]");
    await updateAuthFile(home, () => {}, { now: fixedNow });
    await Deno.writeTextFile(authFilePath(home), '"third"');
    await updateAuthFile(home, () => {}, { now: fixedNow });
    assert.equal(await Deno.readTextFile(join(home, "auth.json.corrupt")), "first garbage");
    assert.equal(await Deno.readTextFile(join(home, "auth.json.corrupt.20250601T123456Z")), "[]");
    assert.equal(
      await Deno.readTextFile(join(home, "auth.json.corrupt.20250601T123456Z-1")),
      '"third"',
    );
  });
});

Deno.test("an update waits for the lock and gives lock_timeout when it is held too long", async () => {
  await withHome(async (home) => {
    await seed(home, "{}");
    let letGo = () => {};
    const held = new Promise<void>((resolve) => letGo = resolve);
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => locked = resolve);
    // The update below is not handed the holder's lock, so it waits like any other caller.
    const holding = withLock(lockFilePath(home), () => {
      locked();
      return held;
    });
    await isLocked;
    try {
      await assert.rejects(
        updateAuthFile(home, () => {}, { timeoutMs: 150 }),
        (e) => isAuthError(e, "lock_timeout") && e.message.includes(lockFilePath(home)),
      );
    } finally {
      letGo();
      await holding;
      await abandonedWaits(); // the update's wait, granted and let go once the holder was done
    }
    assert.equal(await Deno.readTextFile(authFilePath(home)), "{}");
  });
});

Deno.test("an update inside withLock on the same home joins the lock (read, refresh, write)", async () => {
  await withHome(async (home) => {
    const result = await withLock(lockFilePath(home), (lock) =>
      updateAuthFile(home, (data) => {
        data.providers.a = {};
        return "joined";
      }, { timeoutMs: 150, lock }));
    assert.equal(result, "joined");
  });
});

Deno.test("20 processes updating at once each keep their change", async () => {
  await withHome(async (home) => {
    await seed(home, JSON.stringify({ version: 1, providers: {}, untouched: "yes" }));
    const runs = Array.from({ length: 20 }, (_, i) => {
      // The pause inside mutate widens the read-modify-write window: without the lock, writes would be lost.
      const code = `
        import { updateAuthFile } from ${JSON.stringify(storeModule)};
        await updateAuthFile(${JSON.stringify(home)}, async (data) => {
          await new Promise((r) => setTimeout(r, 10));
          data["key_${i}"] = ${i};
        }, { timeoutMs: 60000 });`;
      return new Deno.Command(Deno.execPath(), {
        args: ["eval", code],
        stdout: "null",
        stderr: "piped",
      }).output();
    });
    const outputs = await Promise.all(runs);
    for (const out of outputs) assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const data = JSON.parse(await Deno.readTextFile(authFilePath(home)));
    for (let i = 0; i < 20; i++) assert.equal(data[`key_${i}`], i, `key_${i} lost`);
    assert.equal(data.untouched, "yes");
    assert.deepEqual((await names(home)).filter((n) => n.endsWith(".tmp")), []);
  });
});

Deno.test("readers never see a half-written auth.json while another process writes", async () => {
  await withHome(async (home) => {
    await seed(home, JSON.stringify({ version: 1, providers: {}, blob: "a".repeat(200_000) }));
    const code = `
      import { updateAuthFile } from ${JSON.stringify(storeModule)};
      for (let i = 0; i < 20; i++) {
        await updateAuthFile(${
      JSON.stringify(home)
    }, (data) => { data.blob = String(i % 10).repeat(200_000); });
      }`;
    const writer = new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdout: "null",
      stderr: "piped",
    })
      .output();
    let reads = 0;
    let done = false;
    const finished = writer.then((out) => {
      done = true;
      return out;
    });
    while (!done) {
      const { corrupt } = await readAuthFile(home);
      assert.equal(corrupt, false, "a reader saw a half-written file");
      reads++;
      await new Promise((r) => setTimeout(r, 1));
    }
    const out = await finished;
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.ok(reads > 0);
  });
});
