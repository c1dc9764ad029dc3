/**
 * A mock of Spotify's accounts service (accounts.spotify.com) for tests and the demo: the
 * authorization code flow with PKCE for an app the user registered themselves (a public client,
 * no secret), and the refresh grant.
 *
 * What it reproduces from the real service, because the CLI has to cope with it:
 * - `/authorize` checks the app first and answers a bad `client_id` or `redirect_uri` with an
 *   HTML page and no redirect ("INVALID_CLIENT: Invalid client", "INVALID_CLIENT: Invalid
 *   redirect URI"); an unknown scope is the page "Illegal scope". The redirect URI must equal a
 *   registered one character for character; the one exception, as on Spotify since 2025, is a
 *   loopback IP literal registered WITHOUT a port, which then matches any port.
 * - Registered redirect URIs follow the dashboard's rules: https, or http on 127.0.0.1 / [::1]
 *   only; `localhost` is refused. `startMockSpotify` throws on a URI the dashboard would refuse.
 * - The authorization response carries `code` and `state` only (no `iss`); a denial is
 *   `error=access_denied`.
 * - `/api/token` errors are `{error, error_description}` with status 400, invalid_client
 *   included (Spotify does not use 401 there), with Spotify's descriptions ("Invalid
 *   authorization code", "code_verifier was incorrect", "Invalid refresh token"…).
 * - Access tokens are opaque strings, not JWTs. `expires_in` is 3600.
 * - A refresh may or may not return a new refresh token: `rotateRefreshTokens` (default false)
 *   chooses. Without rotation the response has no refresh_token and the old one stays valid;
 *   with it, the response carries a new one and the old one stops working.
 *
 * Choices where the real service is not documented: PKCE errors on `/authorize` go back to the
 * redirect URI as `error=invalid_request` (RFC 6749 §4.1.2.1); a code is burnt by any exchange
 * attempt; a code issued without `code_challenge` can never be exchanged, since the mock's apps
 * have no secret.
 *
 * Run it on its own with
 * `deno run -A tests/mock/spotify_mock.ts [--port N] [--auto-approve] [--client-id ID]
 * [--redirect-uri URI]…`.
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../../lib/oauth/sleep.ts";
import { escapeHtml, html, locationOf, redirect, textOfPage } from "./pages.ts";
import { base64UrlEncode } from "./jwt.ts";

/** The app id the mock knows unless told otherwise. */
export const SPOTIFY_TEST_CLIENT_ID = "test-spotify-client";
/** The redirect URI registered for the app unless told otherwise (Hermes's default). */
export const SPOTIFY_DEFAULT_REDIRECT_URI = "http://127.0.0.1:43827/spotify/callback";
/** Title of the consent page (a browser test looks for it). */
export const SPOTIFY_CONSENT_TITLE = "Authorize Hermes Agent — Spotify (mock)";
/** Every scope Spotify's Web API defines; anything else is "Illegal scope". */
export const SPOTIFY_SCOPES: readonly string[] = [
  "ugc-image-upload",
  "user-read-playback-state",
  "user-modify-playback-state",
  "user-read-currently-playing",
  "app-remote-control",
  "streaming",
  "playlist-read-private",
  "playlist-read-collaborative",
  "playlist-modify-private",
  "playlist-modify-public",
  "user-follow-modify",
  "user-follow-read",
  "user-read-playback-position",
  "user-top-read",
  "user-read-recently-played",
  "user-library-modify",
  "user-library-read",
  "user-read-email",
  "user-read-private",
  "user-personalized",
  "user-soa-link",
  "user-soa-unlink",
  "soa-manage-entitlements",
  "soa-manage-partner",
  "soa-create-partner",
];
/** The account the mock signs in. */
export const SPOTIFY_MOCK_USER = { id: "mock-listener", displayName: "Mock Listener" };

const TRANSACTION_TTL_MS = 10 * 60 * 1000;

