import assert from "node:assert/strict";
import { join } from "node:path";
import { type DoctorDeps, doctorWith } from "../../lib/cli/doctor.ts";
import type { PortProbe } from "../../lib/remote/ports.ts";
import { detectSession } from "../../lib/remote/session.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { fakeContext, run, withHome, writeAuthJson } from "./command_context.ts";
import { poolStore, TOKENS } from "./pool_fixture.ts";

function session(env: Record<string, string>) {
  return detectSession({
    env: (name) => env[name],
    exists: () => false,
    os: "linux",
    hostname: () => "box",
  });
}

interface DepsOptions {
  env?: Record<string, string>;
  busy?: Record<number, PortProbe["holders"]>;
}

function deps(options: DepsOptions = {}): DoctorDeps {
  return {
    session: () => session(options.env ?? { DISPLAY: ":0" }),
    probePort: (port) => {
      const holders = options.busy?.[port];
      return Promise.resolve({
        port,
        free: holders === undefined,
        holders: holders ?? [],
        hint: `lsof -iTCP:${port} -sTCP:LISTEN`,
      });
    },
    which: (program) => Promise.resolve(program === "xdg-open" ? "/usr/bin/xdg-open" : null),
    os: "linux",
  };
}

/** A home Hermes would be happy with: 0700, auth.json 0600 holding a live xAI login. */
async function healthyHome(home: string, configText = "model:\n  provider: xai-oauth\n") {
  await writeAuthJson(home, poolStore());
  await Deno.chmod(home, 0o700);
  await Deno.writeTextFile(configFilePath(home), configText);
}

async function doctor(
  home: string,
  d: DoctorDeps,
  options: { json?: boolean; env?: Record<string, string> } = {},
) {
  const fake = fakeContext(home, { json: options.json, env: options.env });
  const code = await run(fake, (ctx) => doctorWith(ctx, {}, d));
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

Deno.test("a healthy setup: three sections, nothing to fix, exit 0, no token printed", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 0, stdout);
    const sections = stdout.split("\n").filter((l) => l.startsWith("◆"));
    assert.deepEqual(sections, ["◆ Environment", "◆ Files", "◆ Auth Providers"]);
    assert.match(stdout, /✓ session: local/);
    assert.match(stdout, /✓ browser: can be opened with `xdg-open`/);
    assert.match(stdout, /✓ port 56121: 127\.0\.0\.1:56121 is free \(xai-oauth\)/);
    assert.match(stdout, /✓ port 43827: 127\.0\.0\.1:43827 is free \(spotify\)/);
    assert.match(stdout, /✓ HERMES_HOME: .* \(mode 700\)/);
    assert.match(stdout, /✓ auth\.json: .* \(mode 600\): 2 provider logins, 2 pool credentials/);
    assert.match(stdout, /✓ config\.yaml: .* is valid YAML \(model\.provider xai-oauth\)/);
    assert.match(stdout, /Active provider: xai-oauth \(from config\.yaml model\.provider\)/);
    assert.match(stdout, /xai-oauth .*logged in/);
    assert.match(stdout, /Nothing needs fixing/);
    for (const token of TOKENS) assert.ok(!stdout.includes(token));
    // The writability probe leaves nothing behind.
    const names = [];
    for await (const entry of Deno.readDir(home)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["auth.json", "config.yaml"]);
  });
});

Deno.test("permissions too open: exit 1 with the chmod commands that fix them", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    await Deno.chmod(home, 0o755);
    await Deno.chmod(join(home, "auth.json"), 0o644);
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 1);
    assert.match(stdout, /✗ HERMES_HOME: .* is mode 755: other users can look inside/);
    assert.ok(stdout.includes(`→ chmod 700 ${home}`), stdout);
    assert.match(
      stdout,
      /✗ auth\.json permissions: .* is mode 644: other users can read your tokens/,
    );
    assert.ok(stdout.includes(`→ chmod 600 ${join(home, "auth.json")}`));
    assert.match(stdout, /2 problems to fix/);
  });
});

Deno.test("a malformed config.yaml is reported with its line and column: exit 1", async () => {
  await withHome(async (home) => {
    await healthyHome(home, "model:\n  provider: xai-oauth\n  default: [grok\n");
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 1);
    assert.match(stdout, /✗ config\.yaml: Invalid YAML in .*config\.yaml at line \d+, column \d+/);
  });
});

Deno.test("an auth.json that is not a Hermes store: exit 1 with what to do", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    await Deno.writeTextFile(join(home, "auth.json"), "{ not json", { mode: 0o600 });
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 1);
    assert.match(stdout, /✗ auth\.json: .* is not a Hermes auth store/);
    assert.match(stdout, /auth\.json\.corrupt/);
  });
});

Deno.test("a HERMES_HOME that is a file, or whose lock is a directory: exit 1", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(join(home, ".."), { recursive: true });
    await Deno.writeTextFile(home, "oops");
    const file = await doctor(home, deps());
    assert.equal(file.code, 1);
    assert.match(file.stdout, /✗ HERMES_HOME: HERMES_HOME .* is a file, not a directory/);
    await Deno.remove(home);

    await healthyHome(home);
    await Deno.mkdir(join(home, "auth.lock"));
    const lock = await doctor(home, deps());
    assert.equal(lock.code, 1);
    assert.match(lock.stdout, /✗ auth\.lock: .* is not a file/);
  });
});

