import assert from "node:assert/strict";
import { join } from "node:path";
import { authFilePath, hermesHome, lockFilePath } from "../../lib/store/paths.ts";
import { isAuthError } from "../../lib/errors.ts";

function envOf(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("HERMES_HOME wins over HOME", () => {
  assert.equal(hermesHome(envOf({ HERMES_HOME: "/srv/h", HOME: "/home/u" }), "linux"), "/srv/h");
});

Deno.test("without HERMES_HOME the home is ~/.hermes", () => {
  assert.equal(hermesHome(envOf({ HOME: "/home/u" }), "linux"), join("/home/u", ".hermes"));
});

Deno.test("an empty HERMES_HOME counts as unset", () => {
  assert.equal(
    hermesHome(envOf({ HERMES_HOME: "", HOME: "/home/u" }), "linux"),
    join("/home/u", ".hermes"),
  );
});

Deno.test("on Windows the home comes from USERPROFILE", () => {
  const home = hermesHome(envOf({ USERPROFILE: "C:\\Users\\u", HOME: "/ignored" }), "windows");
  assert.equal(home, join("C:\\Users\\u", ".hermes"));
});

Deno.test("no HERMES_HOME and no HOME is an AuthError that says what to set", () => {
  assert.throws(
    () => hermesHome(envOf({}), "linux"),
    (e) => isAuthError(e, "no_home") && e.fix!.includes("HERMES_HOME"),
  );
});

Deno.test("auth.json and auth.lock are siblings in the home", () => {
  assert.equal(authFilePath("/h"), join("/h", "auth.json"));
  assert.equal(lockFilePath("/h"), join("/h", "auth.lock"));
});
