/**
 * fs_errors: a failed read or write under HERMES_HOME explained by what is
 * really there. The errno cases (read-only, full disk, quota, permission)
 * are injected here, since a test running as root cannot be refused a write
 * by permission bits; tests/e2e/unwritable_home_test.ts makes the real
 * read-only and full file systems in a mount namespace.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AuthError, isAuthError } from "../../lib/errors.ts";
import { diagnose, guardWrite, isFsError, writeError } from "../../lib/store/fs_errors.ts";

/** An error as Deno throws it for errno values it has no class for (EROFS, ENOSPC…). */
function osError(code: string, message: string): Error {
  return Object.assign(new Error(`${message}: open '/x'`), { code });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fs-errors-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("isFsError: Deno.errors kinds and plain errno errors, not AuthErrors or bugs", () => {
  assert.equal(isFsError(new Deno.errors.PermissionDenied("x")), true);
  assert.equal(isFsError(osError("EROFS", "Read-only file system (os error 30)")), true);
  assert.equal(isFsError(osError("ENOSPC", "No space left on device (os error 28)")), true);
  assert.equal(isFsError(new TypeError("x is not a function")), false);
  assert.equal(isFsError(new AuthError("lock_timeout", "busy")), false);
});

Deno.test("a read-only file system, a full disk and a used-up quota are named as such", async () => {
  await withDir(async (home) => {
    const path = join(home, "auth.json");
    const cases: [string, RegExp, RegExp][] = [
      ["EROFS", /is on a read-only file system$/, /writable file system/],
      ["ENOSPC", /^the disk is full$/, /Free some space .*df -h/],
      ["EDQUOT", /^your disk quota is used up$/, /Free some space/],
    ];
    for (const [code, reason, fix] of cases) {
      const problem = await diagnose(home, path, osError(code, code), "write");
      assert.match(problem.reason, reason, code);
      assert.match(problem.fix, fix, code);
    }
  });
});

Deno.test("permission denied says whose the directory is and what its mode is", async () => {
  await withDir(async (home) => {
    await Deno.chmod(home, 0o555);
    try {
      const error = await writeError(
        home,
        join(home, "auth.json"),
        new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
      );
      assert.equal(error.code, "auth_write_failed");
      assert.equal(error.exit, 1);
      assert.match(
        error.message,
        /^Cannot write \S+auth\.json: permission denied \(\S+ is mode 555, owned by uid \d+\)$/,
      );
      assert.match(error.fix!, /a directory you own and can write/);
    } finally {
      await Deno.chmod(home, 0o700);
    }
  });
});

Deno.test("what is there beats the errno: mkdir on a file says 'File exists', we say it is a file", async () => {
  await withDir(async (dir) => {
    const home = join(dir, "hermes");
    await Deno.writeTextFile(home, "");
    const error = await Deno.mkdir(home, { recursive: true }).catch((e) => e);
    const problem = await diagnose(home, join(home, "auth.json"), error, "write");
    assert.equal(problem.reason, `HERMES_HOME ${home} is a file, not a directory`);
  });
});

Deno.test("guardWrite maps filesystem failures and lets everything else through unchanged", async () => {
  await withDir(async (home) => {
    const path = join(home, "auth.json");
    await assert.rejects(
      guardWrite(home, path, () => Promise.reject(osError("EROFS", "Read-only file system"))),
      (e) => isAuthError(e, "auth_write_failed") && e.message.startsWith(`Cannot write ${path}: `),
    );
    const timeout = new AuthError("lock_timeout", "busy");
    await assert.rejects(
      guardWrite(home, path, () => Promise.reject(timeout)),
      (e) => e === timeout,
    );
    const bug = new TypeError("bug");
    await assert.rejects(guardWrite(home, path, () => Promise.reject(bug)), (e) => e === bug);
    assert.equal(await guardWrite(home, path, () => Promise.resolve(42)), 42);
  });
});
