/**
 * Changing `$HERMES_HOME/auth.json` in Hermes's layout: {@link updateAuthFile}
 * is the one way, under the shared lock: re-read, modify, write atomically.
 * Whatever this program does not know — top-level keys, fields inside a
 * provider's state or a pool row, other providers — is written back as it
 * was read. Reading alone (types, parser, {@link readAuthFile}) lives in
 * lib/store/auth_file.ts and is re-exported here.
 *
 * @module
 */

import { ensurePrivateDir, tightenPrivateDir, writeFileAtomic } from "./atomic.ts";
import {
  type AuthFile,
  AuthFileError,
  decodeAuthFile,
  emptyAuthFile,
  parseAuthFile,
  readAuthBytes,
  serializeAuthFile,
} from "./auth_file.ts";
import { guardWrite } from "./fs_errors.ts";
import { type HeldLock, type Interrupt, type LockWait, withLock } from "./lock.ts";
import { authFilePath, lockFilePath } from "./paths.ts";
import { isoUtc } from "./timestamps.ts";

export * from "./auth_file.ts";

/** Options of {@link updateAuthFile}. */
export interface UpdateAuthFileOptions {
  /** Lock wait limit; default 15000 ms. */
  timeoutMs?: number;
  /** Clock for `updated_at` and the name of a corrupt copy. */
  now?: () => Date;
  /** The auth.lock the caller holds (from {@link withLock}): join it instead of waiting. */
  lock?: HeldLock;
  /** Stop waiting for auth.lock when this aborts (Ctrl-C): AuthError `interrupted`. */
  signal?: Interrupt;
  /** Called once after about a second of waiting for auth.lock (the CLI says who holds it). */
  onLockWait?: (wait: LockWait) => void;
}

/**
 * The one way to change auth.json. Takes the lock, ensures the home (0700,
 * an existing one tightened as Hermes does), re-reads the file; unusable
 * content is first copied aside to `auth.json.corrupt` (or, when that already
 * exists, `auth.json.corrupt.<UTC timestamp>`, so an earlier copy is never
 * overwritten) and the change starts from an empty store. Then calls
 * `mutate(data)`: when it throws, nothing is written and the error is
 * rethrown; when it returns, `updated_at` is set and the file is written
 * atomically, 0600, as 2-space JSON with a trailing newline. Returns what
 * `mutate` returned.
 *
 * When the home, the lock or the file cannot be written (a read-only or full
 * disk, a HERMES_HOME that is a file, an auth.json that is a directory…),
 * throws AuthError `auth_write_failed` saying so (lib/store/fs_errors.ts);
 * nothing is written then.
 */
export async function updateAuthFile<T>(
  home: string,
  mutate: (data: AuthFile) => T | Promise<T>,
  options: UpdateAuthFileOptions = {},
): Promise<T> {
  const now = options.now ?? (() => new Date());
  const path = authFilePath(home);
  await guardWrite(home, home, () => ensurePrivateDir(home));
  await tightenPrivateDir(home);
  const locked = () =>
    withLock(lockFilePath(home), async () => {
      const bytes = await readAuthBytes(home, path);
      let data = emptyAuthFile();
      if (bytes !== null) {
        try {
          data = parseAuthFile(decodeAuthFile(bytes));
        } catch (error) {
          if (!(error instanceof AuthFileError)) throw error;
          await guardWrite(home, corruptCopyPath(home), () => copyAside(path, bytes, now()));
        }
      }
      let result: T;
      try {
        result = await mutate(data);
      } catch (error) {
        // The caller's own failure, whatever it is: not a write failure to explain.
        throw new MutateFailure(error);
      }
      data.updated_at = isoUtc(now());
      await guardWrite(
        home,
        path,
        // Under auth.lock: temp files next to auth.json are from writers that died.
        () =>
          writeFileAtomic(path, serializeAuthFile(data), { mode: 0o600, removeStaleTemps: true }),
      );
      return result;
    }, {
      timeoutMs: options.timeoutMs,
      lock: options.lock,
      signal: options.signal,
      onWait: options.onLockWait,
    });
  try {
    return await guardWrite(home, lockFilePath(home), locked);
  } catch (error) {
    throw error instanceof MutateFailure ? error.error : error;
  }
}

/** Carries an error `mutate` threw past the write-failure mapping, unchanged. */
class MutateFailure {
  constructor(readonly error: unknown) {}
}

/** Where {@link updateAuthFile} keeps a copy of an unusable auth.json. */
export function corruptCopyPath(home: string): string {
  return authFilePath(home) + ".corrupt";
}

async function copyAside(path: string, bytes: Uint8Array, at: Date): Promise<string> {
  const first = path + ".corrupt";
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const candidates = [first, `${first}.${stamp}`];
  for (let n = 1; n < 1000; n++) candidates.push(`${first}.${stamp}-${n}`);
  for (const candidate of candidates) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(candidate, { write: true, createNew: true, mode: 0o600 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw error;
    }
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
      await file.sync();
    } finally {
      file.close();
    }
    return candidate;
  }
  throw new AuthFileError(
    "auth_file_corrupt",
    `auth.json is unusable and no free name was left to keep a copy of it next to ${path}.`,
    { fix: `Remove old ${first}.* copies you no longer need, then retry.` },
  );
}
