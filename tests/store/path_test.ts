import assert from "node:assert/strict";
import nodePath from "node:path";
import * as path from "../../lib/store/path.ts";

const posix = path.pathOps(false, () => "/work/cwd");
const win32 = path.pathOps(true, () => "C:\\Users\\me");

// Inputs on which ours must agree with node:path (which the store used before).
const SAMPLES = [
  "/",
  "/a",
  "/a/b",
  "/a/b/",
  "a",
  "a/b",
  "./a",
  "../a",
  "/a/../b",
  "/..",
  "a/../..",
  "",
  ".",
  "/a/./b/.",
  "C:\\x\\y",
  "C:\\",
  "C:",
  "C:x",
  "C:/x/y/",
  "D:x\\..\\..",
  "\\\\srv\\share\\x",
  "\\x",
  "x\\y",
];

const PLATFORMS = [["posix", posix, nodePath.posix], ["win32", win32, nodePath.win32]] as const;

for (const [name, ours, node] of PLATFORMS) {
  Deno.test(`${name}: join, dirname, basename, root and isAbsolute agree with node:path`, () => {
    for (const sample of SAMPLES) {
      const what = JSON.stringify(sample);
      assert.equal(ours.join(sample, "auth.json"), node.join(sample, "auth.json"), `join ${what}`);
      assert.equal(ours.dirname(sample), node.dirname(sample), `dirname ${what}`);
      assert.equal(ours.basename(sample), node.basename(sample), `basename ${what}`);
      assert.equal(ours.root(sample), node.parse(sample).root, `root ${what}`);
      assert.equal(ours.isAbsolute(sample), node.isAbsolute(sample), `isAbsolute ${what}`);
    }
  });
}

Deno.test("posix: resolve goes right to left up to an absolute part, then against the cwd", () => {
  assert.equal(posix.resolve("auth.lock"), "/work/cwd/auth.lock");
  assert.equal(posix.resolve("../h", "./auth.lock"), "/work/h/auth.lock");
  assert.equal(posix.resolve("/a/b", "../c"), "/a/c");
  assert.equal(posix.resolve("x", "/a", "", "b/"), "/a/b");
  assert.equal(posix.resolve(), "/work/cwd");
  assert.equal(posix.resolve("/.."), "/");
  // The link target of a symlink, resolved against the link's directory (lib/store/atomic.ts).
  assert.equal(posix.resolve("/h", "../real/auth.json"), "/real/auth.json");
});

Deno.test("posix: resolve agrees with node:path against the real cwd", () => {
  for (const parts of [["a"], ["/x", "", "y/"], ["a", "/b", "c/../d"], ["..", "..", "..", ".."]]) {
    assert.equal(path.posix.resolve(...parts), nodePath.posix.resolve(...parts), parts.join(" "));
  }
});

Deno.test("win32: both separators count, results use backslashes", () => {
  assert.equal(win32.join("C:/Users/u", ".hermes"), "C:\\Users\\u\\.hermes");
  assert.equal(win32.dirname("C:/Users/u/.hermes/auth.json"), "C:/Users/u/.hermes");
  assert.equal(win32.basename("C:\\Users\\u/auth.json"), "auth.json");
  assert.equal(win32.join("\\\\srv\\share", "h", "auth.lock"), "\\\\srv\\share\\h\\auth.lock");
});

Deno.test("win32: resolve handles drives, UNC shares and the current drive's root", () => {
  assert.equal(win32.resolve("auth.lock"), "C:\\Users\\me\\auth.lock");
  assert.equal(win32.resolve("D:\\h", "..\\x"), "D:\\x");
  assert.equal(win32.resolve("\\h\\auth.lock"), "C:\\h\\auth.lock");
  assert.equal(win32.resolve("c:h"), "C:\\Users\\me\\h"); // drive-relative, on the cwd's drive
  assert.equal(win32.resolve("D:h"), "D:\\h");
  assert.equal(win32.resolve("\\\\srv\\share\\h", "..\\..\\x"), "\\\\srv\\share\\x");
});

Deno.test("join and resolve drop a trailing separator; an empty join is '.'", () => {
  assert.equal(posix.join("a/", "b/"), "a/b");
  assert.equal(posix.join("", ""), ".");
  assert.equal(posix.resolve("/a/b/"), "/a/b");
});

Deno.test("the module's own exports are the running platform's", () => {
  const native = Deno.build.os === "windows" ? nodePath.win32 : nodePath.posix;
  assert.equal(path.sep, native.sep);
  assert.equal(path.join("/h", "auth.json"), native.join("/h", "auth.json"));
  assert.equal(path.resolve("auth.lock"), native.resolve("auth.lock"));
});
