/**
 * Reading `$HERMES_HOME/auth.json`: the types of Hermes's layout, the
 * parser, and {@link readAuthFile}, a read-only view without the lock. The
 * `token` hot path reads through this module alone; changing the file
 * (lib/store/auth_store.ts) brings the lock, the atomic writer and the
 * error diagnosis with it.
 *
 * @module
 */

import { AuthError, type AuthErrorOptions } from "../errors.ts";
import { lazy } from "../lazy.ts";
import { authFilePath } from "./paths.ts";

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
  if (!isRecord(value)) throw corrupt("auth.json does not hold a JSON object.");
  if ("providers" in value && !isRecord(value.providers)) {
    throw corrupt("auth.json `providers` is not an object.");
  }
  if ("credential_pool" in value && !isRecord(value.credential_pool)) {
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
  if (!isRecord(pool) || !(providerId in pool)) return 0;
  const rows: unknown = pool[providerId];
  if (!Array.isArray(rows)) return 1;
  return rows.filter((row) => !isRecord(row)).length;
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
  try {
    const text = await readAuthText(home, authFilePath(home));
    if (text === null) return { data: emptyAuthFile(), corrupt: false };
    return { data: parseAuthFile(text), corrupt: false };
  } catch (error) {
    // Unusable content is a view; a file that cannot be read at all stays an error.
    if (error instanceof AuthFileError && error.code === "auth_file_corrupt") {
      return { data: emptyAuthFile(), corrupt: true, problem: error.message };
    }
    throw error;
  }
}

/**
 * The text of auth.json, or null when there is none. Deno decodes it in
 * Rust, replacing what is not UTF-8 with U+FFFD; only when that character
 * appears is the file decoded again strictly, so that a file that is not
 * UTF-8 is refused as corrupt, never half read (and a real U+FFFD passes).
 * A 1 MB file is read in half the time of a strict decode in JavaScript.
 */
async function readAuthText(home: string, path: string): Promise<string | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw await unreadable(home, path, error);
  }
  if (!text.includes("\uFFFD")) return text;
  const bytes = await readAuthBytes(home, path);
  return bytes === null ? null : decodeAuthFile(bytes);
}

/** The bytes of auth.json (for a copy kept aside), or null when there is none. */
export async function readAuthBytes(home: string, path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw await unreadable(home, path, error);
  }
}

/**
 * Say what is really there: a HERMES_HOME that is a file, an auth.json that
 * is a directory… (The diagnosis loads only then: `token` reads a file that
 * is there.)
 */
async function unreadable(home: string, path: string, error: unknown): Promise<unknown> {
  const { isFsError, readError } = await lazy<typeof import("./fs_errors.ts")>(
    "./fs_errors.ts",
    import.meta.url,
  );
  if (!isFsError(error)) return error;
  const why = await readError("auth_file_unreadable", home, path, error);
  return new AuthFileError("auth_file_unreadable", why.message, { fix: why.fix, cause: error });
}

/** Strict UTF-8: bytes that are not are an unusable (corrupt) auth.json. */
export function decodeAuthFile(bytes: Uint8Array): string {
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

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
