/**
 * Whether and how to open the authorize URL in a browser. The command is
 * computed purely ({@link browserCommand}) and started detached
 * ({@link openBrowser}): a login never waits for the browser to exit.
 *
 * @module
 */
import type { SessionVerdict } from "./session.ts";

/** Inputs of {@link browserCommand}. */
export interface BrowserOptions {
  env: (name: string) => string | undefined;
  os: typeof Deno.build.os;
  session: SessionVerdict;
}

/**
 * Split a command line on whitespace; single or double quotes group words
 * (no escapes inside them). Good enough for `$BROWSER` values such as
 * `firefox --new-tab` or `"/opt/My Browser/browser" %s`.
 */
function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | null = null;
  for (const ch of line) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The first usable entry of `$BROWSER` as argv for `url`, or null. */
function fromBrowserVariable(value: string, url: string, os: string): string[] | null {
  // Like PATH: entries separated by the platform's list separator (drive letters hold ':').
  const separator = os === "windows" ? ";" : ":";
  for (const entry of value.split(separator)) {
    const argv = splitCommandLine(entry.trim());
    if (argv.length === 0) continue;
    if (argv.some((word) => word.includes("%s"))) {
      return argv.map((word) => word.replaceAll("%s", url));
    }
    return [...argv, url];
  }
  return null;
}

/**
 * The argv that would open `url`: `$BROWSER` (may be a colon-separated list —
 * the first non-empty entry is taken; `%s` is replaced by the URL, else the
 * URL is appended; words split on whitespace respecting simple quotes), else
 * `open` (macOS), `xdg-open` (Linux/BSD), `rundll32 url.dll,FileProtocolHandler`
 * (Windows, and WSL through `rundll32.exe`) when `session.canOpenBrowser`.
 * null when there is none. An explicit `$BROWSER` is honoured even on a
 * remote or headless session: the user asked for it.
 */
export function browserCommand(url: string, options: BrowserOptions): string[] | null {
  const { env, os, session } = options;
  const browser = env("BROWSER");
  if (browser !== undefined && browser.trim() !== "") {
    const argv = fromBrowserVariable(browser, url, os);
    if (argv !== null) return argv;
  }
  if (!session.canOpenBrowser) return null;
  switch (os) {
    case "darwin":
      return ["open", url];
    case "windows":
      // `cmd /c start` would treat the `&` of a query string as a command separator.
      return ["rundll32", "url.dll,FileProtocolHandler", url];
    default:
      if (os === "linux" && (env("WSL_DISTRO_NAME") || env("WSL_INTEROP"))) {
        // Windows' default browser; WSL forwards its 127.0.0.1 to this system.
        return ["rundll32.exe", "url.dll,FileProtocolHandler", url];
      }
      return ["xdg-open", url];
  }
}

/**
 * Start `argv` detached (own process group, all stdio closed) without waiting
 * for it: the default spawner of {@link openBrowser}. True when it started;
 * false when it could not be (not found, not permitted). `onSpawn` receives
 * the child, for callers (tests) that want to await its exit.
 */
export function spawnDetached(
  argv: string[],
  onSpawn?: (child: Deno.ChildProcess) => void,
): Promise<boolean> {
  try {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
      // Own process group: a Ctrl-C in the login must not close the browser.
      detached: true,
    }).spawn();
    // Nobody awaits the exit status; keep a failure there from being unhandled.
    child.status.catch(() => {});
    child.unref();
    onSpawn?.(child);
    return Promise.resolve(true);
  } catch {
    return Promise.resolve(false);
  }
}

/**
 * Open `url` with {@link browserCommand}'s command, detached (stdin, stdout,
 * stderr null; never waiting for the browser to exit). Resolves true when it
 * was started, false when there is no command or it could not be started.
 */
export async function openBrowser(
  url: string,
  options: BrowserOptions & { spawn?: (argv: string[]) => Promise<boolean> },
): Promise<boolean> {
  const argv = browserCommand(url, options);
  if (argv === null) return false;
  const spawn = options.spawn ?? spawnDetached;
  try {
    return await spawn(argv);
  } catch {
    return false;
  }
}
