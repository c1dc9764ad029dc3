/**
 * What a person sees in the browser when the listener cannot be reached, and
 * so what they are asked to paste: one set of words per way a provider's page
 * delivers the callback ({@link CallbackDelivery}), shared by the prompts, the
 * SSH hint and the errors so they never disagree.
 *
 * @module
 */
import type { CallbackDelivery } from "./types.ts";

/** Words for the paste-back instructions, each fitting into a sentence. */
export interface PasteWords {
  /** What to paste, e.g. "the code the page shows". */
  what: string;
  /** When it is there, e.g. "when the page says it couldn't reach your app". */
  when: string;
  /** The instruction that follows `when`, e.g. "paste the code it shows here". */
  pasteIt: string;
  /** The start of a question asked after a timeout, e.g. "If the page shows a code". */
  ifShown: string;
  /** What happens after approving when nothing can reach this machine (a sentence). */
  after: string;
  /** Placeholder in a command line, e.g. "<the code the page shows>". */
  placeholder: string;
}

const WORDS: Record<CallbackDelivery["kind"], PasteWords> = {
  // accounts.x.ai: "Could not establish connection. We couldn't reach your app." and the code
  // in the page; the address bar stays on the provider (Hermes #27385, #32984, PR #33880).
  script: {
    what: "the code the page shows",
    when: "when the page says it couldn't reach your app",
    pasteIt: "paste the code it shows here",
    ifShown: "If the page shows a code",
    after: "After approving, the page cannot reach this machine and shows a code instead.",
    placeholder: "<the code the page shows>",
  },
  redirect: {
    what: "the address of the page that failed to load",
    when: "when the browser fails to load the 127.0.0.1 page",
    pasteIt: "copy its address and paste it here",
    ifShown: "If the browser shows a 127.0.0.1 address that failed to load",
    after: "After approving, the browser is sent to a 127.0.0.1 address that will not load.",
    placeholder: "<the address of the page that failed to load>",
  },
};

/** The paste-back words for a provider's kind of callback delivery. */
export function pasteWords(delivery: Pick<CallbackDelivery, "kind">): PasteWords {
  return WORDS[delivery.kind];
}

/**
 * The origins whose pages may call the listener from script: the
 * authorization endpoint's own origin (whatever endpoint is in force: the
 * real one, a proxy, a test server), then the provider's `corsOrigins`.
 */
export function callbackOrigins(
  delivery: Pick<CallbackDelivery, "corsOrigins">,
  authorizationEndpoint: string,
): string[] {
  const own = URL.parse(authorizationEndpoint)?.origin;
  const all = own && own !== "null" ? [own, ...delivery.corsOrigins] : [...delivery.corsOrigins];
  return [...new Set(all)];
}
