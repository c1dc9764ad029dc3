/**
 * The loopback callback listener: a tiny HTTP server on 127.0.0.1 that
 * receives the provider's redirect, answers the browser with a short page and
 * hands the callback URL to the login flow exactly once.
 *
 * Some providers' pages do not redirect but call the redirect URI from script
 * (accounts.x.ai): a cross-origin request that the browser preflights. The
 * listener speaks CORS to those pages only — the origins it is given — and
 * refuses every other origin's preflight, so no other web page can read what
 * it answers (Fetch standard, "CORS protocol"; Hermes's `do_OPTIONS` and
 * `_maybe_write_cors_headers` in hermes_cli/auth.py answer accounts.x.ai the
 * same way).
 *
 * It never prints: refusals that do not end the wait are reported through
 * `onWarning`, everything else through the returned {@link CallbackServer}.
 *
 * @module
 */

import { AuthError, Exit } from "../errors.ts";

/** Options of {@link startCallbackServer}. */
export interface CallbackServerOptions {
  /** Preferred port; 0 = OS-assigned. */
  port: number;
  /** When `port` is busy (AddrInUse), bind an OS-assigned port instead. */
  portFallback: boolean;
  /** Callback path, e.g. `/callback`. */
  path: string;
  /** The `state` sent in the authorize URL; callbacks carrying another are refused. */
  expectedState: string;
  /** Provider wording, e.g. "xAI authorization received. You can close this tab." */
  pages: { success: string; failure: string };
  /**
   * Origins (`https://accounts.x.ai`) whose pages may call the callback from
   * script: their preflights are answered and responses to them carry
   * `Access-Control-Allow-Origin`. Any other origin gets no CORS header, and
   * its preflight is refused. Default: none.
   */
  allowedOrigins?: readonly string[];
  /**
   * Called for requests that were refused but do not end the wait: state
   * mismatch, foreign Host header, another origin's preflight. Messages never
   * contain codes or tokens.
   */
  onWarning?: (message: string) => void;
}

/** A running listener. Close it (or `await using` it) when the login is over. */
export interface CallbackServer extends AsyncDisposable {
  /** The port actually bound. */
  port: number;
  /** `http://127.0.0.1:${port}${path}`. */
  redirectUri: string;
  /**
   * Settles once: with the full callback URL (carrying code+state, or
   * error=…+state) of the first request whose state matches. The URL is
   * `redirectUri` with the request's query, whatever Host the browser used.
   * Rejects with AuthError `listener_closed` when the server is closed before
   * any callback arrived (the rejection is pre-handled: ignoring it is safe).
   */
  result: Promise<URL>;
  /** Idempotent; does not wait for stuck connections. */
  close(): Promise<void>;
}

/**
 * How long close() lets responses that are already being written finish (so
 * the browser that delivered the callback still gets its page) before the
 * server is torn down. Stuck connections never count: they have no response
 * in flight.
 */
const RESPONSE_GRACE_MS = 500;

/** The methods the callback path answers. */
const ALLOW = "GET, HEAD, OPTIONS";

/** Longest piece of provider-sent text or Host header echoed anywhere. */
const MAX_ECHO = 200;

/** The one request header the provider's page may send; Hermes allows exactly this one. */
const ALLOWED_REQUEST_HEADERS = "Content-Type";

const SECURITY_HEADERS: Record<string, string> = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
};

/**
 * Start the callback listener on 127.0.0.1.
 *
 * Status codes follow one rule: 200 means the request was accepted as the
 * login's callback (success page, the provider's error page, or "already
 * received"); 4xx means the listener refused it and keeps waiting.
 *
 * @throws AuthError `port_in_use` when the port is busy and `portFallback` is
 * false; `listen_failed` when the port cannot be bound for another reason.
 */
