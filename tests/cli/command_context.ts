/**
 * An in-process context for the list/remove/logout/model/doctor tests:
 * captured stdout/stderr, a fixed clock, an environment of the test's choosing
 * (always with a temp HERMES_HOME), and no network.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Context } from "../../lib/cli/context.ts";
import type { DoctorDeps } from "../../lib/cli/doctor.ts";
import { report } from "../../lib/cli/mod.ts";
import { Output } from "../../lib/output.ts";
import { abandonedWaits } from "../../lib/store/lock.ts";
import { lockFilePath } from "../../lib/store/paths.ts";
import { Sink as Capture } from "./fake_context.ts";

/** A context and what it printed. */
export interface Fake {
  ctx: Context;
  stdout: Capture;
  stderr: Capture;
  env: Record<string, string>;
}

/** Options of {@link fakeContext}. */
export interface FakeOptions {
  json?: boolean;
  env?: Record<string, string>;
  now?: Date;
  stdinIsTerminal?: boolean;
  /** Time zone of the times shown; default UTC. */
  timeZone?: string;
  /** The run's Ctrl-C signal; default one that never aborts. */
  signal?: AbortSignal;
}

/** The fixed "now" of these tests. */
export const NOW = new Date("2025-06-01T12:00:00Z");

/** A context on `home` (see the module doc). */
export function fakeContext(home: string, options: FakeOptions = {}): Fake {
  const stdout = new Capture();
  const stderr = new Capture();
  const env: Record<string, string> = { HERMES_HOME: home, ...options.env };
  const now = options.now ?? NOW;
  const ctx: Context = {
    env: (name) => env[name],
    out: new Output({ json: options.json === true, color: false, stdout, stderr }),
    stdin: () => new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
    stdinIsTerminal: options.stdinIsTerminal ?? false,
    fetch: () => Promise.reject(new Error("this command must not use the network")),
    now: () => now,
    timeZone: options.timeZone ?? "UTC",
    signal: options.signal ?? new AbortController().signal,
  };
  return { ctx, stdout, stderr, env };
}

/** Run a command body as lib/cli/mod.ts does: an AuthError becomes its exit code. */
export async function run(fake: Fake, body: (ctx: Context) => Promise<number>): Promise<number> {
  try {
    return await body(fake.ctx);
  } catch (e) {
    return report(fake.ctx.out, e, false);
  }
}

/** A fresh `<tmp>/hermes` (not created) for `fn`; the temp directory is removed after. */
export async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-cli-" });
  try {
    await fn(join(dir, "hermes"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Run `body` as a command run on `home` while another process holds auth.lock and after a Ctrl-C,
 * and check that the command said it waited for the lock, then stopped at the Ctrl-C (exit 130).
 * The lock is let go, and the wait given up on granted and dropped (lib/store/lock.ts), before
 * this returns.
 */
export async function assertCtrlCEndsLockWait(
  home: string,
  body: (ctx: Context) => Promise<number>,
): Promise<void> {
  const controller = new AbortController();
  controller.abort();
  const fake = fakeContext(home, { signal: controller.signal });
  await Deno.mkdir(home, { recursive: true });
  const lock = await Deno.open(lockFilePath(home), { read: true, write: true, create: true });
  let code;
  try {
    await lock.lock(true);
    code = await run(fake, body);
  } finally {
    await lock.unlock();
    lock.close();
    await abandonedWaits();
  }
  assert.equal(code, 130, fake.stderr.text);
  assert.match(fake.stderr.text, /^! Waiting for \S+auth\.lock: another process/);
  assert.match(fake.stderr.text, /✗ interrupted while waiting for \S+auth\.lock/);
}

/** Write `auth.json` (and create the home 0700) from a plain object. */
export async function writeAuthJson(home: string, data: unknown): Promise<void> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(home, "auth.json"), JSON.stringify(data, null, 2) + "\n", {
    mode: 0o600,
  });
}

/** Read `auth.json` back, loosely typed for assertions. */
// deno-lint-ignore no-explicit-any
export async function readAuthJson(home: string): Promise<any> {
  return JSON.parse(await Deno.readTextFile(join(home, "auth.json")));
}

/** doctor's probes on a local Linux machine where there is nothing to find: no session, port or tool. */
export const QUIET_DOCTOR: DoctorDeps = {
  session: () => ({ remote: false, kind: "local", canTunnel: false, reasons: [] }) as never,
  probePort: (port) => Promise.resolve({ port, free: true, holders: [], hint: "" }),
  which: () => Promise.resolve(null),
  os: "linux",
};
