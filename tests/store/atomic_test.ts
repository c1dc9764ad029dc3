import assert from "node:assert/strict";
import { join } from "node:path";
import { ensurePrivateDir, tightenPrivateDir, writeFileAtomic } from "../../lib/store/atomic.ts";

const posix = Deno.build.os !== "windows";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-auth-atomic-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("ensurePrivateDir creates every missing directory 0700", async () => {
  await withTempDir(async (dir) => {
    const deep = join(dir, "a", "b", "c");
    await ensurePrivateDir(deep);
    if (posix) {
      assert.equal(await mode(join(dir, "a")), 0o700);
      assert.equal(await mode(join(dir, "a", "b")), 0o700);
      assert.equal(await mode(deep), 0o700);
    }
  });
});

Deno.test(
  "ensurePrivateDir leaves an existing directory's mode alone",
  { ignore: !posix },
  async () => {
    await withTempDir(async (dir) => {
      const existing = join(dir, "open");
      await Deno.mkdir(existing);
      await Deno.chmod(existing, 0o755);
      await ensurePrivateDir(existing);
      assert.equal(await mode(existing), 0o755);
    });
  },
);

Deno.test("tightenPrivateDir makes an existing directory 0700", { ignore: !posix }, async () => {
  await withTempDir(async (dir) => {
    const home = join(dir, "home");
    await Deno.mkdir(home);
    await Deno.chmod(home, 0o755);
    await tightenPrivateDir(home);
    assert.equal(await mode(home), 0o700);
  });
});

Deno.test("writeFileAtomic writes the content 0600 and leaves no temp file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "auth.json");
    await writeFileAtomic(path, "{}\n");
    assert.equal(await Deno.readTextFile(path), "{}\n");
    if (posix) assert.equal(await mode(path), 0o600);
    assert.deepEqual(await names(dir), ["auth.json"]);
  });
});

Deno.test(
  "writeFileAtomic replacing a world-readable file leaves it 0600",
  { ignore: !posix },
  async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "auth.json");
      await Deno.writeTextFile(path, "old", { mode: 0o644 });
      await Deno.chmod(path, 0o644);
      await writeFileAtomic(path, "new");
      assert.equal(await Deno.readTextFile(path), "new");
      assert.equal(await mode(path), 0o600);
    });
  },
);

Deno.test(
  "writeFileAtomic honours an explicit mode despite the umask",
  { ignore: !posix },
  async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "config.yaml");
      await writeFileAtomic(path, "a: 1\n", { mode: 0o664 });
      assert.equal(await mode(path), 0o664);
    });
  },
);

Deno.test("a failed writeFileAtomic removes its temp file and keeps what was there", async () => {
  await withTempDir(async (dir) => {
    // A non-empty directory cannot be renamed over, so the write fails after the temp file exists.
    const target = join(dir, "taken");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "inside"), "x");
    await assert.rejects(writeFileAtomic(target, "data"));
    assert.deepEqual(await names(dir), ["taken"]);
    assert.deepEqual(await names(target), ["inside"]);
  });
});

Deno.test("writeFileAtomic through a symlink replaces the target and keeps the link", {
  ignore: !posix,
}, async () => {
  await withTempDir(async (dir) => {
    const real = join(dir, "real.json");
    const link = join(dir, "auth.json");
    await Deno.writeTextFile(real, "old");
    await Deno.symlink(real, link);
    await writeFileAtomic(link, "new");
    assert.ok((await Deno.lstat(link)).isSymlink);
    assert.equal(await Deno.readTextFile(real), "new");
    assert.deepEqual(await names(dir), ["auth.json", "real.json"]);
  });
});
