/**
 * Parse what a person pasted back into the terminal when the browser could
 * not reach the listener: the address of the page that failed to load (a
 * provider that redirects), or the code a provider's page shows when its
 * script could not reach the app (accounts.x.ai).
 *
 * @module
 */

/**
 * Outcome of {@link parsePastedCallback}. `reason` is one line and never
 * holds the code. `stateless` is true when the paste carried no state (a bare
 * code, or a query cut short): the login's own state stands in for it.
 */
export type PasteResult =
  | { ok: true; url: URL; stateless: boolean }
  | { ok: false; reason: string };

/** Options of {@link parsePastedCallback}. */
export interface PasteOptions {
  /** The redirect URI of this login; the returned URL is built on it. */
  redirectUri: string;
  /** The state sent in the authorize URL. */
  expectedState: string;
  /**
   * What the person should paste, for the reasons, e.g. "the code the page
   * shows". Default: "the address of the page that failed to load".
   */
  pasteWhat?: string;
}

const WRAPPERS: Record<string, string> = { '"': '"', "'": "'", "`": "`", "<": ">" };

/** Characters an authorization code is made of (RFC 6749 VSCHAR, minus what a URL or sentence adds). */
const BARE_CODE = /^[A-Za-z0-9._~+/=-]+$/;

const DEFAULT_WHAT = "the address of the page that failed to load";

/**
 * Parse what a person pasted: the full redirect URL, just its query
 * (`?code=…&state=…` or `code=…&state=…`), or the bare code. Trims
 * whitespace and surrounding quotes/angle brackets.
 *
 * Without a state (a bare code, a query cut short) the login's own state
 * stands in: the code is still bound to this login by PKCE, since only this
 * process holds the verifier its challenge was made from. A state that is
 * there and differs is refused: that paste belongs to another login.
 *
 * A URL whose path or port differs from the redirect URI's is still accepted
 * when it carries code or error (ports differ across tunnels). The returned
 * URL is `redirectUri` with the pasted query parameters (all of them, `iss`
 * included), suitable for oauth4webapi.validateAuthResponse.
 */
export function parsePastedCallback(input: string, options: PasteOptions): PasteResult {
  const what = options.pasteWhat ?? DEFAULT_WHAT;
  const text = unwrap(input);
  if (text === "") return fail("nothing was pasted");
  if (/\s/.test(text)) {
    return fail(`the pasted text contains spaces; paste only ${what}, on one line`);
  }

  const params = queryOf(text, options.redirectUri);
  if (params === undefined) {
    if (!BARE_CODE.test(text)) {
      return fail(`that is neither a callback address nor a code; paste ${what}`);
    }
    return built(options, new URLSearchParams({ code: text }), true);
  }

  const codes = params.getAll("code");
  const errors = params.getAll("error");
  const states = params.getAll("state");
  if (codes.length === 0 && errors.length === 0) {
    if (params.has("client_id") || params.has("response_type")) {
      return fail(
        `that is the address of the login page itself, not its answer; approve there, then paste ${what}`,
      );
    }
    return fail(`no code= or error= in what was pasted; paste ${what}`);
  }
  if (codes.length > 1 || errors.length > 1 || states.length > 1) {
    return fail("the pasted address repeats code, error or state; copy it again from the browser");
  }
  if (states.length === 1 && states[0] !== options.expectedState) {
    return fail(
      "state mismatch — the pasted address is from another login; use the newest link this login printed",
    );
  }
  return built(options, params, states.length === 0);
}

/** The redirect URI with `params`, the login's state filled in when the paste had none. */
function built(options: PasteOptions, params: URLSearchParams, stateless: boolean): PasteResult {
  if (stateless) params.set("state", options.expectedState);
  const url = new URL(options.redirectUri);
  url.search = params.toString();
  return { ok: true, url, stateless };
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
