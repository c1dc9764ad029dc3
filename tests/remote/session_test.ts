import assert from "node:assert/strict";
import { defaultProbe, detectSession, type SessionProbe } from "../../lib/remote/session.ts";

function probe(
  env: Record<string, string>,
  options: { os?: typeof Deno.build.os; files?: string[]; hostname?: string } = {},
): SessionProbe {
  const files = new Set(options.files ?? []);
  return {
    env: (name) => env[name],
    exists: (path) => files.has(path),
    os: options.os ?? "linux",
    hostname: () => options.hostname ?? "box",
  };
}

const DESKTOP = { DISPLAY: ":0" };

Deno.test("a Linux desktop is local and can open a browser", () => {
  const verdict = detectSession(probe(DESKTOP));
  assert.equal(verdict.kind, "local");
  assert.equal(verdict.remote, false);
  assert.equal(verdict.canOpenBrowser, true);
  assert.equal(verdict.canTunnel, false);
  assert.equal(verdict.ssh, undefined);
  assert.ok(verdict.reasons.length > 0);
});

Deno.test("WAYLAND_DISPLAY alone is a display", () => {
  const verdict = detectSession(probe({ WAYLAND_DISPLAY: "wayland-0" }));
  assert.equal(verdict.kind, "local");
  assert.equal(verdict.canOpenBrowser, true);
});

Deno.test("macOS and Windows need no DISPLAY", () => {
  for (const os of ["darwin", "windows"] as const) {
    const verdict = detectSession(probe({}, { os }));
    assert.equal(verdict.kind, "local", os);
    assert.equal(verdict.canOpenBrowser, true, os);
  }
});

