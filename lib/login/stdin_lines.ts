/**
 * Lines typed on stdin, shared by the successive waits of one login: the
 * wait for the callback, the prompt after a timeout, the prompt after a
 * refused code. A wait that ends stops reading without cancelling stdin, so
 * a line typed in between is not lost and the next prompt still gets input.
 *
 * @module
 */
import { lines } from "../loopback/wait.ts";

/** Shared reader of stdin's lines; {@link view} gives each wait its own iterable. */
export class StdinLines {
  #open: () => ReadableStream<Uint8Array>;
  #it?: AsyncIterator<string>;
  #pending?: Promise<IteratorResult<string>>;

  /** `open` is called once, on the first read: stdin is not touched by logins that never read it. */
  constructor(open: () => ReadableStream<Uint8Array>) {
    this.#open = open;
  }

  /** A view for one wait; its return() detaches without losing a line in flight. */
  view(): AsyncIterable<string> {
    this.#it ??= lines(this.#open())[Symbol.asyncIterator]();
    const it = this.#it;
    let detached = false;
    const next = async (): Promise<IteratorResult<string>> => {
      if (detached) return { done: true, value: undefined };
      this.#pending ??= it.next();
      const result = await this.#pending;
      if (detached) return { done: true, value: undefined }; // keep it for the next view
      this.#pending = undefined;
      return result;
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next,
        return: () => {
          detached = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
  }

  /** Stop reading stdin for good (cancels a read in progress). */
  async close(): Promise<void> {
    await this.#it?.return?.().catch(() => {});
  }
}
