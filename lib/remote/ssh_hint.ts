/**
 * The SSH tunnel hint printed right after the authorize URL: on a remote
 * session the provider sends the user's browser (by a redirect, or by a
 * script on its page) to 127.0.0.1:<port> on *their laptop*, so the login
 * only completes when that port is forwarded to this machine, or when the
 * user pastes back what the browser was left with: the code the page shows,
 * or the address of the page that failed to load.
 *
 * Pure text: functions return lines, the CLI prints and styles them.
 *
 * @module
 */
import type { SessionVerdict } from "./session.ts";
import type { CallbackDelivery } from "../providers/types.ts";
import { pasteWords } from "../providers/delivery.ts";

/** What the hint needs to know about the provider. */
export interface HintProvider {
  id: string;
  displayName: string;
  /** Provider guide on the web. */
  docsUrl?: string;
  /** The provider's guide inside the program: `hermes-auth help <topic>`. */
  helpTopic?: string;
  /** The provider has the RFC 8628 device code grant (`add <id> --device-code`). */
  deviceCode: boolean;
  /** How its page reaches the listener, which decides what there is to paste. */
  callbackDelivery: Pick<CallbackDelivery, "kind">;
}

/** Inputs of {@link sshHint} and {@link tunnelCommand}. */
export interface HintOptions {
  session: SessionVerdict;
  provider: HintProvider;
  /** Environment lookup (USER / LOGNAME). */
  env: (name: string) => string | undefined;
  hostname: () => string;
  /** Paste-back is offered (true whenever the CLI reads stdin on a terminal, or --no-wait/--callback-url are available). */
  pasteBack: boolean;
}

/** The shared guide for logging in over SSH: inside the program, and Hermes's on the web. */
export const SSH_GUIDE = {
  topic: "ssh",
  url: "https://hermes-agent.nousresearch.com/docs/guides/oauth-over-ssh",
} as const;

/** The loopback listener a redirect URI points at. */
interface LoopbackTarget {
  /** Host as the -L spec on the remote side should name it. */
  forwardHost: string;
  /** Host as the redirect URI names it. */
  host: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/**
 * The loopback host and explicit port of `redirectUri`, or null when it is
 * not a loopback URI, has no explicit (non-zero) port, or does not parse.
 */
function loopbackTarget(redirectUri: string): LoopbackTarget | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;

