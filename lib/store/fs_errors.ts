/**
 * What went wrong when a file under `$HERMES_HOME` could not be read or
 * written, said in terms of what is really there: a HERMES_HOME that is a
 * file, an auth.json that is a directory, a read-only file system, a full
 * disk, a directory that belongs to someone else. Every write of the store
 * (auth.json, auth.lock, config.yaml, pending logins) goes through
 * {@link guardWrite}, so every command that writes fails the same way:
 * AuthError `auth_write_failed` naming the path and the fix.
 *
 * Deno turns only some OS errors into `Deno.errors` classes; EROFS, ENOSPC
 * and EDQUOT arrive as a plain Error with `code` set, so both are checked.
 *
 * @module
 */

import { AuthError, Exit } from "../errors.ts";
import { dirname, resolve } from "./path.ts";

/** True for a failure of the filesystem itself (a `Deno.errors` kind, or an errno code). */
export function isFsError(error: unknown): boolean {
  if (error instanceof AuthError) return false;
  if (Object.values(Deno.errors).some((kind) => error instanceof kind)) return true;
  return typeof errnoOf(error) === "string";
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** What a failed read or write of `path` (a file under `home`) comes down to. */
export interface PathProblem {
  /** One clause for after `Cannot write <path>: `. */
  reason: string;
  /** One line on what to do. */
  fix: string;
}

/**
 * Look at what is really at `home` and `path` and read `error`, in that
 * order: a file where a directory should be (or the reverse) explains an
 * error better than its errno does (mkdir on a file says "File exists").
 */
export async function diagnose(
  home: string,
  path: string,
  error: unknown,
  access: "read" | "write",
): Promise<PathProblem> {
  const homeAbs = resolve(home);
  const notADir = await firstNonDirectory(homeAbs);
  if (notADir !== undefined) {
    return notADir === homeAbs
      ? {
        reason: `HERMES_HOME ${home} is a file, not a directory`,
        fix: `Move that file aside (mv ${q(home)} ${q(home + ".bak")}) or point HERMES_HOME ` +
          "at a directory.",
      }
      : {
        reason: `${notADir} is a file, so HERMES_HOME ${home} cannot be a directory under it`,
        fix: `Point HERMES_HOME at a directory, or move ${q(notADir)} aside.`,
      };
  }
  const kind = await kindOf(path);
  if (kind === "directory") {
    return {
      reason: "it is a directory, not a file",
      fix: `Look inside it, then move it aside (mv ${q(path)} ${q(path + ".bak")}); ` +
        "hermes-auth writes a new file in its place.",
    };
  }
  const errno = errnoOf(error);
  if (errno === "EROFS") {
    return {
      reason: `${home} is on a read-only file system`,
      fix: "Point HERMES_HOME at a directory on a writable file system (or remount it " +
        "read-write); the stored credentials were not changed.",
    };
  }
  if (errno === "ENOSPC" || errno === "EDQUOT") {
    return {
      reason: errno === "ENOSPC" ? "the disk is full" : "your disk quota is used up",
      fix: `Free some space on the disk that holds ${home} (df -h ${q(home)}), then retry; ` +
        "the stored credentials were not changed.",
    };
  }
  if (error instanceof Deno.errors.PermissionDenied || errno === "EACCES" || errno === "EPERM") {
    const where = kind === "file" ? path : dirname(path);
    const owner = await ownerText(where);
    return {
      reason: `permission denied${owner ? ` (${where} ${owner})` : ""}`,
      fix: access === "read"
        ? `Make ${path} readable by you (it should be yours, mode 600), or point HERMES_HOME ` +
          "at your own directory."
        : `Make ${home} a directory you own and can write (ls -ld ${q(home)}), or point ` +
          "HERMES_HOME at one that is.",
    };
  }
  return {
    reason: (error as Error)?.message ?? String(error),
    fix: `Check ${home} with \`ls -la ${q(home)}\` or \`hermes-auth doctor\`, or point ` +
      "HERMES_HOME at another directory.",
  };
}

/**
 * AuthError `auth_write_failed` (exit 1) for a failed write of `path` under
 * `home`: `Cannot write <path>: <what is really wrong>`, with the fix.
 */
export async function writeError(home: string, path: string, error: unknown): Promise<AuthError> {
  const { reason, fix } = await diagnose(home, path, error, "write");
  return new AuthError("auth_write_failed", `Cannot write ${path}: ${reason}`, {
    exit: Exit.FAILURE,
    fix,
    cause: error,
  });
}

/** An AuthError with `code` for a failed read of `path` under `home`, saying what is really there. */
export async function readError(
  code: string,
  home: string,
  path: string,
  error: unknown,
): Promise<AuthError> {
  const { reason, fix } = await diagnose(home, path, error, "read");
  return new AuthError(code, `Cannot read ${path}: ${reason}`, { fix, cause: error });
}

/**
 * Run `step`, a write (or the lock a write needs) of `path` under `home`;
 * a filesystem failure becomes {@link writeError}'s AuthError. AuthErrors
 * and other errors pass through as they are.
 */
export async function guardWrite<T>(
  home: string,
  path: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!isFsError(error)) throw error;
    throw await writeError(home, path, error);
  }
}

/** The nearest of `dir` and its parents that exists and is not a directory, if any. */
async function firstNonDirectory(dir: string): Promise<string | undefined> {
  for (let at = dir;; at = dirname(at)) {
    const kind = await kindOf(at);
    if (kind === "directory") return undefined;
    if (kind === "file" || kind === "other") return at;
    if (dirname(at) === at) return undefined;
  }
}

async function kindOf(path: string): Promise<"missing" | "directory" | "file" | "other"> {
  try {
    const info = await Deno.stat(path);
    return info.isDirectory ? "directory" : info.isFile ? "file" : "other";
  } catch (error) {
    // ENOTDIR means a parent is a file: firstNonDirectory finds which.
    return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory
      ? "missing"
      : "other";
  }
}

/**
 * `is mode 555, owned by uid 0`, as far as stat tells. (Not "you are uid
 * N": asking for our own uid needs one more permission in the compiled binary.)
 */
async function ownerText(path: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(path);
    if (info.mode === null) return undefined;
    const mode = (info.mode & 0o777).toString(8).padStart(3, "0");
    return `is mode ${mode}${info.uid === null ? "" : `, owned by uid ${info.uid}`}`;
  } catch {
    return undefined;
  }
}

function q(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