/** How the mock behaves; fixed for the server's lifetime. */
export interface MockSpotifyOptions {
  /** Ids of the registered apps. Default ["test-spotify-client"]. */
  clientIds?: readonly string[];
  /**
   * Redirect URIs registered for every app. Default
   * ["http://127.0.0.1:43827/spotify/callback"]. Also mutable later through `redirectUris`.
   */
  redirectUris?: readonly string[];
  /** Authorize redirects straight back with a code (no consent page). Default false. */
  autoApprove?: boolean;
  /** Refresh responses carry a new refresh token and revoke the old one. Default false. */
  rotateRefreshTokens?: boolean;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Authorization code lifetime in seconds. Default 600. */
  codeTtl?: number;
  /** Port to bind, default 0. */
  port?: number;
  /** Clock in epoch milliseconds, for every expiry. Default Date.now. */
  now?: () => number;
}

/** Misbehaviours to inject; tests may change them at any time. */
export interface MockSpotifyFaults {
  /** Authorize redirects back with error=access_denied (after validating the request). */
  deny?: boolean;
  /**
   * Code exchanges answer this status: 400 invalid_grant, 401 invalid_client, 429 with
   * Retry-After, 5xx server_error.
   */
  tokenStatus?: number;
  /** Refresh grants answer this status, with the same errors as `tokenStatus`. */
  refreshStatus?: number;
  /** Delay every token endpoint answer by this many ms (cut short when the server closes). */
  slowMs?: number;
  /** Scopes left out of every grant, as when an app may not have them; `scope` shows the rest. */
  withholdScopes?: string[];
}

/** Request counters; every request counts, whether it succeeds or not. */
export interface MockSpotifyStats {
  authorizeRequests: number;
  codeExchanges: number;
  refreshes: number;
  tokenRequests: number;
  lastAuthorizeParams?: URLSearchParams;
  lastTokenParams?: URLSearchParams;
}

/** A running mock; `await using mock = await startMockSpotify()` closes it at scope end. */
export interface MockSpotify extends AsyncDisposable {
  /** "http://127.0.0.1:<port>": what HERMES_SPOTIFY_ACCOUNTS_BASE_URL should be. */
  baseUrl: string;
  /** `${baseUrl}/authorize` */
  authorizationEndpoint: string;
  /** `${baseUrl}/api/token` */
  tokenEndpoint: string;
  /** Registered redirect URIs; push to register one more (checked like the dashboard does). */
  redirectUris: string[];
  faults: MockSpotifyFaults;
  stats: MockSpotifyStats;
  /**
   * Play the browser: GET the authorize URL, then (unless autoApprove) press Agree on the
   * consent page; returns the redirect Location (the callback URL with code and state) WITHOUT
   * fetching it. Throws with the page's message when Spotify answers with an error page.
   */
  approve(authorizeUrl: string): Promise<string>;
  /** Same, pressing Cancel: the returned callback URL carries error=access_denied. */
  deny(authorizeUrl: string): Promise<string>;
  /** Is this a live access token issued by the mock (not expired, not revoked)? */
  isValidAccessToken(accessToken: string): boolean;
  /** Revoke every refresh token (so the next refresh gets invalid_grant), as when the user removes the app. */
  revokeAll(): void;
  close(): Promise<void>;
}

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state?: string;
  codeChallenge?: string;
  scope: string[];
}

interface Grant {
  clientId: string;
  scope: string[];
  revoked: boolean;
}

interface CodeRecord extends AuthorizeRequest {
  expiresAt: number;
  used: boolean;
}

type Handler = (request: Request) => Response | Promise<Response>;

/** A token endpoint error: `{error, error_description}` with its status. */
class TokenError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

/**
 * Starts the mock on 127.0.0.1 (port 0 unless told otherwise). Rejects when a redirect URI in
 * `options.redirectUris` is one the Spotify dashboard would refuse.
 */
export function startMockSpotify(options: MockSpotifyOptions = {}): Promise<MockSpotify> {
  try {
    return Promise.resolve(start(options));
  } catch (error) {
    return Promise.reject(error);
  }
}