export function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  if (!options.path.startsWith("/")) {
    return Promise.reject(new TypeError(`callback path must start with "/": ${options.path}`));
  }
  const { promise: result, resolve, reject } = Promise.withResolvers<URL>();
  // A closed server with no callback rejects `result`; callers that already
  // moved on (paste won, timeout) must not get an unhandled rejection.
  result.catch(() => {});
  let settled = false;
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  const warnedHosts = new Set<string>();
  const warnedOrigins = new Set<string>();
  const allowedOrigins = new Set(options.allowedOrigins ?? []);

  let port = 0;
  let redirectUri = "";
  const handler = (req: Request, info: Deno.ServeHandlerInfo): Response => {
    const response = withCors(req, respond(req));
    // Track the response until it is on the wire so close() can let it finish.
    const done = info.completed.then(() => {}, () => {});
    inFlight.add(done);
    done.then(() => inFlight.delete(done));
    return response;
  };

  function respond(req: Request): Response {
    const host = req.headers.get("host");
    if (!isOwnHost(host, port)) {
      const shown = host === null ? "(none)" : quote(host);
      // Once per foreign host: a rebinding page may retry in a loop.
      if (!warnedHosts.has(shown)) {
        warnedHosts.add(shown);
        options.onWarning?.(`refused a request for host ${shown}: possible DNS rebinding`);
      }
      return plain(403, "Forbidden: this listener only answers requests for its own address.");
    }
    const url = new URL(req.url);
    if (url.pathname !== options.path) return plain(404, "Not found.");
    if (req.method === "OPTIONS") return preflight(req);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(405, "Method not allowed.", { Allow: ALLOW });
    }
    if (settled) {
      return page(200, "Login already received", [
        "This login was already received. You can close this tab.",
      ]);
    }
    const params = url.searchParams;
    const error = params.get("error");
    if (error === null && params.get("code") === null) {
      return page(400, "No authorization in this request", [
        "This address carries neither an authorization code nor an error.",
        "Re-run the login and open the newest link it prints.",
      ]);
    }
    const state = params.get("state");
    if (state === null || !constantTimeEqual(state, options.expectedState)) {
      options.onWarning?.(
        "refused a callback whose state does not match this login (a tab from an older login?); still waiting",
      );
      return page(400, "State mismatch", [
        "state mismatch — this tab is from an old login; re-run the login or use the newest link",
      ]);
    }
    // A HEAD is a probe (prefetcher, link checker), never the browser's
    // navigation: answer it, but leave the result to the real GET.
    if (req.method === "GET") {
      settled = true;
      const callback = new URL(redirectUri);
      callback.search = url.search;
      resolve(callback);
    }
    if (error === null) return page(200, "Authorization received", [options.pages.success]);
    const description = params.get("error_description");
    const lines = [options.pages.failure, `Error: ${clip(error)}`];
    if (description) lines.push(clip(description));
    lines.push("Return to the terminal for what to do next.");
    return page(200, "Authorization failed", lines);
  }

  /**
   * OPTIONS on the callback path. A CORS preflight (Origin plus
   * Access-Control-Request-Method) from an allowed origin gets 204, and
   * withCors adds the grant; from any other origin 403 with no grant, so the
   * browser never sends that page's request. A plain OPTIONS learns the methods.
   */
  function preflight(req: Request): Response {
    const origin = req.headers.get("origin");
    if (origin === null || !req.headers.has("access-control-request-method")) {
      return new Response(null, { status: 204, headers: { ...SECURITY_HEADERS, Allow: ALLOW } });
    }
    if (allowedOrigins.has(origin)) {
      return new Response(null, { status: 204, headers: { ...SECURITY_HEADERS } });
    }
    const shown = quote(origin);
    // Once per origin, like foreign hosts: a page may retry in a loop.
    if (!warnedOrigins.has(shown)) {
      warnedOrigins.add(shown);
      options.onWarning?.(
        `refused a cross-origin request from ${shown}: only the provider's own pages may call the listener`,
      );
    }
    return plain(403, "Forbidden: this origin may not call the listener.");
  }

  /**
   * CORS headers on every answer on the callback path: `Vary: Origin` always
   * (the answer depends on it), the grant only for an allowed origin. The
   * private-network grant answers Chrome's Private Network Access preflight,
   * sent when a public page (accounts.x.ai) calls a loopback address.
   */
  function withCors(req: Request, response: Response): Response {
    if (!isOwnHost(req.headers.get("host"), port)) return response;
    if (new URL(req.url).pathname !== options.path) return response;
    const headers = response.headers;
    headers.append("Vary", "Origin");
    const origin = req.headers.get("origin");
    if (origin === null || !allowedOrigins.has(origin)) return response;
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Allow-Methods", "GET, OPTIONS");
    headers.set("Access-Control-Allow-Headers", ALLOWED_REQUEST_HEADERS);
    if (
      req.method === "OPTIONS" &&
      req.headers.get("access-control-request-private-network") === "true"
    ) {
      headers.set("Access-Control-Allow-Private-Network", "true");
    }
    return response;
  }

  const serve = (p: number) =>
    Deno.serve({
      hostname: "127.0.0.1",
      port: p,
      signal: abort.signal,
      onListen() {},
      // The handler does not throw; if it ever did, the default onError would print.
      onError: () => plain(500, "Internal error."),
    }, handler);

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    try {
      server = serve(options.port);
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse) || !options.portFallback || options.port === 0) {
        throw e;
      }
      server = serve(0);
    }
  } catch (e) {
    return Promise.reject(listenError(e, options.port));
  }
  port = server.addr.port;
  redirectUri = `http://127.0.0.1:${port}${options.path}`;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      if (inFlight.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(inFlight),
          new Promise((r) => timer = setTimeout(r, RESPONSE_GRACE_MS)),
        ]);
        clearTimeout(timer);
      }
      // Deno.serve's shutdown() is graceful and waits for every connection,
      // including one stalled mid-request; the abort signal cancels them all.
      abort.abort();
      await server.finished;
      if (!settled) {
        settled = true;
        reject(
          new AuthError(
            "listener_closed",
            "the callback listener closed before a callback arrived",
          ),
        );
      }
    })();
    return closing;
  }

  return Promise.resolve({
    port,
    redirectUri,
    result,
    close,
    [Symbol.asyncDispose]: close,
  });
}