Deno.test("nothing logged in anywhere: exit 3 (login required), files only informational", async () => {
  await withHome(async (home) => {
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 3);
    assert.match(stdout, /· HERMES_HOME: .* does not exist yet/);
    assert.match(stdout, /! logins: no provider is logged in/);
    assert.match(stdout, /A login is needed/);
  });
});

Deno.test("a dead login of the active provider: exit 3 with the command to log in again", async () => {
  await withHome(async (home) => {
    const data = poolStore();
    // deno-lint-ignore no-explicit-any
    const xai = (data.providers as any)["xai-oauth"];
    delete xai.tokens.access_token;
    delete xai.tokens.refresh_token;
    xai.last_auth_error = {
      message: "xAI refused the refresh token",
      relogin_required: true,
      code: "xai_refresh_failed",
      at: "2025-06-01T11:00:00+00:00",
    };
    // deno-lint-ignore no-explicit-any
    (data.credential_pool as any)["xai-oauth"].splice(0);
    await writeAuthJson(home, data);
    await Deno.chmod(home, 0o700);
    const { code, stdout } = await doctor(home, deps());
    assert.equal(code, 3, stdout);
    assert.match(stdout, /! active xai-oauth: the active provider xai-oauth has no usable login/);
    assert.match(stdout, /hermes-auth add xai-oauth/);
  });
});

Deno.test("a busy callback port names its holder; warnings alone keep exit 0", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    const busy = {
      56121: [{ pid: 4321, command: "python3", commandLine: "python3 -m hermes_cli.main" }],
      43827: [],
    };
    const { code, stdout } = await doctor(home, deps({ busy }));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /! port 56121: 127\.0\.0\.1:56121 is in use \(xai-oauth\): logins move/);
    assert.match(stdout, /held by pid 4321 \(python3 -m hermes_cli\.main\)/);
    assert.match(stdout, /→ stop that process \(kill 4321\)/);
    assert.match(stdout, /! port 43827: .*spotify logins fail until it is free/);
    assert.match(stdout, /lsof -iTCP:43827 -sTCP:LISTEN/);
    assert.match(stdout, /Nothing needs fixing \(2 warnings above\)/);
  });
});

Deno.test("over SSH: the remote verdict with its reasons and the ways around it", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    const env = { SSH_CONNECTION: "203.0.113.5 50000 10.0.0.2 22" };
    const { code, stdout } = await doctor(home, deps({ env }), { env: { BROWSER: "" } });
    assert.equal(code, 0);
    assert.match(stdout, /· session: remote \(ssh\)/);
    assert.match(stdout, /SSH_CONNECTION is set \(client 203\.0\.113\.5/);
    assert.match(stdout, /no DISPLAY or WAYLAND_DISPLAY/);
    assert.match(stdout, /ssh -N -L/);
    assert.match(stdout, /· browser: none can be opened here/);
  });
});

Deno.test("a BROWSER that is not installed is a warning", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    const { stdout } = await doctor(home, deps(), { env: { BROWSER: "firefox-nightly" } });
    assert.match(stdout, /! browser: \$BROWSER names `firefox-nightly`, which is not on PATH/);
  });
});

Deno.test("HERMES_INFERENCE_PROVIDER shows as overriding config.yaml", async () => {
  await withHome(async (home) => {
    await healthyHome(home, "model:\n  provider: openrouter\n");
    const env = { HERMES_INFERENCE_PROVIDER: "grok-oauth" };
    const { stdout } = await doctor(home, deps(), { env });
    assert.match(
      stdout,
      /Active provider: xai-oauth \(HERMES_INFERENCE_PROVIDER overrides config\.yaml's model\.provider openrouter\)/,
    );
  });
});

Deno.test("--json: one document with the verdict, files, providers and problems", async () => {
  await withHome(async (home) => {
    await healthyHome(home);
    await Deno.chmod(join(home, "auth.json"), 0o640);
    const { code, stdout } = await doctor(home, deps(), { json: true });
    assert.equal(code, 1);
    const doc = JSON.parse(stdout);
    assert.equal(doc.ok, false);
    assert.equal(doc.exit, 1);
    assert.equal(doc.environment.session.kind, "local");
    assert.deepEqual(doc.environment.ports.map((p: PortProbe) => [p.port, p.free]), [
      [56121, true],
      [43827, true],
    ]);
    assert.equal(doc.active_provider.id, "xai-oauth");
    assert.equal(doc.providers[0].provider, "xai-oauth");
    assert.equal(doc.providers[0].usable, true);
    assert.deepEqual(doc.problems.map((p: { name: string }) => p.name), ["auth.json permissions"]);
    assert.equal(doc.problems[0].fix, `chmod 600 ${join(home, "auth.json")}`);
    for (const token of TOKENS) assert.ok(!stdout.includes(token));
  });
});
