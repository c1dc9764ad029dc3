/** lib/cli/context.ts lockWaitOptions: the notice a command prints while another process holds auth.lock. */
import assert from "node:assert/strict";
import { type Context, lockWaitOptions } from "../../lib/cli/context.ts";
import { Output } from "../../lib/output.ts";
import { Sink } from "./fake_context.ts";

function context(json: boolean) {
  const stdout = new Sink();
  const stderr = new Sink();
  const signal = new AbortController().signal;
  const ctx = {
    out: new Output({ json, color: false, stdout, stderr }),
    signal,
  } as unknown as Context;
  return { ctx, stdout, stderr, signal };
}

const wait = { path: "/home/ada/.hermes/auth.lock", waitedMs: 1_000, timeoutMs: 15_000 };

Deno.test("the lock notice is one line on stderr, once per command run however many waits", () => {
  const { ctx, stdout, stderr } = context(false);
  lockWaitOptions(ctx).onLockWait(wait);
  lockWaitOptions(ctx).onLockWait({ ...wait, waitedMs: 1_200 });
  assert.equal(
    stderr.text,
    "! Waiting for /home/ada/.hermes/auth.lock: another process (Hermes or hermes-auth) holds " +
      "it; waiting up to 15 s.\n",
  );
  assert.equal(stdout.text, "");
});

Deno.test("with --json the lock notice still goes to stderr and stdout stays the document", () => {
  const { ctx, stdout, stderr } = context(true);
  lockWaitOptions(ctx).onLockWait(wait);
  assert.match(stderr.text, /another process \(Hermes or hermes-auth\) holds it/);
  assert.equal(stdout.text, "");
});

Deno.test("the store calls get the run's Ctrl-C signal, but ask for it only when a wait needs it", () => {
  const { ctx, signal } = context(false);
  // The run's signal is a getter that installs the Ctrl-C listener (lib/cli/mod.ts).
  let reads = 0;
  Object.defineProperty(ctx, "signal", {
    get() {
      reads++;
      return signal;
    },
  });
  const options = lockWaitOptions(ctx);
  assert.equal(reads, 0, "building the options installs no listener");
  assert.equal(options.signal(), signal);
  assert.equal(reads, 1);
});
