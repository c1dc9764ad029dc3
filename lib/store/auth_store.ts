/**
 * `$HERMES_HOME/auth.json` in Hermes's layout. {@link readAuthFile} gives a
 * read-only view; {@link updateAuthFile} is the one way to change the file:
 * under the shared lock, re-read, modify, write atomically. Whatever this
 * program does not know — top-level keys, fields inside a provider's state or
 * a pool row, other providers — is written back as it was read.
 *
 * @module
 */

import { AuthError, type AuthErrorOptions } from "../errors.ts";
import { ensurePrivateDir, tightenPrivateDir, writeFileAtomic } from "./atomic.ts";
import { guardWrite, isFsError, readError } from "./fs_errors.ts";
import { type HeldLock, type LockWait, withLock } from "./lock.ts";
import { authFilePath, lockFilePath } from "./paths.ts";
import { isoUtc } from "./timestamps.ts";

/** One credential in `credential_pool[<provider>]` (Hermes's `PooledCredential.to_dict`). */
export interface PoolRow {
  /** 6 hex characters. */
  id: string;
  label: string;
  /** `oauth` or `api_key`. */
  auth_type: string;
  /** Lower comes first. */
  priority: number;
  /** Where the credential came from, e.g. `device_code`, `manual:device_code`. */
  source: string;
  access_token?: string;
  refresh_token?: string;
  expires_at?: string | null;
  last_refresh?: string | null;
  last_status?: string | null;
  last_error_code?: string | null;
  last_error_message?: string | null;
  [key: string]: unknown;
}

/** The whole of auth.json. */
export interface AuthFile {
  version: number;
  /** Login state per provider id; the layout differs per provider. */
  providers: Record<string, Record<string, unknown>>;
  active_provider?: string | null;
  credential_pool?: Record<string, PoolRow[]>;
  /** Python `isoformat()` of the last write, `+00:00` form. */
  updated_at?: string;
  [key: string]: unknown;
}

/** `AUTH_STORE_VERSION` in Hermes. */
export const AUTH_STORE_VERSION = 1;

/** A fresh, empty store. */
export function emptyAuthFile(): AuthFile {
  return {
    version: AUTH_STORE_VERSION,
    providers: {},
    credential_pool: {},
    active_provider: null,
  };
}

/**
 * auth.json could not be used: code `auth_file_corrupt` (content is not a
 * Hermes store) or `auth_file_unreadable` (the file exists but cannot be
 * read; nothing is written then, so a later save cannot wipe it).
 */
export class AuthFileError extends AuthError {
  constructor(
    code: "auth_file_corrupt" | "auth_file_unreadable",
    message: string,
    options: AuthErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = "AuthFileError";
  }
}

/**
 * Parse the text of auth.json. A leading BOM is allowed (Hermes reads with
 * `utf-8-sig`). Throws {@link AuthFileError} `auth_file_corrupt` when the
 * text is not JSON, is JSON but not an object (`[]`, `"x"`, `null`), or has
 * `providers` / `credential_pool` that are not objects. A missing `providers`
 * or `version` is filled in; nothing else is touched.
 */
export function parseAuthFile(text: string): AuthFile {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (cause) {
    throw corrupt("auth.json is not valid JSON.", cause);
  }
  if (!isObject(value)) throw corrupt("auth.json does not hold a JSON object.");
  if ("providers" in value && !isObject(value.providers)) {
    throw corrupt("auth.json `providers` is not an object.");
  }
  if ("credential_pool" in value && !isObject(value.credential_pool)) {
    throw corrupt("auth.json `credential_pool` is not an object.");
  }
  const data = value as Partial<AuthFile>;
  if (typeof data.version !== "number") data.version = AUTH_STORE_VERSION;
  if (data.providers === undefined) data.providers = {};
  return data as AuthFile;
}

/**
 * How many entries of `credential_pool[providerId]` are not credentials at
 * all (`null`, `1`, `"s"`: anything but an object), a pool that is not a
 * list counting as one. Every reader skips them; commands say they are there.
 */
export function strayPoolEntries(data: AuthFile, providerId: string): number {
  const pool = data.credential_pool;
  if (!isObject(pool) || !(providerId in pool)) return 0;
  const rows: unknown = pool[providerId];
  if (!Array.isArray(rows)) return 1;
  return rows.filter((row) => !isObject(row)).length;
}

/** Render a store as written to disk: 2-space JSON and a trailing newline. */
export function serializeAuthFile(data: AuthFile): string {
  return JSON.stringify(data, null, 2) + "\n";
}

/** What {@link readAuthFile} found. */
export interface AuthFileView {
  data: AuthFile;
  /** The content is not a Hermes store; `data` is then empty. */
  corrupt: boolean;
  /** Why it is not, e.g. "auth.json is not valid JSON." (only when corrupt). */
  problem?: string;
}

/**
 * Read auth.json without the lock: a read-only view, e.g. for `status`. A
 * missing file (or missing home) reads as empty; unusable content reads as
 * `{ data: empty, corrupt: true, problem }`. Never writes. Throws
 * {@link AuthFileError} `auth_file_unreadable` when the file exists but
 * cannot be read.
 */
export async function readAuthFile(home: string): Promise<AuthFileView> {
  const bytes = await readBytes(home, authFilePath(home));
  if (bytes === null) return { data: emptyAuthFile(), corrupt: false };
  try {
    return { data: parseAuthFile(decode(bytes)), corrupt: false };
  } catch (error) {
    if (error instanceof AuthFileError) {
      return { data: emptyAuthFile(), corrupt: true, problem: error.message };
    }
    throw error;
  }
}

/** Options of {@link updateAuthFile}. */
export interface UpdateAuthFileOptions {
  /** Lock wait limit; default 15000 ms. */
  timeoutMs?: number;
  /** Clock for `updated_at` and the name of a corrupt copy. */
  now?: () => Date;
  /** The auth.lock the caller holds (from {@link withLock}): join it instead of waiting. */
  lock?: HeldLock;
  /** Stop waiting for auth.lock when this aborts (Ctrl-C): AuthError `interrupted`. */
  signal?: AbortSignal;
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
      const bytes = await readBytes(home, path);
      let data = emptyAuthFile();
      if (bytes !== null) {
        try {
          data = parseAuthFile(decode(bytes));
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

async function readBytes(home: string, path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (!isFsError(error)) throw error;
    // Say what is really there: a HERMES_HOME that is a file, an auth.json that is a directory…
    const why = await readError("auth_file_unreadable", home, path, error);
    throw new AuthFileError("auth_file_unreadable", why.message, { fix: why.fix, cause: error });
  }
}

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw corrupt("auth.json is not valid UTF-8.", cause);
  }
}

function corrupt(message: string, cause?: unknown): AuthFileError {
  return new AuthFileError("auth_file_corrupt", message, {
    fix: "Run `hermes-auth add <provider>` again; the unusable file is kept as auth.json.corrupt.",
    cause,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
