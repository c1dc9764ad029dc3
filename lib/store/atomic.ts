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
  const target = await followSymlink(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomHex(8)}.tmp`);

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