Deno.test("SSH_CONNECTION makes an ssh session and is parsed", () => {
  const verdict = detectSession(
    probe({ ...DESKTOP, SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 2222" }),
  );
  assert.equal(verdict.kind, "ssh");
  assert.equal(verdict.remote, true);
  assert.equal(verdict.canTunnel, true);
  assert.equal(verdict.canOpenBrowser, false);
  assert.deepEqual(verdict.ssh, {
    clientAddress: "203.0.113.5",
    clientPort: 51234,
    serverAddress: "198.51.100.7",
    serverPort: 2222,
  });
  assert.ok(verdict.reasons.some((r) => r.startsWith("SSH_CONNECTION is set (client 203.0.113.5")));
});

Deno.test("SSH_CONNECTION with IPv6 and IPv4-mapped addresses", () => {
  const v6 = detectSession(probe({ SSH_CONNECTION: "2001:db8::5 40000 2001:db8::7 22" }));
  assert.equal(v6.ssh?.serverAddress, "2001:db8::7");
  const mapped = detectSession(
    probe({ SSH_CONNECTION: "::ffff:203.0.113.5 40000 ::ffff:198.51.100.7 22" }),
  );
  assert.equal(mapped.ssh?.clientAddress, "203.0.113.5");
  assert.equal(mapped.ssh?.serverAddress, "198.51.100.7");
});

Deno.test("SSH_CLIENT or SSH_TTY alone still mean ssh, without endpoints", () => {
  const cases: Record<string, string>[] = [{ SSH_CLIENT: "203.0.113.5 51234 22" }, {
    SSH_TTY: "/dev/pts/3",
  }];
  for (const env of cases) {
    const verdict = detectSession(probe(env));
    assert.equal(verdict.kind, "ssh");
    assert.equal(verdict.remote, true);
    assert.equal(verdict.canTunnel, true);
    assert.equal(verdict.ssh, undefined);
  }
});

Deno.test("a malformed SSH_CONNECTION is still ssh and says so", () => {
  const verdict = detectSession(probe({ SSH_CONNECTION: "garbage" }));
  assert.equal(verdict.kind, "ssh");
  assert.equal(verdict.ssh, undefined);
  assert.ok(verdict.reasons.some((r) => r.includes("not understood")));
});

Deno.test("empty variables do not count", () => {
  const verdict = detectSession(probe({ ...DESKTOP, SSH_CONNECTION: "", CODESPACES: "" }));
  assert.equal(verdict.kind, "local");
});

Deno.test("TMUX with ssh variables warns that they may be stale", () => {
  const verdict = detectSession(
    probe({ SSH_CONNECTION: "203.0.113.5 1 198.51.100.7 22", TMUX: "/tmp/tmux-1000/default,1,0" }),
  );
  assert.equal(verdict.kind, "ssh");
  assert.ok(verdict.reasons.some((r) => r.includes("TMUX") && r.includes("stale")));
});

Deno.test("browser-only cloud consoles cannot tunnel", () => {
  const cases: Record<string, string>[] = [
    { CLOUD_SHELL: "true" },
    { CODESPACES: "true" },
    { CODESPACE_NAME: "fuzzy-space-waddle" },
    { GITPOD_WORKSPACE_ID: "abc" },
    { REPL_ID: "xyz" },
    { STACKBLITZ: "1" },
    { AWS_EXECUTION_ENV: "CloudShell" },
    { AZUREPS_HOST_ENVIRONMENT: "cloud-shell/1.0" },
  ];
  for (const env of cases) {
    const verdict = detectSession(probe(env));
    assert.equal(verdict.kind, "cloud-console", JSON.stringify(env));
    assert.equal(verdict.remote, true);
    assert.equal(verdict.canTunnel, false);
    assert.equal(verdict.canOpenBrowser, false);
    assert.ok(verdict.reasons.some((r) => r.startsWith(Object.keys(env)[0])));
  }
});

Deno.test("AWS_EXECUTION_ENV other than CloudShell is not a console", () => {
  const verdict = detectSession(probe({ ...DESKTOP, AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x" }));
  assert.equal(verdict.kind, "local");
});

Deno.test("ssh wins over a cloud console, and every reason is kept", () => {
  const verdict = detectSession(
    probe({ SSH_CONNECTION: "203.0.113.5 1 198.51.100.7 22", CODESPACES: "true" }, {
      files: ["/.dockerenv"],
    }),
  );
  assert.equal(verdict.kind, "ssh");
  assert.equal(verdict.canTunnel, true);
  assert.ok(verdict.reasons.some((r) => r.startsWith("SSH_CONNECTION")));
  assert.ok(verdict.reasons.some((r) => r.startsWith("CODESPACES")));
  assert.ok(verdict.reasons.some((r) => r.includes("/.dockerenv")));
  assert.ok(verdict.reasons.includes("no DISPLAY or WAYLAND_DISPLAY"));
});

Deno.test("cloud console wins over container", () => {
  const verdict = detectSession(probe({ GITPOD_WORKSPACE_ID: "w" }, { files: ["/.dockerenv"] }));
  assert.equal(verdict.kind, "cloud-console");
});

Deno.test("containers: /.dockerenv, /run/.containerenv, $container", () => {
  for (
    const [env, files] of [
      [{}, ["/.dockerenv"]],
      [{}, ["/run/.containerenv"]],
      [{ container: "podman" }, []],
    ] as [Record<string, string>, string[]][]
  ) {
    const verdict = detectSession(probe(env, { files }));
    assert.equal(verdict.kind, "container");
    assert.equal(verdict.remote, true);
    assert.equal(verdict.canTunnel, false);
    assert.equal(verdict.canOpenBrowser, false);
  }
});

Deno.test("a container sharing the desktop's display (toolbox) is local", () => {
  const verdict = detectSession(probe({ ...DESKTOP }, { files: ["/run/.containerenv"] }));
  assert.equal(verdict.kind, "container");
  assert.equal(verdict.remote, false);
  assert.equal(verdict.canOpenBrowser, true);
});

Deno.test("headless Linux is remote, may tunnel, cannot open a browser", () => {
  const verdict = detectSession(probe({}));
  assert.equal(verdict.kind, "headless");
  assert.equal(verdict.remote, true);
  assert.equal(verdict.canTunnel, true);
  assert.equal(verdict.canOpenBrowser, false);
  assert.deepEqual(verdict.reasons, ["no DISPLAY or WAYLAND_DISPLAY"]);
});

Deno.test("headless also applies to the BSDs", () => {
  assert.equal(detectSession(probe({}, { os: "freebsd" })).kind, "headless");
});

Deno.test("WSL without a display is local: the Windows browser is used", () => {
  const verdict = detectSession(probe({ WSL_DISTRO_NAME: "Ubuntu" }));
  assert.equal(verdict.kind, "local");
  assert.equal(verdict.canOpenBrowser, true);
});

Deno.test("ssh on macOS is still remote", () => {
  const verdict = detectSession(probe({ SSH_TTY: "/dev/ttys001" }, { os: "darwin" }));
  assert.equal(verdict.kind, "ssh");
  assert.equal(verdict.canOpenBrowser, false);
});

Deno.test("defaultProbe reads the real process without throwing", () => {
  const real = defaultProbe();
  assert.equal(real.os, Deno.build.os);
  assert.equal(typeof real.hostname(), "string");
  assert.equal(real.exists("/definitely/not/here/hermes-auth"), false);
  assert.equal(real.env("HERMES_AUTH_SURELY_UNSET_VARIABLE"), undefined);
  const verdict = detectSession();
  assert.ok(["local", "ssh", "cloud-console", "container", "headless"].includes(verdict.kind));
});
