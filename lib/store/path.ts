/**
 * The few path operations the store needs: join, dirname, basename,
 * resolve (to an absolute path, against `Deno.cwd()`), and the root of a
 * path. node:path would do, but importing any `node:` module loads Deno's
 * Node compatibility layer, about 13 ms on every `token` run
 * (docs/performance.md), and `token` runs before every API call a script
 * makes.
 *
 * The exports work on the running platform's paths, like node:path. On
 * POSIX only `/` separates. On Windows `\` and `/` both do and results use
 * `\`; a root is `C:\`, `\\server\share\`, `\` (the current drive's root) or
 * `C:` (drive-relative). `posix` and `win32` are both exported for tests.
 *
 * Unlike node:path, `join` and `resolve` never keep a trailing separator
 * (`join("a/", "b/")` is `a/b`); `dirname` and `basename` ignore one.
 *
 * @module
 */

/** Path operations for one platform. */
export interface PathOps {
  /** The separator results use: `/`, or `\` on Windows. */
  sep: "/" | "\\";
  /** Join non-empty parts and normalise (`.`, `..`, repeated separators); `.` when empty. */
  join(...parts: string[]): string;
  /** Everything before the last segment; the root for a root, `.` for a bare name. */
  dirname(path: string): string;
  /** The last segment; empty for a root. */
  basename(path: string): string;
  /** Resolve right to left up to the first absolute part, then against the cwd; normalised. */
  resolve(...parts: string[]): string;
  /** The root prefix as written (`/`, `C:\`, `\\server\share\`, `\`, `C:`); empty when relative. */
  root(path: string): string;
  isAbsolute(path: string): boolean;
}

/** Path operations for POSIX (`windows: false`) or Windows, resolving against `cwd`. */
export function pathOps(windows: boolean, cwd: () => string = () => Deno.cwd()): PathOps {
  const sep = windows ? "\\" : "/";
  const separators = windows ? /[\\/]+/ : /\/+/;
  const trailing = windows ? /[\\/]+$/ : /\/+$/;

  function root(path: string): string {
    if (!windows) return path.startsWith("/") ? "/" : "";
    return /^[\\/]{2}[^\\/]+[\\/]+[^\\/]+[\\/]?/.exec(path)?.[0] ?? // \\server\share\
      /^[A-Za-z]:[\\/]?/.exec(path)?.[0] ?? // C:\ or C:
      /^[\\/]/.exec(path)?.[0] ?? "";
  }

  function isAbsolute(path: string): boolean {
    const r = root(path);
    return r !== "" && !/^[A-Za-z]:$/.test(r);
  }

  function normalize(path: string): string {
    const r = root(path);
    const out: string[] = [];
    for (const segment of path.slice(r.length).split(separators)) {
      if (segment === "" || segment === ".") continue;
      if (segment !== "..") out.push(segment);
      else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (r === "" || !isAbsolute(r)) out.push(".."); // above the root is the root
    }
    const head = windows ? r.replaceAll("/", "\\") : r;
    return head + out.join(sep) || ".";
  }

  /** `path` after its root, without trailing separators. */
  function body(path: string): [string, string] {
    const r = root(path);
    return [r, path.slice(r.length).replace(trailing, "")];
  }

  return {
    sep,
    root,
    isAbsolute,
    join: (...parts) => normalize(parts.filter((p) => p !== "").join(sep)),
    dirname(path) {
      const [r, rest] = body(path);
      const cut = Math.max(rest.lastIndexOf("/"), windows ? rest.lastIndexOf("\\") : -1);
      if (cut < 0) return r || ".";
      return r + rest.slice(0, cut).replace(trailing, "") || r || ".";
    },
    basename(path) {
      const rest = body(path)[1];
      return rest.slice(Math.max(rest.lastIndexOf("/"), windows ? rest.lastIndexOf("\\") : -1) + 1);
    },
    resolve(...parts) {
      let path = "";
      for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
        if (parts[i] !== "") path = path ? parts[i] + sep + path : parts[i];
      }
      if (!isAbsolute(path)) {
        const here = cwd();
        const drive = root(path);
        if (drive === "") path = here + sep + path;
        // `C:x`: against the cwd when it is on that drive, else against the drive's root.
        else if (drive.toLowerCase() === here.slice(0, 2).toLowerCase()) {
          path = here + sep + path.slice(2);
        } else path = drive + sep + path.slice(2);
      } else if (windows && /^[\\/]$/.test(root(path))) {
        path = root(cwd()).replace(/[\\/]$/, "") + path; // `\x`: the current drive's root
      }
      return normalize(path);
    },
  };
}

/** POSIX paths. */
export const posix: PathOps = pathOps(false);
/** Windows paths. */
export const win32: PathOps = pathOps(true);

const native = Deno.build.os === "windows" ? win32 : posix;

/** The running platform's separator. */
export const sep: PathOps["sep"] = native.sep;
/** See {@link PathOps.join}. */
export const join: PathOps["join"] = native.join;
/** See {@link PathOps.dirname}. */
export const dirname: PathOps["dirname"] = native.dirname;
/** See {@link PathOps.basename}. */
export const basename: PathOps["basename"] = native.basename;
/** See {@link PathOps.resolve}. */
export const resolve: PathOps["resolve"] = native.resolve;
/** See {@link PathOps.root}. */
export const root: PathOps["root"] = native.root;