  let portText = url.port;
  if (portText === "") {
    // URL drops a port equal to the scheme default; an explicit `:80` still counts.
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(redirectUri.trim())?.[1] ?? "";
    const defaultPort = DEFAULT_PORTS[url.protocol];
    if (!authority.endsWith(`:${defaultPort}`)) return null;
    portText = defaultPort;
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;

  const host = url.hostname.toLowerCase();
  if (host === "127.0.0.1" || host === "localhost") return { forwardHost: "127.0.0.1", host, port };
  if (host === "[::1]") return { forwardHost: "[::1]", host, port };
  return null;
}

/** Quote a word for a POSIX shell when it holds anything unusual. */
function shellWord(word: string): string {
  if (/^[A-Za-z0-9@%+=:,./_-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `user@host` (or `host` when no user is known) of this machine as the user reaches it. */
function destination(options: HintOptions): string {
  const user = options.env("USER")?.trim() || options.env("LOGNAME")?.trim() || "";
  const server = options.session.ssh?.serverAddress;
  // A loopback server address (ssh to localhost, a reverse tunnel) names the laptop, not this host.
  const host = (server && !isLoopbackAddress(server) ? server : "") || options.hostname().trim() ||
    "<this-host>";
  return user ? `${user}@${host}` : host;
}

function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === "::1";
}

/** True for addresses a laptop behind another network usually cannot reach by that name. */
function isPrivateAddress(address: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(address);
  if (v4) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  const lower = address.toLowerCase();
  return /^f[cd][0-9a-f]{2}:/.test(lower) || lower.startsWith("fe80:");
}

/**
 * `ssh -N -L 127.0.0.1:<port>:127.0.0.1:<port> [-p <n>] <user>@<host>` for
 * the port actually bound, or null when no hint applies (not remote, no
 * tunnel possible, or a redirect URI that is not loopback with an explicit
 * port).
 *
 * The laptop side binds the one address the browser will call, given
 * explicitly: a bare `-L <port>:…` binds `localhost`, which ssh may try as
 * `[::1]` first and warn about when that fails. Hermes's hint adds `-4`
 * instead, which also stops ssh from reaching a server that has only IPv6.
 */
export function tunnelCommand(redirectUri: string, options: HintOptions): string | null {
  const { session } = options;
  if (!session.remote || !session.canTunnel) return null;
  const target = loopbackTarget(redirectUri);
  if (target === null) return null;
  const { forwardHost: host, port } = target;
  const words = ["ssh", "-N", "-L", `${host}:${port}:${host}:${port}`];
  const sshPort = session.ssh?.serverPort;
  if (sshPort !== undefined && sshPort !== 22) words.push("-p", String(sshPort));
  words.push(destination(options));
  return words.map(shellWord).join(" ");
}

/**
 * Where to read more: the guides inside the program (a server that has only
 * the binary has no docs folder), each with Hermes's page on the web where
 * there is one.
 */
function guideLines(provider: HintProvider): string[] {
  const guides: { topic?: string; url?: string }[] = [SSH_GUIDE];
  if (provider.helpTopic || provider.docsUrl) {
    guides.push({ topic: provider.helpTopic, url: provider.docsUrl });
  }
  return guides.map(({ topic, url }, i) => {
    const where = topic ? `hermes-auth help ${topic}${url ? `  (online: ${url})` : ""}` : `${url}`;
    return `${i === 0 ? "Help:" : "     "} ${where}`;
  });
}

/** Ways in that need no tunnel, for this provider only. */
function alternatives(options: HintOptions, tunnelOffered: boolean): string[] {
  const lines: string[] = [];
  const words = pasteWords(options.provider.callbackDelivery);
  if (options.pasteBack) {
    const lead = tunnelOffered ? "Or skip the tunnel: open" : "Open";
    lines.push(`${lead} the URL, and ${words.when}, ${words.pasteIt}.`);
  } else {
    // Nothing to paste into (a script, a bot): the two-step login does the same across two runs.
    const lead = tunnelOffered ? "Or without a tunnel" : "Without a tunnel";
    lines.push(
      `${lead}: hermes-auth add ${options.provider.id} --no-wait, then --callback-url '${words.placeholder}'`,
    );
  }
  if (options.provider.deviceCode) {
    const lead = tunnelOffered || lines.length > 0 ? "Or sign" : "Sign";
    lines.push(
      `${lead} in with a code instead of a redirect: hermes-auth add ${options.provider.id} --device-code`,
    );
  }
  return lines;
}

const NO_TUNNEL_REASON: Partial<Record<SessionVerdict["kind"], string>> = {
  "cloud-console":
    "This terminal runs in a browser-based console: no SSH tunnel can carry the redirect back here.",
  container:
    "This runs inside a container: the redirect reaches your machine's 127.0.0.1, not the container's.",
};

/**
 * The lines to print right after the authorize URL, or [] when silent.
 *
 * On a remote session that can tunnel: why, the exact ssh command, where to
 * read more, and the alternatives this provider has. On a remote session that
 * cannot (browser-based consoles, containers): no command, only the
 * alternatives. Silent locally and for redirect URIs the hint cannot help with.
 */
export function sshHint(redirectUri: string, options: HintOptions): string[] {
  const { session, provider } = options;
  if (!session.remote) return [];
  const target = loopbackTarget(redirectUri);
  if (target === null) return [];

  if (!session.canTunnel) {
    const reason = NO_TUNNEL_REASON[session.kind] ??
      "The browser runs on another machine: the redirect cannot reach this one.";
    return [reason, ...alternatives(options, false), ...guideLines(provider)];
  }

  const command = tunnelCommand(redirectUri, options);
  if (command === null) return [];
  const lines = [
    `The browser's redirect to ${target.host}:${target.port} must reach this machine, not your laptop.`,
    "In a NEW terminal on your laptop, before opening the URL, run:",
    `  ${command}`,
  ];
  // A private server address seen from a public client means NAT (typical of cloud VMs).
  const ssh = session.ssh;
  if (ssh && isPrivateAddress(ssh.serverAddress) && !isPrivateAddress(ssh.clientAddress)) {
    const server = ssh.serverAddress;
    lines.push(`  (${server} is this machine's private address: use the host you ssh to instead.)`);
  }
  lines.push(...guideLines(provider), ...alternatives(options, true));
  return lines;
}
