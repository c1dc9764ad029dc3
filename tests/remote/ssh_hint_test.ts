import assert from "node:assert/strict";
import { detectSession, type SessionProbe } from "../../lib/remote/session.ts";
import {
  type HintOptions,
  type HintProvider,
  SSH_GUIDE,
  sshHint,
  tunnelCommand,
} from "../../lib/remote/ssh_hint.ts";
import { xai } from "../../lib/providers/xai.ts";

const SPOTIFY: HintProvider = {
  id: "spotify",
  displayName: "Spotify",
  docsUrl: "https://hermes-agent.nousresearch.com/docs/user-guide/features/spotify",
  deviceCode: false,
  callbackDelivery: { kind: "redirect" },
};

const REDIRECT = "http://127.0.0.1:56121/callback";
const SSH_ENV = { SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 22", USER: "alice" };

function probe(env: Record<string, string>, files: string[] = []): SessionProbe {
  return {
    env: (name) => env[name],
    exists: (path) => files.includes(path),
    os: "linux",
    hostname: () => "gpu-box",
  };
}

function options(
  env: Record<string, string>,
  extra: Partial<HintOptions> & { files?: string[] } = {},
): HintOptions {
  return {
    session: detectSession(probe(env, extra.files)),
    provider: xai,
    env: (name) => env[name],
    hostname: () => "gpu-box",
    pasteBack: true,
    ...extra,
  };
}

function commandLine(lines: string[]): string {
  const line = lines.find((l) => l.trim().startsWith("ssh "));
  assert.ok(line, `no ssh command in:\n${lines.join("\n")}`);
  return line.trim();
}

// The seed's seven.

Deno.test("hint is silent off SSH", () => {
  const local = options({ DISPLAY: ":0", USER: "alice" });
  assert.deepEqual(sshHint(REDIRECT, local), []);
  assert.equal(tunnelCommand(REDIRECT, local), null);
});

Deno.test("hint prints the tunnel command on SSH", () => {
  const lines = sshHint(REDIRECT, options(SSH_ENV));
  assert.equal(commandLine(lines), "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 alice@198.51.100.7");
  assert.ok(lines.some((l) => l.includes("NEW terminal on your laptop, before opening the URL")));
  assert.ok(lines.some((l) => l.includes(xai.docsUrl!)));
  assert.ok(lines.some((l) => l.includes("hermes-auth help ssh") && l.includes(SSH_GUIDE.url)));
  assert.ok(lines.some((l) => l.includes("hermes-auth help xai")));
  assert.ok(lines.every((l) => !/(^|\s)docs\/guides\//.test(l)), "no path only a checkout has");
  assert.ok(lines.length <= 8, `${lines.length} lines`);
  assert.ok(lines.every((l) => !l.includes("\x1b")), "no colour codes");
});

Deno.test("hint uses the port actually bound, not 56121", () => {
  const lines = sshHint("http://127.0.0.1:49731/callback", options(SSH_ENV));
  assert.equal(commandLine(lines), "ssh -N -L 127.0.0.1:49731:127.0.0.1:49731 alice@198.51.100.7");
  assert.ok(lines.every((l) => !l.includes("56121")));
});

Deno.test("hint is silent for a non-loopback redirect URI", () => {
  for (const uri of ["https://example.com:8443/callback", "http://10.0.0.5:56121/callback"]) {
    assert.deepEqual(sshHint(uri, options(SSH_ENV)), [], uri);
    assert.equal(tunnelCommand(uri, options(SSH_ENV)), null, uri);
  }
});

Deno.test("hint is silent for a malformed redirect URI", () => {
  for (const uri of ["not a url", "", "http://", "http://127.0.0.1:99999/callback"]) {
    assert.deepEqual(sshHint(uri, options(SSH_ENV)), [], uri);
  }
});

Deno.test("hint without a provider docs URL still points at the SSH guide", () => {
  const provider: HintProvider = {
    id: "custom",
    displayName: "Custom",
    deviceCode: false,
    callbackDelivery: { kind: "redirect" },
  };
  const lines = sshHint(REDIRECT, options(SSH_ENV, { provider }));
  assert.ok(lines.some((l) => l.includes("hermes-auth help ssh")));
  const urls = lines.flatMap((l) => l.match(/https?:\/\/\S+/g) ?? []);
  assert.deepEqual(urls, [`${SSH_GUIDE.url})`], lines.join("\n"));
});

Deno.test("hint accepts a localhost redirect URI", () => {
  const lines = sshHint("http://localhost:43827/spotify/callback", options(SSH_ENV));
  assert.equal(commandLine(lines), "ssh -N -L 127.0.0.1:43827:127.0.0.1:43827 alice@198.51.100.7");
});

// Beyond the seed.

Deno.test("destination is the server address of SSH_CONNECTION, not the hostname", () => {
  const cmd = tunnelCommand(REDIRECT, options(SSH_ENV));
  assert.ok(cmd?.endsWith(" alice@198.51.100.7"), cmd ?? "null");
  assert.ok(!cmd?.includes("gpu-box"));
});

Deno.test("without SSH_CONNECTION the hostname is the destination", () => {
  const cmd = tunnelCommand(REDIRECT, options({ SSH_TTY: "/dev/pts/1", USER: "alice" }));
  assert.equal(cmd, "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 alice@gpu-box");
});

Deno.test("a loopback server address falls back to the hostname", () => {
  const env = { SSH_CONNECTION: "127.0.0.1 40000 127.0.0.1 22", USER: "alice" };
  assert.equal(
    tunnelCommand(REDIRECT, options(env)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 alice@gpu-box",
  );
});

Deno.test("an IPv6 server address is used without brackets; the -L spec keeps 127.0.0.1", () => {
  const env = { SSH_CONNECTION: "2001:db8::5 40000 2001:db8::7 22", USER: "alice" };
  assert.equal(
    tunnelCommand(REDIRECT, options(env)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 alice@2001:db8::7",
  );
});

Deno.test("the laptop side binds 127.0.0.1 explicitly, with no -4: IPv6-only servers stay reachable", () => {
  const env = { SSH_CONNECTION: "2001:db8::5 40000 2001:db8::7 22", USER: "alice" };
  const cmd = tunnelCommand(REDIRECT, options(env))!;
  assert.ok(cmd.startsWith("ssh -N -L 127.0.0.1:56121:"), cmd);
  assert.ok(!/(^| )-4( |$)/.test(cmd), cmd);
  assert.ok(cmd.endsWith(" alice@2001:db8::7"), cmd);
});

Deno.test("an IPv6 server on another port gets -p, and the same explicit bind", () => {
  const env = { SSH_CONNECTION: "2001:db8::5 40000 2001:db8::7 2222", USER: "alice" };
  assert.equal(
    tunnelCommand(REDIRECT, options(env)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 -p 2222 alice@2001:db8::7",
  );
});

Deno.test("an IPv6 server's hint keeps the command on one line of its own", () => {
  const env = { SSH_CONNECTION: "2001:db8::5 40000 2001:db8::7 22", USER: "alice" };
  assert.equal(
    commandLine(sshHint(REDIRECT, options(env))),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 alice@2001:db8::7",
  );
});

Deno.test("an [::1] redirect forwards to [::1]", () => {
  assert.equal(
    tunnelCommand("http://[::1]:56121/callback", options(SSH_ENV)),
    "ssh -N -L '[::1]:56121:[::1]:56121' alice@198.51.100.7",
  );
});

Deno.test("a non-22 SSH port adds -p", () => {
  const env = { SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 2222", USER: "alice" };
  assert.equal(
    tunnelCommand(REDIRECT, options(env)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 -p 2222 alice@198.51.100.7",
  );
});

Deno.test("LOGNAME is used when USER is missing; neither: no user@", () => {
  const base = { SSH_CONNECTION: SSH_ENV.SSH_CONNECTION };
  assert.ok(
    tunnelCommand(REDIRECT, options({ ...base, LOGNAME: "bob" }))?.endsWith(" bob@198.51.100.7"),
  );
  assert.equal(
    tunnelCommand(REDIRECT, options(base)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 198.51.100.7",
  );
});

Deno.test("an odd user name is shell-quoted", () => {
  const env = { ...SSH_ENV, USER: "CORP\\alice" };
  assert.equal(
    tunnelCommand(REDIRECT, options(env)),
    "ssh -N -L 127.0.0.1:56121:127.0.0.1:56121 'CORP\\alice@198.51.100.7'",
  );
});

Deno.test("device-code advice only for providers that have the device code grant", () => {
  const withDevice = sshHint(REDIRECT, options(SSH_ENV));
  assert.ok(withDevice.some((l) => l.includes("hermes-auth add xai-oauth --device-code")));
  const without = sshHint(REDIRECT, options(SSH_ENV, { provider: SPOTIFY }));
  assert.ok(without.every((l) => !l.includes("--device-code")), without.join("\n"));
  assert.ok(without.some((l) => l.includes(SPOTIFY.docsUrl!)));
});

Deno.test("paste-back names what the page leaves: xAI's code, a redirect provider's failed address", () => {
  const xaiLines = sshHint(REDIRECT, options(SSH_ENV));
  assert.ok(
    xaiLines.includes(
      "Or skip the tunnel: open the URL, and when the page says it couldn't reach your app, paste the code it shows here.",
    ),
    xaiLines.join("\n"),
  );
  assert.ok(xaiLines.every((l) => !l.includes("fails to load")), xaiLines.join("\n"));
  const spotifyLines = sshHint(REDIRECT, options(SSH_ENV, { provider: SPOTIFY }));
  assert.ok(
    spotifyLines.includes(
      "Or skip the tunnel: open the URL, and when the browser fails to load the 127.0.0.1 page, copy its address and paste it here.",
    ),
    spotifyLines.join("\n"),
  );
  const twoStep = sshHint(REDIRECT, options(SSH_ENV, { pasteBack: false }));
  assert.ok(
    twoStep.some((l) => l.endsWith("--callback-url '<the code the page shows>'")),
    twoStep.join("\n"),
  );
  const twoStepSpotify = sshHint(
    REDIRECT,
    options(SSH_ENV, { pasteBack: false, provider: SPOTIFY }),
  );
  assert.ok(
    twoStepSpotify.some((l) =>
      l.endsWith("--callback-url '<the address of the page that failed to load>'")
    ),
    twoStepSpotify.join("\n"),
  );
});

Deno.test("paste-back advice only when paste-back is offered", () => {
  const paste = sshHint(REDIRECT, options(SSH_ENV));
  assert.ok(paste.some((l) => l.includes("paste the code it shows here")));
  const noPaste = sshHint(REDIRECT, options(SSH_ENV, { pasteBack: false }));
  assert.ok(noPaste.every((l) => !l.includes("paste")));
  assert.ok(noPaste.length > 0 && noPaste.length <= 7);
  // Nothing to paste into (a script over SSH): the two-step login is offered instead.
  assert.ok(
    noPaste.some((l) => l.includes("hermes-auth add xai-oauth --no-wait")),
    noPaste.join("\n"),
  );
  assert.ok(paste.every((l) => !l.includes("--no-wait")));
});

Deno.test("cloud console: no tunnel command but paste advice", () => {
  const cloud = options({ CLOUD_SHELL: "true", USER: "alice" });
  assert.equal(tunnelCommand(REDIRECT, cloud), null);
  const lines = sshHint(REDIRECT, cloud);
  assert.ok(lines.length > 0 && lines.length <= 7);
  assert.ok(lines.every((l) => !l.trim().startsWith("ssh ")), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("paste the code it shows here")));
  assert.ok(lines.some((l) => l.includes("--device-code")));
  const spotify = sshHint(REDIRECT, { ...cloud, provider: SPOTIFY });
  assert.ok(spotify.every((l) => !l.includes("--device-code")));
  assert.ok(spotify.some((l) => l.includes("paste it here")));
});

Deno.test("cloud console is silent for a non-loopback redirect", () => {
  assert.deepEqual(sshHint("https://example.com/cb", options({ CODESPACES: "true" })), []);
});

Deno.test("container: no tunnel command, paste advice", () => {
  const container = options({ USER: "root" }, { files: ["/.dockerenv"] });
  assert.equal(tunnelCommand(REDIRECT, container), null);
  assert.ok(sshHint(REDIRECT, container).some((l) => l.includes("paste the code it shows here")));
});

Deno.test("hint is silent for port 0 or no port", () => {
  for (
    const uri of [
      "http://127.0.0.1:0/callback",
      "http://127.0.0.1/callback",
      "http://localhost/callback",
    ]
  ) {
    assert.deepEqual(sshHint(uri, options(SSH_ENV)), [], uri);
    assert.equal(tunnelCommand(uri, options(SSH_ENV)), null, uri);
  }
});

Deno.test("an explicit default port still counts as a port", () => {
  assert.equal(
    tunnelCommand("http://127.0.0.1:80/callback", options(SSH_ENV)),
    "ssh -N -L 127.0.0.1:80:127.0.0.1:80 alice@198.51.100.7",
  );
});

Deno.test("a private server address seen from a public client gets a NAT note", () => {
  const env = { SSH_CONNECTION: "203.0.113.5 51234 172.31.4.9 22", USER: "ubuntu" };
  const lines = sshHint(REDIRECT, options(env));
  assert.ok(lines.some((l) => l.includes("172.31.4.9 is this machine's private address")));
  assert.ok(lines.length <= 8);
  const lan = { SSH_CONNECTION: "192.168.1.20 51234 192.168.1.30 22", USER: "pi" };
  assert.ok(sshHint(REDIRECT, options(lan)).every((l) => !l.includes("private address")));
});
