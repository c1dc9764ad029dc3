/**
 * `rejectsWith(promise, code)`: the promise rejects with an AuthError of that
 * code, which is returned for further checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type AuthError, isAuthError } from "../lib/errors.ts";

/** Await `promise`, which must reject with AuthError `code`; returns that error. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AuthError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isAuthError(e, code), `expected AuthError ${code}, got ${e}`);
    return e as AuthError;
  }
  assert.fail(`expected AuthError ${code}, but it resolved`);
}
