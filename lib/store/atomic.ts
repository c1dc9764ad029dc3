/**
 * Crash-safe file writes. A reader sees either the old file or the new one,
 * never half of each, and the secrets inside are never readable by others,
 * not even for a moment: the temp file is created 0600 before a byte is
 * written.
 *
 * @module
 */

import { basename, dirname, join, resolve, root } from "./path.ts";

const isWindows = Deno.build.os === "windows";

/** `mkdir -p` giving mode 0700 to every directory it creates; existing ones are left alone. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * Tighten an existing directory to 0700, as Hermes's `secure_parent_dir`
 * does before it writes a credential file. Like Hermes it refuses the
 * filesystem root and its direct children (`/`, `/tmp`, `/home`…), where a
 * 0700 would break the machine rather than protect a file. Best effort: a
 * directory we do not own stays as it is. No-op on Windows.
 */
export async function tightenPrivateDir(dir: string): Promise<void> {
  if (isWindows) return;
  let real: string;
  try {
    real = await Deno.realPath(dir);
  } catch {
    return;
  }
  const depth = real.slice(root(real).length).split(/[\\/]/).filter(Boolean).length;
  if (depth < 2) return;
  try {
    await Deno.chmod(real, 0o700);
  } catch {
    // Not ours to change; the file itself is still written 0600.
  }
}

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Permission bits of the written file; default 0600. */
  mode?: number;
  /**
   * First remove temp files a killed writer left next to `path` (see
   * {@link removeStaleTemps}). Only for a caller that holds the lock every
   * writer of `path` holds, so no live writer's temp file can be among them.
   */
  removeStaleTemps?: boolean;
}

/** How many random bytes name a temp file: `.<name>.<16 hex>.tmp`. */
const TEMP_RANDOM_BYTES = 8;

function tempPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${escaped}\\.[0-9a-f]{${TEMP_RANDOM_BYTES * 2}}\\.tmp$`);
}

/**
 * The temp files {@link writeFileAtomic} leaves next to `path` when its
 * process is killed mid-write (`.auth.json.<16 hex>.tmp`, mode 0600): regular
 * files matching exactly that name, in the directory the write goes to (a
 * symlinked `path` is followed, as the write does). Other files, Hermes's
 * own temp files (`.auth_*.tmp`) included, never match.
 */
export async function findStaleTemps(path: string): Promise<string[]> {
  const target = await followSymlink(path);
  const dir = dirname(target);
  return await filesMatching(dir, tempPattern(basename(target)));
}

/**
 * The regular files in `dir` whose names match `pattern`, sorted; none when
 * the directory is missing or unreadable. readDir does not follow links, so
 * a symlink named like a temp file never counts.
 */
export async function filesMatching(dir: string, pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && pattern.test(entry.name)) found.push(join(dir, entry.name));
    }
  } catch {
    // No directory yet (or not readable): nothing was left there.
  }
  return found.sort();
}

/**
 * Remove the temp files a killed writer left next to `path` (they hold
 * whatever it was writing: for auth.json, refresh tokens). The caller must
 * hold the lock that every writer of `path` takes (auth.lock for auth.json
 * and config.yaml, pending.lock for pending logins): a live writer's temp
 * file only exists while it holds that lock. Best effort; returns what was
 * removed.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const removed: string[] = [];
  for (const stale of await findStaleTemps(path)) {
    try {
      await Deno.remove(stale);
      removed.push(stale);
    } catch {
      // Gone already, or not ours to remove: the write itself goes on.
    }
  }
  return removed;
}

/**
 * Replace `path` with `data` atomically: write a temp file created 0600 with
 * O_EXCL (`createNew`) in the same directory, fsync it, rename it over
 * `path`, then fsync the directory so the rename itself survives a crash
 * (skipped on Windows, which cannot open a directory). The temp file is
 * removed when anything fails.
 *
 * When `path` is a symlink the file it points to is replaced and the link is
 * kept, as Hermes's `atomic_replace` does. When the rename is refused with
 * EBUSY or EXDEV (a bind-mounted auth.json in a container) the content is
 * copied over the target in place, again as Hermes does.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const bytes = new TextEncoder().encode(data);
  if (options.removeStaleTemps) await removeStaleTemps(path);
  const target = await followSymlink(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomHex(TEMP_RANDOM_BYTES)}.tmp`);

  const file = await Deno.open(tmp, { write: true, createNew: true, mode });
  let closed = false;
  try {
    // `mode` at creation is filtered through the umask; set it exactly.
    if (!isWindows) await Deno.chmod(tmp, mode);
    await writeAll(file, bytes);
    await file.sync();
    file.close();
    closed = true;
    await replace(tmp, target, bytes);
  } catch (error) {
    if (!closed) file.close();
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  if (!isWindows) await syncDir(dir);
}

async function followSymlink(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return path;
  }
  if (!info.isSymlink) return path;
  try {
    return await Deno.realPath(path);
  } catch {
    // A dangling link: create the file it names.
    return resolve(dirname(path), await Deno.readLink(path));
  }
}

async function replace(tmp: string, target: string, bytes: Uint8Array): Promise<void> {
  try {
    await Deno.rename(tmp, target);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!(error instanceof Deno.errors.Busy) && code !== "EBUSY" && code !== "EXDEV") throw error;
    // A bind-mounted file cannot be renamed over: write it in place instead.
    const out = await Deno.open(target, { write: true, truncate: true, create: true });
    try {
      await writeAll(out, bytes);
      await out.sync();
    } finally {
      out.close();
    }
    await Deno.remove(tmp);
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename has happened.
  } finally {
    handle?.close();
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await file.write(bytes.subarray(offset));
  }
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}
