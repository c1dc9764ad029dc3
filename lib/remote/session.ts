/**
 * Where are we running? A loopback OAuth login only works when the browser
 * runs on the same machine as the listener. This module decides, from the
 * environment, the filesystem and the OS, whether that is likely, whether an
 * SSH tunnel could bridge the gap, and whether a browser can be shown here.
 *
 * Nothing is read from globals inside {@link detectSession}: everything comes
 * through a {@link SessionProbe}, so tests pass a fake one.
 *
 * @module
 */

/** The facts {@link detectSession} looks at. */
export interface SessionProbe {
  /** An environment variable, or undefined when unset or unreadable. */
  env(name: string): string | undefined;
  /** Whether a path exists (false when it cannot be checked). */
  exists(path: string): boolean;
  /** The operating system, as in `Deno.build.os`. */
  os: typeof Deno.build.os;
  /** This machine's host name. */
  hostname(): string;
}

/** The real probe: `Deno.env`, `Deno.statSync`, `Deno.build.os`, `Deno.hostname`. */
export function defaultProbe(): SessionProbe {
  return {
    env(name: string): string | undefined {
      try {
        return Deno.env.get(name);
      } catch {
        // No --allow-env: behave as if the variable were unset.
        return undefined;
      }
    },
    exists(path: string): boolean {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    os: Deno.build.os,
    hostname(): string {
      try {
        return Deno.hostname();
      } catch {
        return "";
      }
    },
  };
}

/** The two ends of the SSH connection, from `SSH_CONNECTION`. */
export interface SshEndpoints {
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
}

/** What {@link detectSession} concluded, and why. */
export interface SessionVerdict {
  /** The browser most likely runs on another machine. */
  remote: boolean;
  /** The most useful description when several signals hold (ssh > cloud-console > container > headless). */
  kind: "local" | "ssh" | "cloud-console" | "container" | "headless";
  /** Parsed from SSH_CONNECTION ("client_ip client_port server_ip server_port"). */
  ssh?: SshEndpoints;
  /**
   * A tunnel is possible (ssh yes; browser-only cloud consoles such as Cloud
   * Shell, Codespaces web, EC2 Instance Connect have no ssh client on the user
   * side: no).
   */
  canTunnel: boolean;
  /**
   * A browser can be shown on this machine (not remote, and on Linux/BSD
   * DISPLAY or WAYLAND_DISPLAY is set; macOS/Windows yes unless remote).
   */
  canOpenBrowser: boolean;
  /** Human reasons, e.g. "SSH_CONNECTION is set (client 203.0.113.5)", "no DISPLAY or WAYLAND_DISPLAY". */
  reasons: string[];
}

/** A browser-only console, recognised by one environment variable. */
interface ConsoleSignal {
  name: string;
  variable: string;
  /** The variable must hold this value (case-insensitive); otherwise any non-empty value. */
  value?: string;
  /** The variable's value must start with this (case-insensitive). */
  prefix?: string;
}

/**
 * Browser-based terminals. Their user has a browser but no ssh client next to
 * it, so the loopback redirect cannot be tunnelled back: paste-back or device
 * code are the ways in.
 */
const CLOUD_CONSOLES: readonly ConsoleSignal[] = [
  { name: "Google Cloud Shell", variable: "CLOUD_SHELL", value: "true" },
  { name: "Google Cloud Shell", variable: "GOOGLE_CLOUD_SHELL", value: "true" },
  { name: "AWS CloudShell", variable: "AWS_EXECUTION_ENV", value: "CloudShell" },
  { name: "Azure Cloud Shell", variable: "AZUREPS_HOST_ENVIRONMENT", prefix: "cloud-shell" },
  { name: "Azure Cloud Shell", variable: "ACC_CLOUD" },
  { name: "Oracle Cloud Shell", variable: "OCI_CLI_CLOUD_SHELL", value: "true" },
  { name: "GitHub Codespaces", variable: "CODESPACES", value: "true" },
  { name: "GitHub Codespaces", variable: "CODESPACE_NAME" },
  { name: "Gitpod", variable: "GITPOD_WORKSPACE_ID" },
  { name: "Replit", variable: "REPL_ID" },
  { name: "StackBlitz", variable: "STACKBLITZ" },
  { name: "Google Colab", variable: "COLAB_RELEASE_TAG" },
];

/** Operating systems where a graphical browser needs an X11 or Wayland display. */
const NEEDS_DISPLAY: ReadonlySet<string> = new Set([
  "linux",
  "freebsd",
  "netbsd",
  "openbsd",
  "aix",
  "solaris",
  "illumos",
]);

/** An environment variable that is set to something other than empty. */
function present(probe: SessionProbe, name: string): string | undefined {
  const value = probe.env(name)?.trim();
  return value ? value : undefined;
}

/** Parse `client_ip client_port server_ip server_port`; undefined when malformed. */
function parseSshConnection(value: string): SshEndpoints | undefined {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 4) return undefined;
  const [clientAddress, clientPortText, serverAddress, serverPortText] = parts;
  const clientPort = parsePort(clientPortText);
  const serverPort = parsePort(serverPortText);
  if (clientPort === undefined || serverPort === undefined) return undefined;
  return {
    clientAddress: unmapIpv4(clientAddress),
    clientPort,
    serverAddress: unmapIpv4(serverAddress),
    serverPort,
  };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** sshd on a dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`. */
function unmapIpv4(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match ? match[1] : address;
}

function matchConsole(probe: SessionProbe, signal: ConsoleSignal): string | undefined {
  const value = present(probe, signal.variable);
  if (value === undefined) return undefined;
  if (signal.value !== undefined && value.toLowerCase() !== signal.value.toLowerCase()) {
    return undefined;
  }
  if (signal.prefix !== undefined && !value.toLowerCase().startsWith(signal.prefix)) {
    return undefined;
  }
  return `${signal.variable} is set (${signal.name})`;
}

/**
 * Decide whether the browser most likely runs on another machine, whether a
 * tunnel could fix that, and whether a browser can be opened here.
 *
 * Every signal that holds is listed in `reasons`; `kind` is the most useful
 * one for advice (ssh > cloud-console > container > headless).
 */
export function detectSession(probe: SessionProbe = defaultProbe()): SessionVerdict {
  const reasons: string[] = [];

  // SSH. OpenSSH sets all three; sudo, su and some multiplexers keep only some.
  const connection = present(probe, "SSH_CONNECTION");
  const ssh = connection === undefined ? undefined : parseSshConnection(connection);
  if (connection !== undefined) {
    reasons.push(
      ssh
        ? `SSH_CONNECTION is set (client ${ssh.clientAddress}, server ${ssh.serverAddress} port ${ssh.serverPort})`
        : `SSH_CONNECTION is set but not understood (${connection})`,
    );
  }
  const sshClient = present(probe, "SSH_CLIENT");
  if (sshClient !== undefined && connection === undefined) {
    reasons.push(`SSH_CLIENT is set (client ${sshClient.split(/\s+/)[0]})`);
  }
  const sshTty = present(probe, "SSH_TTY");
  if (sshTty !== undefined && connection === undefined) {
    reasons.push(`SSH_TTY is set (${sshTty})`);
  }
  const viaSsh = connection !== undefined || sshClient !== undefined || sshTty !== undefined;
  if (viaSsh) {
    // A multiplexer keeps the environment of the terminal that started it.
    if (present(probe, "TMUX") !== undefined) {
      reasons.push(
        "TMUX is set: the SSH variables may be stale, left by the session that started tmux",
      );
    } else if (present(probe, "STY") !== undefined) {
      reasons.push(
        "STY is set: the SSH variables may be stale, left by the session that started screen",
      );
    }
  }

  // Browser-only consoles.
  const consoleReasons: string[] = [];
  for (const signal of CLOUD_CONSOLES) {
    const reason = matchConsole(probe, signal);
    if (reason !== undefined) consoleReasons.push(reason);
  }
  reasons.push(...consoleReasons);
  const cloudConsole = consoleReasons.length > 0;

  // Containers.
  const containerReasons: string[] = [];
  if (probe.exists("/.dockerenv")) containerReasons.push("/.dockerenv exists (Docker container)");
  if (probe.exists("/run/.containerenv")) {
    containerReasons.push("/run/.containerenv exists (Podman container)");
  }
  const containerVar = present(probe, "container");
  if (containerVar !== undefined) containerReasons.push(`container=${containerVar} is set`);
  reasons.push(...containerReasons);
  const container = containerReasons.length > 0;

  // Display.
  const wsl = probe.os === "linux" &&
    (present(probe, "WSL_DISTRO_NAME") !== undefined ||
      present(probe, "WSL_INTEROP") !== undefined);
  const needsDisplay = NEEDS_DISPLAY.has(probe.os) && !wsl;
  const display = present(probe, "DISPLAY") !== undefined ||
    present(probe, "WAYLAND_DISPLAY") !== undefined;
  const headless = needsDisplay && !display;
  if (headless) reasons.push("no DISPLAY or WAYLAND_DISPLAY");
  if (wsl && !viaSsh) {
    reasons.push("WSL: the Windows browser shares 127.0.0.1 with this Linux system");
  }

  let kind: SessionVerdict["kind"];
  let remote: boolean;
  let canTunnel: boolean;
  if (viaSsh) {
    kind = "ssh";
    remote = true;
    canTunnel = true;
  } else if (cloudConsole) {
    kind = "cloud-console";
    remote = true;
    canTunnel = false;
  } else if (container) {
    kind = "container";
    // toolbox and distrobox share the host's display and network: local.
    remote = !display;
    // A tunnel to the host would reach the host's 127.0.0.1, not the container's.
    canTunnel = false;
    if (display) {
      reasons.push("a display is set: the container shares it, so the browser is local");
    }
  } else if (headless) {
    kind = "headless";
    remote = true;
    // Most likely reached over SSH with the variables lost (sudo, su, mosh).
    canTunnel = true;
  } else {
    kind = "local";
    remote = false;
    canTunnel = false;
    if (reasons.length === 0) reasons.push("no SSH, cloud console or container signal");
  }

  const canOpenBrowser = !remote && (!needsDisplay || display);
  return { remote, kind, ...(ssh ? { ssh } : {}), canTunnel, canOpenBrowser, reasons };
}