function listenError(e: unknown, port: number): unknown {
  if (e instanceof Deno.errors.AddrInUse) {
    return new AuthError("port_in_use", `port 127.0.0.1:${port} is already in use`, {
      exit: Exit.FAILURE,
      fix: `find what holds it: lsof -iTCP:${port} -sTCP:LISTEN`,
      cause: e,
    });
  }
  if (e instanceof Error) {
    return new AuthError(
      "listen_failed",
      `cannot listen on 127.0.0.1:${port}: ${e.message}`,
      { exit: Exit.FAILURE, cause: e },
    );
  }
  return e;
}

/** Host must name this listener: a page on another origin (DNS rebinding) may not drive it. */
function isOwnHost(host: string | null, port: number): boolean {
  if (host === null) return false;
  const h = host.toLowerCase();
  if (h === `127.0.0.1:${port}` || h === `localhost:${port}`) return true;
  // Browsers leave the default port out of Host.
  return port === 80 && (h === "127.0.0.1" || h === "localhost");
}

/** Compare without an early exit, so timing does not reveal how much of the state matched. */
function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < y.length; i++) diff |= (x[i] ?? 0) ^ y[i];
  return diff === 0;
}

/** Untrusted text made safe for a one-line warning. */
function quote(s: string): string {
  return JSON.stringify(clip(s));
}

function clip(s: string): string {
  return s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO)}…` : s;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra },
  });
}

function page(status: number, title: string, lines: string[]): Response {
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}</style>
</head>
<body>
${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("\n")}
</body>
</html>
`;
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8" },
  });
}
