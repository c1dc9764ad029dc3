/**
 * Parse a callback a person pasted into the terminal: when the browser could
 * not reach the listener (remote host, no tunnel), the address of the page it
 * failed to load still carries the code and state.
 *
 * @module
 */

/** Outcome of {@link parsePastedCallback}. `reason` is one line and never holds the code. */
export type PasteResult = { ok: true; url: URL } | { ok: false; reason: string };

/** Options of {@link parsePastedCallback}. */
export interface PasteOptions {
  /** The redirect URI of this login; the returned URL is built on it. */
  redirectUri: string;
  /** The state sent in the authorize URL. */
  expectedState: string;
  /** Accept a bare code (no state); then the state is taken as `expectedState`. */
  allowBareCode: boolean;
}

const WRAPPERS: Record<string, string> = { '"': '"', "'": "'", "`": "`", "<": ">" };

/** Characters an authorization code is made of (RFC 6749 VSCHAR, minus what a URL or sentence adds). */
const BARE_CODE = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * Parse what a person pasted: the full redirect URL (the address of the page
 * the browser failed to load), just the query `?code=…&state=…`, or
 * `code=…&state=…`; with `allowBareCode` also a bare code (then state is taken
 * as expectedState). Trims whitespace and surrounding quotes/angle brackets.
 *
 * A URL whose path or port differs from the redirect URI's is still accepted
 * when it carries code or error (ports differ across tunnels), but a different
 * state is refused with a reason. The returned URL is `redirectUri` with the
 * pasted query parameters (all of them, `iss` included), suitable for
 * oauth4webapi.validateAuthResponse.
 */
export function parsePastedCallback(input: string, options: PasteOptions): PasteResult {
  const text = unwrap(input);
  if (text === "") return fail("nothing was pasted");
  if (/\s/.test(text)) {
    return fail("the pasted text contains spaces; paste only the address of the page, on one line");
  }

  const params = queryOf(text, options.redirectUri);
  if (params === undefined) {
    if (!BARE_CODE.test(text)) {
      return fail(
        "that is not a callback address; paste the whole address of the page that failed to load",
      );
    }
    if (!options.allowBareCode) {
      return fail(
        "that looks like a bare code; paste the whole address of the page that failed to load (it carries the state too)",
      );
    }
    const url = new URL(options.redirectUri);
    url.search = new URLSearchParams({ code: text, state: options.expectedState }).toString();
    return { ok: true, url };
  }

  const codes = params.getAll("code");
  const errors = params.getAll("error");
  const states = params.getAll("state");
  if (codes.length === 0 && errors.length === 0) {
    if (params.has("client_id") || params.has("response_type")) {
      return fail(
        "that is the login link itself; open it in a browser, sign in, then paste the address of the page that failed to load",
      );
    }
    return fail(
      "no code= or error= in what was pasted; paste the whole address of the page that failed to load",
    );
  }
  if (codes.length > 1 || errors.length > 1 || states.length > 1) {
    return fail("the pasted address repeats code, error or state; copy it again from the browser");
  }
  if (states.length === 0) {
    return fail(
      "the pasted address has no state=; paste the whole address of the page that failed to load",
    );
  }
  if (states[0] !== options.expectedState) {
    return fail(
      "state mismatch — the pasted address is from another login; use the newest link this login printed",
    );
  }
  const url = new URL(options.redirectUri);
  url.search = params.toString();
  return { ok: true, url };
}

function fail(reason: string): PasteResult {
  return { ok: false, reason };
}

/** Trim whitespace and any surrounding quotes or angle brackets, nested or not. */
function unwrap(input: string): string {
  let s = input.trim();
  for (;;) {
    const close = WRAPPERS[s[0]];
    if (close === undefined || s.length < 2 || !s.endsWith(close)) return s;
    s = s.slice(1, -1).trim();
  }
}

/**
 * The query of a pasted URL, `?query` or `key=value&…` text; undefined when
 * the text is none of those (maybe a bare code).
 */
function queryOf(text: string, redirectUri: string): URLSearchParams | undefined {
  let url: URL | undefined;
  if (/^https?:\/\//i.test(text)) {
    url = URL.parse(text) ?? undefined;
    if (url === undefined) return new URLSearchParams();
  } else if (text.startsWith("/")) {
    url = URL.parse(text, redirectUri) ?? undefined;
  } else if (/^[a-z0-9.-]+(:\d+)?\/[^?]*\?/i.test(text)) {
    // Address bars hide the scheme: `127.0.0.1:56121/callback?code=…`.
    url = URL.parse(`http://${text}`) ?? undefined;
  }
  if (url !== undefined) {
    // response_mode=fragment puts the parameters after `#`.
    const search = url.search !== "" || url.hash === "" ? url.search : url.hash.slice(1);
    return new URLSearchParams(search);
  }
  if (text.startsWith("?")) return new URLSearchParams(text);
  if (/^[A-Za-z0-9_.~-]+=/.test(text) && hasCallbackKey(new URLSearchParams(text))) {
    return new URLSearchParams(text);
  }
  return undefined;
}

function hasCallbackKey(params: URLSearchParams): boolean {
  return params.has("code") || params.has("error") || params.has("state");
}
