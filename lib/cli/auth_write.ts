/**
 * A change to auth.json on behalf of a command (`remove`, `logout`,
 * `model`): `updateAuthFile` with the command's clock, where a filesystem
 * refusal (a read-only or full disk, a HERMES_HOME that is not a directory,
 * an `auth.lock` that cannot be opened) becomes AuthError `auth_write_failed`
 * with a fix instead of an "unexpected error". Nothing is written then.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import { type AuthFile, updateAuthFile } from "../store/auth_store.ts";
import { authFilePath } from "../store/paths.ts";
import { type Context, lockWaitOptions } from "./context.ts";

/** Run `mutate` on auth.json under the lock (see the module doc). */
export async function writeAuth<T>(
  ctx: Context,
  home: string,
  mutate: (data: AuthFile) => T,
): Promise<T> {
  try {
    return await updateAuthFile(home, mutate, { now: ctx.now, ...lockWaitOptions(ctx) });
  } catch (error) {
    if (!isFsError(error)) throw error;
    throw new AuthError(
      "auth_write_failed",
      `Cannot write ${authFilePath(home)}: ${(error as Error).message}`,
      {
        exit: Exit.FAILURE,
        fix: `Check that ${home} is a directory you can write to, with a writable auth.lock ` +
          `(ls -la ${home}), or point HERMES_HOME at one that is; \`hermes-auth doctor\` checks this.`,
        cause: error,
      },
    );
  }
}

function isFsError(error: unknown): boolean {
  return Object.values(Deno.errors).some((kind) => error instanceof kind);
}
