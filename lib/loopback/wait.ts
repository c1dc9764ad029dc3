/**
 * Wait for the login's callback from whichever source delivers it first: the
 * loopback listener, a URL the person pastes, the timeout, or Ctrl-C.
 *
 * @module
 */

import { AuthError, Exit } from "../errors.ts";
import { parsePastedCallback } from "./paste.ts";

/** A callback and where it came from: the listener, or a person who pasted it. */
export interface ReceivedCallback {
  url: URL;
  source: "listener" | "paste";
  /** A pasted code or query without a state: the login's own state stands in for it. */
  stateless: boolean;
}

/** Options of {@link waitForCallback}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** CallbackServer.result, when a listener runs. */
  listener?: Promise<URL>;
  /**
   * Lines typed by the user (already split into lines). Each is parsed with
   * parsePastedCallback; invalid ones call onInvalidPaste(reason) and the wait
   * goes on. Blank lines are skipped silently.
   */
  paste?: AsyncIterable<string>;
  /** Told why a pasted line was refused (one line, never the code). */
  onInvalidPaste?: (reason: string) => void;
  /** Aborted on Ctrl-C by the CLI. */
  signal?: AbortSignal;
  /** Redirect URI of this login (pasted callbacks are rebuilt on it). */
  redirectUri: string;
  /** State sent in the authorize URL. */
  expectedState: string;
  /**
   * What the person should paste, in the refusal reasons and the timeout's
   * fix: "the code the page shows" or (default) "the address of the page
   * that failed to load".
   */
  pasteWhat?: string;
}

/**
 * Race listener, pasted input, timeout and abort. Resolves with the callback
 * and its source. Rejects with AuthError `callback_timeout` (exit 4), `interrupted`
 * (exit 130), `paste_input_closed` (exit 1: the paste input ended and no
 * listener runs, so nothing could ever arrive), or whatever the listener
 * rejects with. Clears its timer and stops consuming the paste iterator (calls
 * its `return()`) whatever wins.
 */
export function waitForCallback(options: WaitOptions): Promise<ReceivedCallback> {
  const { promise, resolve, reject } = Promise.withResolvers<ReceivedCallback>();
  if (options.signal?.aborted) return Promise.reject(interrupted());
  let done = false;
  let iterator: AsyncIterator<string> | undefined;

  const onAbort = () => finish(() => reject(interrupted()));
  function finish(settle: () => void): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // return() on an async generator waits for its pending next(); lines()
    // cancels its read at once. Either way nobody needs to wait for it here.
    iterator?.return?.().catch(() => {});
    settle();
  }

  const timer = setTimeout(
    () => finish(() => reject(timedOut(options.timeoutMs, options.pasteWhat))),
    options.timeoutMs,
  );
  options.signal?.addEventListener("abort", onAbort, { once: true });
  options.listener?.then(
    (url) => finish(() => resolve({ url, source: "listener", stateless: false })),
    (e) => finish(() => reject(e)),
  );
  if (options.paste !== undefined) {
    iterator = options.paste[Symbol.asyncIterator]();
    consumePaste(iterator, options, (got) => finish(() => resolve(got))).then(
      () => {
        if (options.listener === undefined) finish(() => reject(inputClosed()));
      },
      (e) => {
        if (options.listener === undefined) finish(() => reject(inputClosed(e)));
      },
    );
  }
  return promise;

  /** Read lines until one parses; returns when the input ends or the wait is over. */
  async function consumePaste(
    it: AsyncIterator<string>,
    opts: WaitOptions,
    onPaste: (got: ReceivedCallback) => void,
  ): Promise<void> {
    while (!done) {
      const next = await it.next();
      if (next.done || done) return;
      if (next.value.trim() === "") continue;
      const parsed = parsePastedCallback(next.value, opts);
      if (parsed.ok) {
        return onPaste({ url: parsed.url, source: "paste", stateless: parsed.stateless });
      }
      opts.onInvalidPaste?.(parsed.reason);
    }
  }
}

function timedOut(
  ms: number,
  pasteWhat = "the address of the page that failed to load",
): AuthError {
  return callbackTimeout(
    ms,
    "if the browser could not reach 127.0.0.1, check the SSH tunnel (ssh -N -L) or paste " +
      `${pasteWhat}; allow more time with --timeout SECONDS`,
  );
}

/** AuthError `callback_timeout` (exit 4) after `ms` of waiting in all, with `fix`. */
export function callbackTimeout(ms: number, fix: string): AuthError {
  const span = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
  return new AuthError("callback_timeout", `no callback arrived within ${span}`, {
    exit: Exit.TIMEOUT,
    fix,
  });
}

function interrupted(): AuthError {
  return new AuthError("interrupted", "login interrupted", { exit: Exit.INTERRUPTED });
}

function inputClosed(cause?: unknown): AuthError {
  return new AuthError(
    "paste_input_closed",
    "the input ended before a callback address was pasted",
    {
      exit: Exit.FAILURE,
      fix: "run the login in a terminal and paste the address, or use --no-wait and finish " +
        "with --callback-url URL",
      cause,
    },
  );
}

/**
 * Turn a readable byte stream (e.g. Deno.stdin.readable) into an
 * AsyncIterable of lines (UTF-8, without `\n` or `\r\n`; a last line without
 * a newline is still yielded). Cancellable: `return()` cancels the stream at
 * once, even while a read is pending, which releases the stream.
 */
export function lines(stream: ReadableStream<Uint8Array>): AsyncIterable<string> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<string> {
      const reader = stream.getReader();
      const decoder = new TextDecoder();
      const queue: string[] = [];
      let buffer = "";
      let ended = false;
      let cancelled = false;

      function split(): void {
        let i: number;
        while ((i = buffer.indexOf("\n")) >= 0) {
          queue.push(buffer.slice(0, i).replace(/\r$/, ""));
          buffer = buffer.slice(i + 1);
        }
      }

      return {
        async next(): Promise<IteratorResult<string>> {
          while (queue.length === 0 && !ended && !cancelled) {
            const chunk = await reader.read();
            if (chunk.done) {
              ended = true;
              buffer += decoder.decode();
              if (buffer !== "") queue.push(buffer.replace(/\r$/, ""));
              buffer = "";
            } else {
              buffer += decoder.decode(chunk.value, { stream: true });
              split();
            }
          }
          if (cancelled || queue.length === 0) return { done: true, value: undefined };
          return { done: false, value: queue.shift()! };
        },
        async return(): Promise<IteratorResult<string>> {
          if (!cancelled) {
            cancelled = true;
            queue.length = 0;
            await reader.cancel().catch(() => {});
            reader.releaseLock();
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
