/**
 * A change to auth.json on behalf of a command (`remove`, `logout`,
 * `model`): `updateAuthFile` with the command's clock. A filesystem refusal
 * (a read-only or full disk, a HERMES_HOME that is a file, an auth.json or
 * `auth.lock` that is a directory) is AuthError `auth_write_failed` from the
 * store itself (lib/store/fs_errors.ts), the same for every command that
 * writes. Nothing is written then.
 *
 * @module
 */
import { type AuthFile, updateAuthFile } from "../store/auth_store.ts";
import { type Context, lockWaitOptions } from "./context.ts";

/** Run `mutate` on auth.json under the lock (see the module doc). */
export async function writeAuth<T>(
  ctx: Context,
  home: string,
  mutate: (data: AuthFile) => T,
): Promise<T> {
  return await updateAuthFile(home, mutate, { now: ctx.now, ...lockWaitOptions(ctx) });
}
