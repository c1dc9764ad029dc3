import assert from "node:assert/strict";
import { lines, waitForCallback, type WaitOptions } from "../../lib/loopback/wait.ts";
import { isAuthError } from "../../lib/errors.ts";

const REDIRECT = "http://127.0.0.1:56121/callback";
const STATE = "state-1";
const GOOD = `${REDIRECT}?code=the-code&state=${STATE}`;

function base(overrides: Partial<WaitOptions> = {}): WaitOptions {
  return {
    timeoutMs: 5_000,
    redirectUri: REDIRECT,
    expectedState: STATE,
    ...overrides,
  };
}

/**
 * Paste input the test feeds line by line. Records whether the wait stopped
 * consuming it (return() called) — also while a next() is pending.
 */
class FakeTerminal implements AsyncIterable<string> {
  returned = false;
  #queue: string[] = [];
  #waiting?: (r: IteratorResult<string>) => void;

  type(line: string): void {
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ done: false, value: line });
    } else {
      this.#queue.push(line);
    }
  }

  end(): void {
    this.#waiting?.({ done: true, value: undefined });
    this.#waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return {
      next: () => {
        if (this.returned) return Promise.resolve({ done: true, value: undefined });
        const line = this.#queue.shift();
        if (line !== undefined) return Promise.resolve({ done: false, value: line });
        return new Promise((resolve) => this.#waiting = resolve);
      },
      return: () => {
        this.returned = true;
        this.end();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

Deno.test("listener wins: resolves with its URL and stops reading the paste input", async () => {
  const terminal = new FakeTerminal();
  const got = await waitForCallback(
    base({ listener: Promise.resolve(new URL(GOOD)), paste: terminal }),
  );
  assert.equal(got.url.href, GOOD);
  assert.equal(got.source, "listener");
  assert.equal(terminal.returned, true);
});

Deno.test("paste wins: a valid pasted address resolves while the listener still waits", async () => {
  const terminal = new FakeTerminal();
  const listener = Promise.withResolvers<URL>();
  const waiting = waitForCallback(base({ listener: listener.promise, paste: terminal }));
  terminal.type(`  "http://127.0.0.1:9999/callback?code=pasted&state=${STATE}"  `);
  const { url, source } = await waiting;
  assert.equal(source, "paste");
  assert.equal(url.origin + url.pathname, REDIRECT);
  assert.equal(url.searchParams.get("code"), "pasted");
  assert.equal(terminal.returned, true);
  // A listener result arriving later changes nothing.
  listener.resolve(new URL(`${REDIRECT}?code=late&state=${STATE}`));
});

Deno.test("invalid paste reports a reason and the wait goes on; a blank line is skipped", async () => {
  const terminal = new FakeTerminal();
  const reasons: string[] = [];
  const waiting = waitForCallback(
    base({ paste: terminal, onInvalidPaste: (r) => reasons.push(r) }),
  );
  terminal.type(`${REDIRECT}?code=stale-code&state=old`);
  terminal.type("");
  terminal.type("see https://example.com/not-it");
  terminal.type(GOOD);
  const { url } = await waiting;
  assert.equal(url.searchParams.get("code"), "the-code");
  assert.equal(reasons.length, 2);
  assert.match(reasons[0], /state mismatch/);
  assert.ok(reasons.every((r) => !r.includes("stale-code")));
});

Deno.test("the bare code a page shows, pasted, takes the expected state and says it was stateless", async () => {
  const terminal = new FakeTerminal();
  terminal.type("bare-code-123");
  const got = await waitForCallback(base({ paste: terminal }));
  assert.equal(got.source, "paste");
  assert.equal(got.stateless, true);
  assert.equal(got.url.searchParams.get("code"), "bare-code-123");
  assert.equal(got.url.searchParams.get("state"), STATE);
});

Deno.test("the timeout's fix names what this provider's page gives to paste", async () => {
  const e = await waitForCallback(
    base({ timeoutMs: 10, listener: new Promise(() => {}), pasteWhat: "the code the page shows" }),
  ).then(() => assert.fail("expected a timeout"), (e) => e);
  assert.match(e.fix ?? "", /paste the code the page shows;/);
});

Deno.test("timeout: AuthError callback_timeout, exit 4, fix names tunnel, paste and --timeout", async () => {
  const terminal = new FakeTerminal();
  const e = await waitForCallback(
    base({ timeoutMs: 30, listener: new Promise(() => {}), paste: terminal }),
  ).then(() => assert.fail("expected a timeout"), (e) => e);
  assert.ok(isAuthError(e, "callback_timeout"), String(e));
  assert.equal(e.exit, 4);
  assert.match(e.fix ?? "", /tunnel/);
  assert.match(e.fix ?? "", /paste/);
  assert.match(e.fix ?? "", /--timeout/);
  assert.equal(terminal.returned, true);
});

Deno.test("abort (Ctrl-C): AuthError interrupted, exit 130, timer cleared", async () => {
  const controller = new AbortController();
  const terminal = new FakeTerminal();
  const waiting = waitForCallback(
    base({ timeoutMs: 60_000, signal: controller.signal, paste: terminal }),
  );
  controller.abort();
  await assert.rejects(waiting, (e) => isAuthError(e, "interrupted") && e.exit === 130);
  assert.equal(terminal.returned, true);
  // The 60 s timer must be gone, or the ops sanitizer fails this test.
});

Deno.test("already aborted signal rejects at once", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    waitForCallback(base({ signal: controller.signal, listener: new Promise(() => {}) })),
    (e) => isAuthError(e, "interrupted"),
  );
});

Deno.test("listener failure is passed on", async () => {
  const boom = new Error("listener broke");
  await assert.rejects(waitForCallback(base({ listener: Promise.reject(boom) })), boom);
});

Deno.test("paste input ends with no listener: paste_input_closed instead of waiting for the timeout", async () => {
  const terminal = new FakeTerminal();
  const waiting = waitForCallback(base({ timeoutMs: 60_000, paste: terminal }));
  terminal.end();
  await assert.rejects(waiting, (e) => isAuthError(e, "paste_input_closed"));
});

Deno.test("paste input ends while a listener runs: the wait goes on", async () => {
  const terminal = new FakeTerminal();
  const listener = Promise.withResolvers<URL>();
  const waiting = waitForCallback(base({ listener: listener.promise, paste: terminal }));
  terminal.end();
  await new Promise((r) => setTimeout(r, 10));
  listener.resolve(new URL(GOOD));
  assert.equal((await waiting).url.href, GOOD);
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

Deno.test("lines splits on LF and CRLF across chunks, keeps a last unterminated line", async () => {
  const got: string[] = [];
  for await (const line of lines(streamOf(["one\r\ntw", "o\n\nthr", "ee"]))) got.push(line);
  assert.deepEqual(got, ["one", "two", "", "three"]);
});

Deno.test("lines decodes UTF-8 split across chunks", async () => {
  const bytes = new TextEncoder().encode("état\n");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes.slice(0, 2));
      c.enqueue(bytes.slice(2));
      c.close();
    },
  });
  const got: string[] = [];
  for await (const line of lines(stream)) got.push(line);
  assert.deepEqual(got, ["état"]);
});

Deno.test("lines is cancellable while a read is pending: the stream is cancelled at once", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull() {
      return new Promise(() => {}); // a terminal nobody types into
    },
    cancel() {
      cancelled = true;
    },
  });
  const listener = Promise.withResolvers<URL>();
  const waiting = waitForCallback(base({ listener: listener.promise, paste: lines(stream) }));
  await new Promise((r) => setTimeout(r, 10));
  listener.resolve(new URL(GOOD));
  assert.equal((await waiting).url.href, GOOD);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cancelled, true);
});

Deno.test("lines over a real pipe: cancel releases the read op (ops sanitizer)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "await new Promise((r) => setTimeout(r, 60_000))"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const it = lines(child.stdout)[Symbol.asyncIterator]();
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 20));
    await it.return!();
    assert.deepEqual(await pending, { done: true, value: undefined });
  } finally {
    child.kill();
    await child.status;
  }
});