function start(options: MockSpotifyOptions): MockSpotify {
  const config = {
    clientIds: [...(options.clientIds ?? [SPOTIFY_TEST_CLIENT_ID])],
    autoApprove: options.autoApprove ?? false,
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    accessTokenTtl: options.accessTokenTtl ?? 3600,
    codeTtl: options.codeTtl ?? 600,
  };
  const redirectUris = [...(options.redirectUris ?? [SPOTIFY_DEFAULT_REDIRECT_URI])];
  for (const uri of redirectUris) assertRegistrable(uri);
  const now = options.now ?? Date.now;
  const faults: MockSpotifyFaults = {};
  const stats: MockSpotifyStats = {
    authorizeRequests: 0,
    codeExchanges: 0,
    refreshes: 0,
    tokenRequests: 0,
  };
  const transactions = new Map<string, AuthorizeRequest & { expiresAt: number }>();
  const codes = new Map<string, CodeRecord>();
  const refreshTokens = new Map<string, Grant>();
  const accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  const grants: Grant[] = [];
  const closing = new AbortController();

  const routes: Record<string, Record<string, Handler>> = {
    "/authorize": { GET: (request) => authorize(new URL(request.url).searchParams, false) },
    "/authorize/decision": { POST: authorizeDecision },
    "/api/token": { POST: token },
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen() {} },
    async (request) => {
      const route = routes[new URL(request.url).pathname];
      if (!route) return text("Not found", 404);
      const handler = route[request.method];
      if (!handler) {
        return text("Method not allowed", 405, { allow: Object.keys(route).join(", ") });
      }
      try {
        return await handler(request);
      } catch (error) {
        if (error instanceof TokenError) return tokenError(error);
        return tokenError(new TokenError("server_error", String(error), 500));
      }
    },
  );
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  let closed: Promise<void> | undefined;

  /** GET /authorize. `forceConsent` lets deny() reach the page under autoApprove. */
  function authorize(params: URLSearchParams, forceConsent: boolean): Response {
    stats.authorizeRequests++;
    stats.lastAuthorizeParams = params;
    const clientId = params.get("client_id");
    if (!clientId) return errorPage("Missing required parameter: client_id");
    if (!config.clientIds.includes(clientId)) return errorPage("INVALID_CLIENT: Invalid client");
    const redirectUri = params.get("redirect_uri");
    if (!redirectUri) return errorPage("Missing required parameter: redirect_uri");
    if (!isRegistered(redirectUri)) return errorPage("INVALID_CLIENT: Invalid redirect URI");
    const responseType = params.get("response_type");
    if (!responseType) return errorPage("Missing required parameter: response_type");
    if (responseType !== "code") {
      return errorPage(
        `unsupported_response_type: response_type must be code, not ${responseType}`,
      );
    }
    const scope = (params.get("scope") ?? "").split(" ").filter(Boolean);
    if (scope.some((s) => !SPOTIFY_SCOPES.includes(s))) return errorPage("Illegal scope");
    const state = params.get("state") || undefined;
    const fail = (description: string) =>
      redirect(redirectUri, { error: "invalid_request", error_description: description, state });
    const codeChallenge = params.get("code_challenge") || undefined;
    const method = params.get("code_challenge_method") || undefined;
    if (codeChallenge !== undefined || method !== undefined) {
      if (!codeChallenge) return fail("code_challenge is required with code_challenge_method");
      if (method !== "S256") return fail("code_challenge_method must be S256");
      if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
        return fail("code_challenge is not a base64url SHA-256 digest");
      }
    }
    if (faults.deny) return redirect(redirectUri, { error: "access_denied", state });
    const request: AuthorizeRequest = { clientId, redirectUri, state, codeChallenge, scope };
    if (config.autoApprove && !forceConsent) return approveRequest(request);
    const transactionId = randomToken(16);
    transactions.set(transactionId, { ...request, expiresAt: now() + TRANSACTION_TTL_MS });
    return consentPage(transactionId, request);
  }

  function isRegistered(redirectUri: string): boolean {
    if (redirectUris.includes(redirectUri)) return true;
    // Spotify: a loopback IP literal registered without a port accepts any port at request time.
    let asked: URL;
    try {
      asked = new URL(redirectUri);
    } catch {
      return false;
    }
    if (asked.port === "" || !isLoopbackIpLiteral(asked.hostname)) return false;
    const portless = new URL(asked);
    portless.port = "";
    return redirectUris.some((uri) => {
      const registered = new URL(uri);
      return registered.port === "" && isLoopbackIpLiteral(registered.hostname) &&
        registered.href === portless.href;
    });
  }

  function approveRequest(request: AuthorizeRequest): Response {
    const code = `AQ${randomToken(48)}`;
    codes.set(code, { ...request, expiresAt: now() + config.codeTtl * 1000, used: false });
    return redirect(request.redirectUri, { code, state: request.state });
  }

  async function authorizeDecision(request: Request): Promise<Response> {
    const params = new URLSearchParams(await request.text());
    const id = params.get("transaction_id") ?? "";
    const transaction = transactions.get(id);
    transactions.delete(id);
    if (!transaction || transaction.expiresAt <= now()) {
      return errorPage("This authorization request has expired or was already answered.");
    }
    const decision = params.get("decision");
    if (decision === "approve") return approveRequest(transaction);
    if (decision === "deny") {
      return redirect(transaction.redirectUri, {
        error: "access_denied",
        state: transaction.state,
      });
    }
    return errorPage("decision must be approve or deny.");
  }

  async function token(request: Request): Promise<Response> {
    stats.tokenRequests++;
    const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    const body = await request.text();
    const params = type === "application/x-www-form-urlencoded"
      ? new URLSearchParams(body)
      : new URLSearchParams();
    stats.lastTokenParams = params;
    const grantType = params.get("grant_type");
    if (grantType === "authorization_code") stats.codeExchanges++;
    if (grantType === "refresh_token") stats.refreshes++;
    if (faults.slowMs) await sleep(faults.slowMs, closing.signal);
    if (closing.signal.aborted) {
      throw new TokenError("temporarily_unavailable", "the server is shutting down", 503);
    }
    const injected = grantType === "refresh_token" ? faults.refreshStatus : faults.tokenStatus;
    if (injected !== undefined) throw injectedError(injected, grantType === "refresh_token");
    if (!grantType) {
      throw new TokenError("unsupported_grant_type", "grant_type parameter is missing");
    }
    if (request.headers.has("authorization") || params.get("client_secret")) {
      // The mock's apps are PKCE apps: no secret exists, so any secret is wrong.
      throw new TokenError("invalid_client", "Invalid client secret");
    }
    const clientId = params.get("client_id");
    if (!clientId || !config.clientIds.includes(clientId)) {
      throw new TokenError("invalid_client", "Invalid client");
    }
    if (grantType === "authorization_code") return await codeGrant(params, clientId);
    if (grantType === "refresh_token") return refreshGrant(params, clientId);
    throw new TokenError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  }

  async function codeGrant(params: URLSearchParams, clientId: string): Promise<Response> {
    const code = params.get("code");
    if (!code) throw new TokenError("invalid_request", "code must be supplied");
    const record = codes.get(code);
    if (!record || record.used) throw new TokenError("invalid_grant", "Invalid authorization code");
    // Any attempt burns the code, so a verifier cannot be guessed by retrying.
    record.used = true;
    if (record.expiresAt <= now()) {
      throw new TokenError("invalid_grant", "Authorization code expired");
    }
    if (record.clientId !== clientId) {
      throw new TokenError("invalid_grant", "Invalid authorization code");
    }
    if (params.get("redirect_uri") !== record.redirectUri) {
      throw new TokenError("invalid_grant", "Invalid redirect URI");
    }
    const verifier = params.get("code_verifier");
    if (!verifier) throw new TokenError("invalid_request", "code_verifier required");
    if (record.codeChallenge === undefined) {
      throw new TokenError("invalid_grant", "code_verifier was incorrect");
    }
    if (
      !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || await s256(verifier) !== record.codeChallenge
    ) {
      throw new TokenError("invalid_grant", "code_verifier was incorrect");
    }
    const grant: Grant = { clientId, scope: grantedScope(record.scope), revoked: false };
    grants.push(grant);
    return tokenResponse(issueTokens(grant, true));
  }

  function refreshGrant(params: URLSearchParams, clientId: string): Response {
    const refreshToken = params.get("refresh_token");
    if (!refreshToken) throw new TokenError("invalid_request", "refresh_token must be supplied");
    const grant = refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== clientId) {
      throw new TokenError("invalid_grant", "Invalid refresh token");
    }
    if (grant.revoked) throw new TokenError("invalid_grant", "Refresh token revoked");
    if (config.rotateRefreshTokens) refreshTokens.delete(refreshToken);
    return tokenResponse(issueTokens(grant, config.rotateRefreshTokens));
  }

  function grantedScope(requested: string[]): string[] {
    const withheld = faults.withholdScopes ?? [];
    return requested.filter((s) => !withheld.includes(s));
  }

  function issueTokens(grant: Grant, withRefreshToken: boolean): Record<string, unknown> {
    const accessToken = `BQ${randomToken(96)}`;
    accessTokens.set(accessToken, { grant, expiresAt: now() + config.accessTokenTtl * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: "Bearer",
      scope: grant.scope.join(" "),
      expires_in: config.accessTokenTtl,
    };
    if (withRefreshToken) {
      const refreshToken = `AQ${randomToken(96)}`;
      refreshTokens.set(refreshToken, grant);
      body.refresh_token = refreshToken;
    }
    return body;
  }

  async function browse(authorizeUrl: string, decision: "approve" | "deny"): Promise<string> {
    if (new URL(authorizeUrl).origin !== baseUrl) {
      throw new Error(`${authorizeUrl} is not on this mock (${baseUrl})`);
    }
    // Under autoApprove there is no page to press Cancel on, so ask for it without the shortcut.
    const first = decision === "deny" && config.autoApprove
      ? authorize(new URL(authorizeUrl).searchParams, true)
      : await fetch(authorizeUrl, { redirect: "manual" });
    if (first.status === 302) return await locationOf(first);
    const page = await first.text();
    if (first.status !== 200) {
      throw new Error(`authorize answered ${first.status}: ${textOfPage(page)}`);
    }
    const transactionId = /name="transaction_id" value="([^"]+)"/.exec(page)?.[1];
    if (!transactionId) throw new Error("the consent page has no transaction_id");
    const answer = await fetch(`${baseUrl}/authorize/decision`, {
      method: "POST",
      body: new URLSearchParams({ transaction_id: transactionId, decision }),
      redirect: "manual",
    });
    if (answer.status !== 302) {
      throw new Error(`decision answered ${answer.status}: ${textOfPage(await answer.text())}`);
    }
    return await locationOf(answer);
  }

  function close(): Promise<void> {
    closed ??= (async () => {
      closing.abort();
      await server.shutdown();
    })();
    return closed;
  }

  const registered: string[] = new Proxy(redirectUris, {
    set(target, property, value) {
      if (typeof property === "string" && /^\d+$/.test(property)) assertRegistrable(value);
      return Reflect.set(target, property, value);
    },
  });

  return {
    baseUrl,
    authorizationEndpoint: `${baseUrl}/authorize`,
    tokenEndpoint: `${baseUrl}/api/token`,
    redirectUris: registered,
    faults,
    stats,
    approve: (url) => browse(url, "approve"),
    deny: (url) => browse(url, "deny"),
    isValidAccessToken(accessToken) {
      const record = accessTokens.get(accessToken);
      return record !== undefined && !record.grant.revoked && record.expiresAt > now();
    },
    revokeAll() {
      for (const grant of grants) grant.revoked = true;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The dashboard's rules for a redirect URI; throws with its reason when it would refuse one. */
function assertRegistrable(uri: unknown): void {
  let url: URL;
  try {
    url = new URL(String(uri));
  } catch {
    throw new Error(`${uri} is not a URL; the Spotify dashboard would refuse it`);
  }
  if (url.hostname === "localhost") {
    throw new Error(`${uri}: localhost is not allowed; use 127.0.0.1 or [::1]`);
  }
  if (url.protocol === "http:" && !isLoopbackIpLiteral(url.hostname)) {
    throw new Error(`${uri}: http is allowed only on a loopback IP literal (127.0.0.1, [::1])`);
  }
  if (url.hash !== "") throw new Error(`${uri}: a redirect URI cannot have a fragment`);
}

function isLoopbackIpLiteral(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "[::1]";
}

function injectedError(status: number, refreshing: boolean): TokenError {
  if (status === 400) {
    const what = refreshing ? "Invalid refresh token" : "Invalid authorization code";
    return new TokenError("invalid_grant", what);
  }
  if (status === 401) return new TokenError("invalid_client", "Invalid client", 401);
  if (status === 429) {
    return new TokenError("too_many_requests", "API rate limit exceeded", 429, {
      "retry-after": "1",
    });
  }
  return new TokenError("server_error", "injected fault", status);
}

function tokenError(error: TokenError): Response {
  return json({ error: error.error, error_description: error.description }, {
    status: error.status,
    headers: { "cache-control": "no-store", ...error.headers },
  });
}

function tokenResponse(body: Record<string, unknown>): Response {
  return json(body, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
}

function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** Spotify shows these as a bare page with the message and nothing else. */
function errorPage(message: string): Response {
  return html("Error — Spotify (mock)", `<p id="error">${escapeHtml(message)}</p>`, 400);
}

function consentPage(transactionId: string, request: AuthorizeRequest): Response {
  const scopes = request.scope.map((s) => `<li>${escapeHtml(s)}</li>`).join("\n");
  return html(
    SPOTIFY_CONSENT_TITLE,
    `<h1>Hermes Agent would like to connect to your Spotify account</h1>
<p>Signed in as <strong>${escapeHtml(SPOTIFY_MOCK_USER.displayName)}</strong>. The app
<code>${escapeHtml(request.clientId)}</code> asks for:</p>
<ul id="scopes">
${scopes}
</ul>
<p>Either way you will be sent back to <code>${escapeHtml(request.redirectUri)}</code>.</p>
<form method="post" action="/authorize/decision">
<input type="hidden" name="transaction_id" value="${escapeHtml(transactionId)}">
<button type="submit" id="approve" name="decision" value="approve">Agree</button>
<button type="submit" id="deny" name="decision" value="deny">Cancel</button>
</form>`,
  );
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

function randomToken(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function serveStandalone(args: string[]): Promise<void> {
  const usage =
    "usage: spotify_mock.ts [--port N] [--auto-approve] [--client-id ID] [--redirect-uri URI]…";
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string", default: "0" },
        "auto-approve": { type: "boolean", default: false },
        "rotate-refresh-tokens": { type: "boolean", default: false },
        "client-id": { type: "string", multiple: true },
        "redirect-uri": { type: "string", multiple: true },
      },
    }));
  } catch (error) {
    // deno-lint-ignore no-console
    console.error(`${(error as Error).message}\n${usage}`);
    Deno.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    // deno-lint-ignore no-console
    console.error(`--port must be a port number, not ${values.port}`);
    Deno.exit(2);
  }
  let mock: MockSpotify;
  try {
    mock = await startMockSpotify({
      port,
      autoApprove: values["auto-approve"],
      rotateRefreshTokens: values["rotate-refresh-tokens"],
      clientIds: values["client-id"],
      redirectUris: values["redirect-uri"],
    });
  } catch (error) {
    // deno-lint-ignore no-console
    console.error((error as Error).message);
    Deno.exit(2);
  }
  // deno-lint-ignore no-console
  console.log(mock.baseUrl);
  await new Promise<void>((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const stop = () => {
      for (const signal of signals) Deno.removeSignalListener(signal, stop);
      resolve();
    };
    for (const signal of signals) Deno.addSignalListener(signal, stop);
  });
  await mock.close();
}

if (import.meta.main) await serveStandalone(Deno.args);
