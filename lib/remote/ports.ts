/**
 * Is a callback port free on 127.0.0.1, and if not, who holds it? A login's
 * listener needs its port (Spotify's exactly; xAI's moves when it is busy),
 * so `doctor` checks the providers' ports and names the process in the way.
 *
 * Freedom is tested the honest way: bind the port and let go. The holder is
 * found on Linux from `/proc/net/tcp{,6}` (the listening socket's inode) and
 * `/proc/<pid>/fd` (the process that has that socket open); elsewhere, or
 * when /proc does not tell, the answer is the `lsof` command that would.
 *
 * @module
 */

/** A process holding a port. */
export interface PortHolder {
  pid: number;
  /** `/proc/<pid>/comm`, or "" when unreadable. */
  command: string;
  /** `/proc/<pid>/cmdline` joined by spaces, or "" when unreadable. */
  commandLine: string;
}

/** What {@link probePort} found. */
export interface PortProbe {
  port: number;
  /** Binding 127.0.0.1:port succeeded; null when it could not be tested (not permitted). */
  free: boolean | null;
  /** Processes listening on the port (Linux); empty when unknown. */
  holders: PortHolder[];
  /** A command that shows the holder, for when `holders` cannot say. */
  hint: string;
  /** Why the test was inconclusive. */
  error?: string;
}

/** The outside world {@link probePort} looks at; tests pass fakes. */
export interface PortProbeDeps {
  /** Try to bind 127.0.0.1:port: "free", "busy", or an error message. */
  tryBind(port: number): Promise<"free" | "busy" | { error: string }>;
  readTextFile(path: string): Promise<string>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  readLink(path: string): Promise<string>;
  os: typeof Deno.build.os;
  /** Where procfs is mounted; default `/proc`. */
  procRoot?: string;
}

/** The real world: Deno.listen, Deno.readTextFile, Deno.readDir, Deno.readLink. */
export function defaultPortProbeDeps(): PortProbeDeps {
  return {
    async tryBind(port) {
      try {
        const listener = Deno.listen({ hostname: "127.0.0.1", port });
        listener.close();
        // The close is synchronous; yield once so the runtime has let go of the resource.
        await Promise.resolve();
        return "free";
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) return "busy";
        return { error: (error as Error).message };
      }
    },
    readTextFile: (path) => Deno.readTextFile(path),
    readDir: (path) => Deno.readDir(path),
    readLink: (path) => Deno.readLink(path),
    os: Deno.build.os,
  };
}

/** `lsof -iTCP:<port> -sTCP:LISTEN`: the command that names a port's holder. */
export function holderHint(port: number): string {
  return `lsof -iTCP:${port} -sTCP:LISTEN`;
}

/** Test whether 127.0.0.1:`port` is free and, when it is not, who holds it. */
export async function probePort(
  port: number,
  deps: PortProbeDeps = defaultPortProbeDeps(),
): Promise<PortProbe> {
  const hint = holderHint(port);
  const bound = await deps.tryBind(port);
  if (bound === "free") return { port, free: true, holders: [], hint };
  const holders = deps.os === "linux" ? await findHolders(port, deps) : [];
  if (bound === "busy") return { port, free: false, holders, hint };
  return { port, free: null, holders, hint, error: bound.error };
}

/**
 * Inodes of the sockets listening on `port` in the text of `/proc/net/tcp`
 * or `/proc/net/tcp6` (state `0A` is LISTEN; ports are hexadecimal).
 */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = fields[1];
    const state = fields[3];
    const inode = fields[9];
    const portHex = local.slice(local.lastIndexOf(":") + 1);
    if (state === "0A" && parseInt(portHex, 16) === port && inode !== "0") inodes.push(inode);
  }
  return inodes;
}

async function findHolders(port: number, deps: PortProbeDeps): Promise<PortHolder[]> {
  const proc = deps.procRoot ?? "/proc";
  const inodes = new Set<string>();
  for (const table of ["net/tcp", "net/tcp6"]) {
    try {
      for (const inode of listeningInodes(await deps.readTextFile(`${proc}/${table}`), port)) {
        inodes.add(inode);
      }
    } catch {
      // No such table (IPv6 off) or no procfs: nothing to learn here.
    }
  }
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const holders: PortHolder[] = [];
  try {
    for await (const entry of deps.readDir(proc)) {
      if (!/^\d+$/.test(entry.name)) continue;
      if (await holdsSocket(`${proc}/${entry.name}/fd`, wanted, deps)) {
        holders.push(await describeProcess(Number(entry.name), proc, deps));
      }
    }
  } catch {
    // procfs unreadable: the hint has to do.
  }
  return holders;
}

async function holdsSocket(
  fdDir: string,
  wanted: ReadonlySet<string>,
  deps: PortProbeDeps,
): Promise<boolean> {
  try {
    for await (const fd of deps.readDir(fdDir)) {
      try {
        if (wanted.has(await deps.readLink(`${fdDir}/${fd.name}`))) return true;
      } catch {
        // The descriptor closed while we looked.
      }
    }
  } catch {
    // Another user's process (without root) or one that just exited.
  }
  return false;
}

async function describeProcess(
  pid: number,
  proc: string,
  deps: PortProbeDeps,
): Promise<PortHolder> {
  const read = async (name: string) => {
    try {
      return await deps.readTextFile(`${proc}/${pid}/${name}`);
    } catch {
      return "";
    }
  };
  const command = (await read("comm")).trim();
  const commandLine = (await read("cmdline")).split("\0").filter(Boolean).join(" ");
  return { pid, command, commandLine };
}
