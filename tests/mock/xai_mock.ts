/**
 * A mock of xAI's authorization server (auth.x.ai with the accounts.x.ai browser pages) for
 * tests and the demo. It is deliberately strict, because the CLI is also tested against an
 * independent implementation: RFC 6749 (code, refresh), RFC 7636 (PKCE, S256 only), RFC 8628
 * (device code), RFC 8252 (loopback redirects on any port), RFC 9207 (`iss` on every
 * authorization response) and OpenID Connect (discovery, RS256 ID tokens, nonce).
 *
 * xAI quirks reproduced: `plan=generic` is required on the authorize request, and the token
 * endpoint wants `code_challenge` + `code_challenge_method` again next to `code_verifier`.
 *
 * How the consent page reaches the app (`approval`, default "script"), as accounts.x.ai does:
 * after Approve the page does not redirect. Its script calls the redirect URI
 * (`?code=…&state=…&iss=…`) cross-origin with `Content-Type: application/json`, a header that is
 * not CORS-safelisted, so the browser sends a preflight first. Hermes's listener answers that
 * preflight with 204 and allows `Content-Type` (`do_OPTIONS`, `_maybe_write_cors_headers` in
 * hermes_cli/auth.py; openclaw PR #83322 saw the same OPTIONS from auth.x.ai / accounts.x.ai).
 * The page says it is done only when the answer passed the CORS check; otherwise it says
 * "Could not establish connection. We couldn't reach your app." and shows the code, and the
 * address bar stays on the provider's page (Hermes #27385, #32984, #26923, PR #33880, #34459).
 * `approval: "redirect"` is the plain 302 of RFC 6749 §4.1.2, as Spotify and most OpenID
 * Connect servers do.
 *
 * The ID token echoes the authorize request's nonce (OpenID Connect Core §3.1.3.6) unless
 * `idTokenNonce` says otherwise: whether xAI does is unknown (Hermes stores the ID token without
 * checking it), so tests try "omit" too, and "wrong" plays an injected token.
 *
 * Behaviours a test may trip over:
 * - a refresh token is issued only when the granted scope includes `offline_access` (OIDC
 *   Core §11); an ID token only when it includes `openid`, an `email` claim only with `email`;
 * - parameters sent twice are refused and parameters with an empty value count as absent
 *   (RFC 6749 §3.1);
 * - a failed code exchange burns the code; a second use of a code that was exchanged revokes
 *   the tokens issued from it (RFC 6749 §4.1.2);
 * - `faults.tokenStatus` applies to both initial grants (authorization code and device code).
 *
 * Run it on its own with `deno run -A tests/mock/xai_mock.ts [--port N] [--auto-approve]
 * [--approval script|redirect] [--id-token-nonce echo|omit|wrong]`.
 * @module
 */
import { parseArgs } from "node:util";
import { base64UrlEncode, generateSigningKey, type SigningKey, signJwt } from "./jwt.ts";
import { sleep } from "../../lib/oauth/sleep.ts";
import { escapeHtml, html, locationOf, redirect, textOfPage } from "./pages.ts";
import { fetchFromPage } from "./cors_client.ts";

/** The public client id of Hermes Agent at xAI. */
export const XAI_CLIENT_ID = "b1a00492-073a-47ea-816f-4c329264a828";
/** Every scope the mock knows; unknown scopes are refused with `invalid_scope`. */
export const XAI_SCOPES: readonly string[] = [
  "openid",
  "profile",
  "email",
  "offline_access",
  "grok-cli:access",
  "api:access",
];
/** The one account the mock signs in. */
export const MOCK_USER = {
  sub: "xai-user-0001",
  email: "grok.user@example.com",
  name: "Grok User",
};
/** The host that `faults.foreignEndpoints` / `faults.foreignIssuer` point at. */
export const FOREIGN_ORIGIN = "https://evil.example.com";
/** The `aud` of the access tokens (xAI's inference API). */
export const ACCESS_TOKEN_AUDIENCE = "https://api.x.ai";
/** Title of the consent page (a browser test looks for it). */
export const CONSENT_TITLE = "Authorize Hermes Agent — xAI (mock)";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const TRANSACTION_TTL_MS = 10 * 60 * 1000;
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"; // RFC 8628 §6.1: no vowels, no look-alikes

/** Text of the consent page when its script could not reach the app (accounts.x.ai's words). */
export const UNREACHABLE_TEXT = "Could not establish connection. We couldn't reach your app.";

/** How the mock behaves; fixed for the server's lifetime. */
export interface MockXaiOptions {
  /**
   * How the browser gets back to the app after a decision: "script" (default; the page calls
   * the redirect URI with a preflighted fetch and shows the code when it cannot) or "redirect"
   * (a plain 302 to the redirect URI).
   */
  approval?: "script" | "redirect";
  /** The ID token's nonce: "echo" the authorize request's (default), "omit" it, or a "wrong" one. */
  idTokenNonce?: "echo" | "omit" | "wrong";
  /** Skip the consent page: authorize answers as if Approve had been pressed. Default false. */
  autoApprove?: boolean;
  /** Access token lifetime in seconds (expires_in and JWT exp). Default 3600. */
  accessTokenTtl?: number;
  /** Authorization code lifetime in seconds. Default 60. */
  codeTtl?: number;
  /** Device code lifetime in seconds. Default 600. */
  deviceCodeTtl?: number;
  /**
   * Device poll interval in seconds, enforced with slow_down. Default 5. 0 enforces nothing and
   * advertises 1 (clients refuse 0); fractions such as 0.05 are advertised as they are.
   */
  deviceInterval?: number;
  /** The public client id accepted; default "b1a00492-073a-47ea-816f-4c329264a828". */
  clientId?: string;
  /** Port to bind, default 0. */
  port?: number;
  /** Clock in epoch milliseconds, for every expiry, poll interval and JWT time. Default Date.now. */
  now?: () => number;
}

/** Misbehaviours to inject; tests may change them at any time. */
export interface MockFaults {
  /** Authorize redirects back with error=access_denied (after validating the request). */
  deny?: boolean;
  /** Discovery answers this HTTP status. */
  discoveryStatus?: number;
  /** Discovery answers 200 with a body that is not JSON. */
  discoveryInvalidJson?: boolean;
  /** Discovery names endpoints on https://evil.example.com. */
  foreignEndpoints?: boolean;
  /** Discovery's `issuer` is https://evil.example.com instead of the URL it was fetched from. */
  foreignIssuer?: boolean;
  /**
   * Code exchanges and device code grants answer this status: 400 invalid_grant, 401
   * invalid_client, 403 forbidden (subscription tier), 429 too_many_requests, else server_error.
   */
  tokenStatus?: number;
  /** Refresh grants answer this status, with the same error codes as `tokenStatus`. */
  refreshStatus?: number;
  /** The token endpoint answers 200 with a body that is not JSON. */
  tokenInvalidJson?: boolean;
  /** Delay every token endpoint answer by this many ms (cut short when the server closes). */
  slowMs?: number;
  /** Refresh responses carry no refresh_token and the old one stays valid (rotation off). */
  omitRefreshToken?: boolean;
  /** Answer this many pending device polls with slow_down, however patient the client was. */
  slowDownPolls?: number;
  /**
   * Discovery names no `device_authorization_endpoint`. Nothing records whether the real
   * auth.x.ai lists one: Hermes (`_xai_oauth_request_device_code`) and other Grok clients post
   * to `https://auth.x.ai/oauth2/device/code` without asking discovery, which still answers.
   */
  discoveryOmitsDevice?: boolean;
  /**
   * The device authorization endpoint answers this status: 4xx `unauthorized_client` (a client
   * not allowed the grant), else `server_error`.
   */
  deviceAuthorizationStatus?: number;
}

/** Request counters; every request counts, whether it succeeds or not. */
export interface MockStats {
  authorizeRequests: number;
  codeExchanges: number;
  refreshes: number;
  deviceAuthorizations: number;
  devicePolls: number;
  tokenRequests: number;
  lastAuthorizeParams?: URLSearchParams;
  lastTokenParams?: URLSearchParams;
}

/** A running mock; `await using mock = await startMockXai()` closes it at scope end. */
export interface MockXai extends AsyncDisposable {
  /** "http://127.0.0.1:<port>" */
  issuer: string;
  faults: MockFaults;
  stats: MockStats;
  /**
   * Play the browser: GET the authorize URL, then (unless autoApprove) submit the consent
   * form's Approve button; returns the callback URL (code, state and iss) WITHOUT calling it:
   * the Location of the 302 in "redirect" mode, the URL the page's script would call in
   * "script" mode. Throws when the mock answers with an error page instead.
   */
  approve(authorizeUrl: string): Promise<string>;
  /** Same, pressing Deny: the returned callback URL carries error=access_denied. */
  deny(authorizeUrl: string): Promise<string>;
  /**
   * Play the consent page's script in "script" mode: call `callbackUrl` as the page on this
   * mock's origin would (CORS preflight, then the GET, each answer CORS-checked) and return
   * what the page then shows: "done", or "unreachable" with the code. `origin` pretends the
   * page is elsewhere (e.g. https://accounts.x.ai).
   */
  callFromPage(callbackUrl: string, options?: { origin?: string }): Promise<PageOutcome>;
  /** Approve a pending device authorization by its user code (dash and case optional). */
  approveDevice(userCode: string): void;
  /** Deny a pending device authorization by its user code. */
  denyDevice(userCode: string): void;
  /** Revoke every refresh token (so the next refresh gets invalid_grant). */
  revokeAll(): void;
  close(): Promise<void>;
}

/** What the consent page shows after its script called the app. */
export type PageOutcome =
  | { shown: "done" }
  | { shown: "unreachable"; code: string | null; why: string };

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope: string[];
  nonce?: string;
}

/** Everything issued from one grant; revoking it kills all its tokens. */
interface TokenFamily {
  clientId: string;
  scope: string[];
  authTime: number;
  revoked: boolean;
  currentRefreshToken?: string;
}

interface CodeRecord extends AuthorizeRequest {
  expiresAt: number;
  used: boolean;
  family?: TokenFamily;
}

interface DeviceRecord {
  clientId: string;
  userCode: string;
  scope: string[];
  expiresAt: number;
  intervalSeconds: number;
  lastPollAt?: number;
  status: "pending" | "approved" | "denied" | "consumed";
}

type Handler = (request: Request) => Response | Promise<Response>;

/** An OAuth error answer: `{error, error_description}` with its status. */
class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string, readonly status = 400) {
    super(description);
  }
}

/**
 * One RSA key per process, made by the first mock: generating a 2048-bit key costs up to
 * hundreds of milliseconds, which dozens of short-lived mocks in a test run would pay each.
 */
let processKey: Promise<SigningKey> | undefined;

/** Starts the mock on 127.0.0.1 (port 0 unless told otherwise). */
export async function startMockXai(options: MockXaiOptions = {}): Promise<MockXai> {
  const config = {
    approval: options.approval ?? "script",
    idTokenNonce: options.idTokenNonce ?? "echo",
    autoApprove: options.autoApprove ?? false,
    accessTokenTtl: options.accessTokenTtl ?? 3600,
    codeTtl: options.codeTtl ?? 60,
    deviceCodeTtl: options.deviceCodeTtl ?? 600,
    deviceInterval: options.deviceInterval ?? 5,
    clientId: options.clientId ?? XAI_CLIENT_ID,
  };
  const now = options.now ?? Date.now;
  const key = await (processKey ??= generateSigningKey());
  const faults: MockFaults = {};
  const stats: MockStats = {
    authorizeRequests: 0,
    codeExchanges: 0,
    refreshes: 0,
    deviceAuthorizations: 0,
    devicePolls: 0,
    tokenRequests: 0,
  };
  const transactions = new Map<string, AuthorizeRequest & { expiresAt: number }>();
  const codes = new Map<string, CodeRecord>();
  const refreshTokens = new Map<string, TokenFamily>();
  const accessTokens = new Map<string, { family: TokenFamily; expiresAt: number }>();
  const deviceCodes = new Map<string, DeviceRecord>();
  const families: TokenFamily[] = [];
  const closing = new AbortController();

  const routes: Record<string, Record<string, Handler>> = {
    "/.well-known/openid-configuration": { GET: discovery },
    "/oauth2/authorize": {
      GET: (request) => authorize(new URL(request.url).searchParams, false),
      POST: async (request) => {
        const params = await formBody(request).catch(() => undefined);
        return params ? authorize(params, false) : errorPage("Send the form as a urlencoded body.");
      },
    },
    "/oauth2/authorize/decision": { POST: authorizeDecision },
    "/oauth2/token": { POST: token },
    "/oauth2/device/code": { POST: deviceAuthorization },
    "/oauth2/device": { GET: devicePage, POST: deviceDecision },
    "/oauth2/userinfo": { GET: userinfo, POST: userinfo },
    "/jwks": { GET: () => json({ keys: [key.publicJwk] }) },
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
        if (error instanceof OAuthError) return oauthError(error);
        return oauthError(new OAuthError("server_error", String(error), 500));
      }
    },
  );
  const issuer = `http://127.0.0.1:${server.addr.port}`;
  let closed: Promise<void> | undefined;

  function discovery(): Response {
    if (faults.discoveryStatus !== undefined) {
      return json({ error: "server_error", error_description: "injected fault" }, {
        status: faults.discoveryStatus,
      });
    }
    if (faults.discoveryInvalidJson) {
      return new Response('{"issuer": "', { headers: { "content-type": "application/json" } });
    }
    const base = faults.foreignEndpoints ? FOREIGN_ORIGIN : issuer;
    return json({
      issuer: faults.foreignIssuer ? FOREIGN_ORIGIN : issuer,
      authorization_endpoint: `${base}/oauth2/authorize`,
      token_endpoint: `${base}/oauth2/token`,
      ...(faults.discoveryOmitsDevice
        ? {}
        : { device_authorization_endpoint: `${base}/oauth2/device/code` }),
      userinfo_endpoint: `${base}/oauth2/userinfo`,
      jwks_uri: `${base}/jwks`,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token", DEVICE_GRANT],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      scopes_supported: XAI_SCOPES,
      claims_supported: ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "name"],
      authorization_response_iss_parameter_supported: true,
    });
  }

  /** GET/POST /oauth2/authorize. `forceConsent` lets deny() reach the page under autoApprove. */
  function authorize(params: URLSearchParams, forceConsent: boolean): Response {
    stats.authorizeRequests++;
    stats.lastAuthorizeParams = params;
    const p = readParams(params);
    for (const name of ["client_id", "redirect_uri"]) {
      if (p.duplicated.includes(name)) return errorPage(`${name} was sent more than once.`);
    }
    const clientId = p.get("client_id");
    if (!clientId) return errorPage("The request has no client_id.");
    if (clientId !== config.clientId) return errorPage(`Unknown client_id ${clientId}.`);
    const redirectUri = p.get("redirect_uri");
    if (!redirectUri) return errorPage("The request has no redirect_uri.");
    if (!isLoopbackRedirect(redirectUri)) {
      return errorPage(
        `redirect_uri ${redirectUri} is not allowed: this client may only use an http loopback ` +
          "redirect (http://127.0.0.1:<port>/<path> or http://localhost:<port>/<path>).",
      );
    }
    if (p.get("plan") !== "generic") {
      return errorPage(
        "This client must send plan=generic: accounts.x.ai refuses loopback (127.0.0.1) logins " +
          "from clients without it.",
      );
    }
    const state = p.get("state");
    const fail = (error: string, description: string) =>
      redirect(redirectUri, { error, error_description: description, state, iss: issuer });
    if (p.duplicated.length > 0) {
      return fail("invalid_request", `${p.duplicated.join(", ")} sent more than once`);
    }
    if (p.get("request")) return fail("request_not_supported", "request objects are not supported");
    if (p.get("request_uri")) {
      return fail("request_uri_not_supported", "request_uri is not supported");
    }
    const responseType = p.get("response_type");
    if (!responseType) return fail("invalid_request", "response_type is required");
    if (responseType !== "code") {
      return fail("unsupported_response_type", "only response_type=code is supported");
    }
    const responseMode = p.get("response_mode");
    if (responseMode && responseMode !== "query") {
      return fail("invalid_request", "only response_mode=query is supported");
    }
    if (!state) return fail("invalid_request", "state is required");
    const codeChallenge = p.get("code_challenge");
    if (!codeChallenge) return fail("invalid_request", "code_challenge is required (PKCE)");
    const method = p.get("code_challenge_method");
    if (method !== "S256") {
      return fail("invalid_request", "code_challenge_method must be S256 (transform algorithm)");
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return fail("invalid_request", "code_challenge is not a base64url SHA-256 digest");
    }
    const scope = (p.get("scope") ?? "").split(" ").filter(Boolean);
    if (!scope.includes("openid")) return fail("invalid_scope", "scope must include openid");
    const unknown = scope.filter((s) => !XAI_SCOPES.includes(s));
    if (unknown.length > 0) return fail("invalid_scope", `unknown scope ${unknown.join(" ")}`);
    const prompt = (p.get("prompt") ?? "").split(" ").filter(Boolean);
    if (prompt.includes("none") && prompt.length > 1) {
      return fail("invalid_request", "prompt=none cannot be combined with other values");
    }
    if (prompt.includes("none") && !config.autoApprove) {
      return fail("login_required", "the user must sign in");
    }
    if (faults.deny) return fail("access_denied", "The user denied the authorization request.");
    const request: AuthorizeRequest = {
      clientId,
      redirectUri,
      state,
      codeChallenge,
      scope,
      nonce: p.get("nonce"),
    };
    if (config.autoApprove && !forceConsent) return approveRequest(request);
    const transactionId = randomToken(16);
    transactions.set(transactionId, { ...request, expiresAt: now() + TRANSACTION_TTL_MS });
    return consentPage(transactionId, request);
  }

  function approveRequest(request: AuthorizeRequest): Response {
    const code = randomToken(32);
    codes.set(code, { ...request, expiresAt: now() + config.codeTtl * 1000, used: false });
    return backToApp(request.redirectUri, { code, state: request.state, iss: issuer });
  }

  function denyRequest(request: AuthorizeRequest): Response {
    return backToApp(request.redirectUri, {
      error: "access_denied",
      error_description: "The user denied the authorization request.",
      state: request.state,
      iss: issuer,
    });
  }

  /** After a decision: a 302 ("redirect"), or the page whose script calls the app ("script"). */
  function backToApp(redirectUri: string, params: Record<string, string>): Response {
    if (config.approval === "redirect") return redirect(redirectUri, params);
    const callback = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) callback.searchParams.append(name, value);
    return callingPage(callback, params.code ?? null);
  }

  async function authorizeDecision(request: Request): Promise<Response> {
    const p = readParams(await formBody(request));
    const id = p.get("transaction_id") ?? "";
    const transaction = transactions.get(id);
    transactions.delete(id);
    if (!transaction || transaction.expiresAt <= now()) {
      return errorPage("This authorization request has expired or was already answered.");
    }
    const decision = p.get("decision");
    if (decision === "approve") return approveRequest(transaction);
    if (decision === "deny") return denyRequest(transaction);
    return errorPage("decision must be approve or deny.");
  }

  async function token(request: Request): Promise<Response> {
    stats.tokenRequests++;
    const params = await formBody(request);
    stats.lastTokenParams = params;
    const grantType = params.get("grant_type");
    if (grantType === "authorization_code") stats.codeExchanges++;
    if (grantType === "refresh_token") stats.refreshes++;
    if (grantType === DEVICE_GRANT) stats.devicePolls++;
    if (faults.slowMs) await sleep(faults.slowMs, closing.signal);
    if (closing.signal.aborted) {
      throw new OAuthError("temporarily_unavailable", "the server is shutting down", 503);
    }
    const injected = grantType === "refresh_token" ? faults.refreshStatus : faults.tokenStatus;
    if (injected !== undefined) return oauthError(injectedError(injected));
    if (faults.tokenInvalidJson) {
      return new Response('{"access_token": "', {
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      });
    }
    if (request.headers.has("authorization")) {
      const error = new OAuthError("invalid_client", "public client: send no credentials", 401);
      return oauthError(error, { "www-authenticate": 'Basic realm="xai"' });
    }
    const p = readParams(params);
    if (p.duplicated.length > 0) {
      throw new OAuthError("invalid_request", `${p.duplicated.join(", ")} sent more than once`);
    }
    const clientId = p.get("client_id");
    if (!clientId) throw new OAuthError("invalid_client", "client_id is required", 401);
    if (clientId !== config.clientId || p.get("client_secret")) {
      throw new OAuthError("invalid_client", "client authentication failed", 401);
    }
    if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
    if (grantType === "authorization_code") return await codeGrant(p, clientId);
    if (grantType === "refresh_token") return await refreshGrant(p, clientId);
    if (grantType === DEVICE_GRANT) return await deviceGrant(p, clientId);
    throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  }

  async function codeGrant(p: Params, clientId: string): Promise<Response> {
    const code = p.get("code");
    if (!code) throw new OAuthError("invalid_request", "code is required");
    const redirectUri = p.get("redirect_uri");
    if (!redirectUri) throw new OAuthError("invalid_request", "redirect_uri is required");
    const verifier = p.get("code_verifier");
    if (!verifier) throw new OAuthError("invalid_request", "code_verifier is required");
    const challenge = p.get("code_challenge");
    if (!challenge) throw new OAuthError("invalid_request", "code_challenge is required");
    if (p.get("code_challenge_method") !== "S256") {
      throw new OAuthError("invalid_request", "code_challenge_method must be S256");
    }
    const record = codes.get(code);
    if (!record) throw new OAuthError("invalid_grant", "unknown authorization code");
    if (record.used) {
      if (record.family) record.family.revoked = true;
      throw new OAuthError(
        "invalid_grant",
        "authorization code already used; the tokens issued from it are revoked",
      );
    }
    // Any attempt burns the code, so a verifier cannot be guessed by retrying.
    record.used = true;
    if (record.expiresAt <= now()) {
      throw new OAuthError("invalid_grant", "authorization code expired");
    }
    if (record.clientId !== clientId) {
      throw new OAuthError("invalid_grant", "authorization code was issued to another client");
    }
    if (record.redirectUri !== redirectUri) {
      throw new OAuthError(
        "invalid_grant",
        "redirect_uri does not match the authorization request",
      );
    }
    if (challenge !== record.codeChallenge) {
      throw new OAuthError(
        "invalid_grant",
        "code_challenge does not match the authorization request",
      );
    }
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
      throw new OAuthError("invalid_request", "code_verifier must be 43-128 unreserved characters");
    }
    if (await s256(verifier) !== record.codeChallenge) {
      throw new OAuthError("invalid_grant", "code_verifier does not match the code_challenge");
    }
    const family = newFamily(clientId, record.scope);
    record.family = family;
    return tokenResponse(await issueTokens(family, record.scope, record.nonce, true));
  }

  async function refreshGrant(p: Params, clientId: string): Promise<Response> {
    const refreshToken = p.get("refresh_token");
    if (!refreshToken) throw new OAuthError("invalid_request", "refresh_token is required");
    const family = refreshTokens.get(refreshToken);
    if (!family || family.clientId !== clientId) {
      throw new OAuthError("invalid_grant", "unknown refresh token");
    }
    if (family.revoked) throw new OAuthError("invalid_grant", "refresh token revoked");
    if (family.currentRefreshToken !== refreshToken) {
      family.revoked = true;
      throw new OAuthError(
        "invalid_grant",
        "refresh token already rotated; every token of this login is now revoked",
      );
    }
    let scope = family.scope;
    const requested = p.get("scope");
    if (requested) {
      scope = requested.split(" ").filter(Boolean);
      const extra = scope.filter((s) => !family.scope.includes(s));
      if (extra.length > 0) {
        throw new OAuthError("invalid_scope", `scope ${extra.join(" ")} was not granted`);
      }
    }
    return tokenResponse(await issueTokens(family, scope, undefined, !faults.omitRefreshToken));
  }

  async function deviceGrant(p: Params, clientId: string): Promise<Response> {
    const deviceCode = p.get("device_code");
    if (!deviceCode) throw new OAuthError("invalid_request", "device_code is required");
    const record = deviceCodes.get(deviceCode);
    if (!record || record.clientId !== clientId || record.status === "consumed") {
      throw new OAuthError("invalid_grant", "unknown device code");
    }
    const at = now();
    if (record.expiresAt <= at) throw new OAuthError("expired_token", "the device code expired");
    if (record.status === "denied") {
      throw new OAuthError("access_denied", "the user denied the authorization request");
    }
    if (record.status === "pending") {
      const tooSoon = record.lastPollAt !== undefined &&
        at - record.lastPollAt < record.intervalSeconds * 1000;
      record.lastPollAt = at;
      const forced = (faults.slowDownPolls ?? 0) > 0;
      if (forced) faults.slowDownPolls! -= 1;
      if (tooSoon || forced) {
        record.intervalSeconds += 5; // RFC 8628 §3.5
        throw new OAuthError(
          "slow_down",
          `polling too fast; wait ${record.intervalSeconds} s between requests`,
        );
      }
      throw new OAuthError("authorization_pending", "the user has not answered yet");
    }
    record.status = "consumed";
    const family = newFamily(clientId, record.scope);
    return tokenResponse(await issueTokens(family, record.scope, undefined, true));
  }

  async function deviceAuthorization(request: Request): Promise<Response> {
    stats.deviceAuthorizations++;
    const params = await formBody(request);
    const status = faults.deviceAuthorizationStatus;
    if (status !== undefined) {
      throw status < 500
        ? new OAuthError("unauthorized_client", "this client may not use the device grant", status)
        : new OAuthError("server_error", "injected fault", status);
    }
    const p = readParams(params);
    if (p.duplicated.length > 0) {
      throw new OAuthError("invalid_request", `${p.duplicated.join(", ")} sent more than once`);
    }
    const clientId = p.get("client_id");
    if (!clientId || clientId !== config.clientId || request.headers.has("authorization")) {
      throw new OAuthError("invalid_client", "unknown client_id", 401);
    }
    const requested = p.get("scope");
    const scope = requested ? requested.split(" ").filter(Boolean) : [...XAI_SCOPES];
    const unknown = scope.filter((s) => !XAI_SCOPES.includes(s));
    if (unknown.length > 0) {
      throw new OAuthError("invalid_scope", `unknown scope ${unknown.join(" ")}`);
    }
    const deviceCode = randomToken(32);
    const userCode = randomUserCode();
    deviceCodes.set(deviceCode, {
      clientId,
      userCode,
      scope,
      expiresAt: now() + config.deviceCodeTtl * 1000,
      intervalSeconds: config.deviceInterval,
      status: "pending",
    });
    const verificationUri = `${issuer}/oauth2/device`;
    return json({
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${userCode}`,
      expires_in: config.deviceCodeTtl,
      // oauth4webapi (and so our CLI) refuses interval 0, so "no limit" is advertised as 1 s.
      interval: config.deviceInterval > 0 ? config.deviceInterval : 1,
    }, { headers: { "cache-control": "no-store" } });
  }

  function devicePage(request: Request): Response {
    const userCode = new URL(request.url).searchParams.get("user_code") ?? "";
    return html(
      "Connect a device — xAI (mock)",
      `<h1>Connect a device</h1>
<p>Enter the code shown by Hermes Agent to let it use your xAI account
<strong>${escapeHtml(MOCK_USER.email)}</strong>.</p>
<form method="post" action="/oauth2/device">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${escapeHtml(userCode)}" autocomplete="off">
<button type="submit" id="approve" name="decision" value="approve">Approve</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>`,
    );
  }

  async function deviceDecision(request: Request): Promise<Response> {
    const p = readParams(await formBody(request));
    const decision = p.get("decision");
    if (decision !== "approve" && decision !== "deny") {
      return errorPage("decision must be approve or deny.");
    }
    const record = findDevice(p.get("user_code") ?? "");
    if (!record || record.status !== "pending" || record.expiresAt <= now()) {
      return errorPage("That code is unknown, expired or already answered.");
    }
    record.status = decision === "approve" ? "approved" : "denied";
    const done = decision === "approve"
      ? "Device connected. You can return to your terminal."
      : "Request denied. You can close this tab.";
    return html("Device — xAI (mock)", `<p id="result">${done}</p>`);
  }

  function userinfo(request: Request): Response {
    const match = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
    const record = match ? accessTokens.get(match[1]) : undefined;
    if (!record || record.family.revoked || record.expiresAt <= now()) {
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
      });
    }
    const claims: Record<string, unknown> = { sub: MOCK_USER.sub };
    if (record.family.scope.includes("email")) claims.email = MOCK_USER.email;
    if (record.family.scope.includes("profile")) claims.name = MOCK_USER.name;
    return json(claims, { headers: { "cache-control": "no-store" } });
  }

  function newFamily(clientId: string, scope: string[]): TokenFamily {
    const family: TokenFamily = { clientId, scope, authTime: seconds(now()), revoked: false };
    families.push(family);
    return family;
  }

  async function issueTokens(
    family: TokenFamily,
    scope: string[],
    nonce: string | undefined,
    rotateRefreshToken: boolean,
  ): Promise<Record<string, unknown>> {
    const iat = seconds(now());
    const exp = iat + config.accessTokenTtl;
    const accessToken = await signJwt(
      {
        iss: issuer,
        sub: MOCK_USER.sub,
        aud: ACCESS_TOKEN_AUDIENCE,
        client_id: family.clientId,
        exp,
        iat,
        scope: scope.join(" "),
        jti: crypto.randomUUID(),
      },
      key,
      "at+jwt",
    );
    accessTokens.set(accessToken, { family, expiresAt: exp * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: config.accessTokenTtl,
      scope: scope.join(" "),
    };
    if (rotateRefreshToken && family.scope.includes("offline_access")) {
      const refreshToken = randomToken(32);
      refreshTokens.set(refreshToken, family);
      family.currentRefreshToken = refreshToken;
      body.refresh_token = refreshToken;
    }
    if (scope.includes("openid")) {
      const claims: Record<string, unknown> = {
        iss: issuer,
        sub: MOCK_USER.sub,
        aud: family.clientId,
        exp,
        iat,
        auth_time: family.authTime,
      };
      if (nonce !== undefined && config.idTokenNonce === "echo") claims.nonce = nonce;
      if (nonce !== undefined && config.idTokenNonce === "wrong") claims.nonce = randomToken(16);
      if (scope.includes("email")) {
        Object.assign(claims, { email: MOCK_USER.email, email_verified: true });
      }
      if (scope.includes("profile")) claims.name = MOCK_USER.name;
      body.id_token = await signJwt(claims, key);
    }
    return body;
  }

  function findDevice(userCode: string): DeviceRecord | undefined {
    const wanted = normalizeUserCode(userCode);
    for (const record of deviceCodes.values()) {
      if (normalizeUserCode(record.userCode) === wanted) return record;
    }
    return undefined;
  }

  function answerDevice(userCode: string, status: "approved" | "denied"): void {
    const record = findDevice(userCode);
    if (!record) throw new Error(`no device authorization with user code ${userCode}`);
    if (record.status !== "pending") {
      throw new Error(`device authorization ${userCode} was already answered`);
    }
    record.status = status;
  }

  async function browse(authorizeUrl: string, decision: "approve" | "deny"): Promise<string> {
    if (new URL(authorizeUrl).origin !== issuer) {
      throw new Error(`${authorizeUrl} is not on this mock (${issuer})`);
    }
    // Under autoApprove there is no page to press Deny on, so ask for it without the shortcut.
    const first = decision === "deny" && config.autoApprove
      ? authorize(new URL(authorizeUrl).searchParams, true)
      : await fetch(authorizeUrl, { redirect: "manual" });
    if (first.status === 302) return await locationOf(first);
    const page = await first.text();
    if (first.status !== 200) {
      throw new Error(`authorize answered ${first.status}: ${textOfPage(page)}`);
    }
    const callback = callbackOfPage(page);
    if (callback) return callback; // autoApprove in "script" mode: the calling page at once
    const transactionId = /name="transaction_id" value="([^"]+)"/.exec(page)?.[1];
    if (!transactionId) throw new Error("the consent page has no transaction_id");
    const answer = await fetch(`${issuer}/oauth2/authorize/decision`, {
      method: "POST",
      body: new URLSearchParams({ transaction_id: transactionId, decision }),
      redirect: "manual",
    });
    if (answer.status === 302) return await locationOf(answer);
    const text = await answer.text();
    const called = answer.status === 200 ? callbackOfPage(text) : undefined;
    if (!called) throw new Error(`decision answered ${answer.status}: ${textOfPage(text)}`);
    return called;
  }

  async function callFromPage(
    callbackUrl: string,
    opts: { origin?: string } = {},
  ): Promise<PageOutcome> {
    const result = await fetchFromPage(callbackUrl, {
      origin: opts.origin ?? issuer,
      headers: PAGE_REQUEST_HEADERS,
    });
    if (result.ok && result.status >= 200 && result.status <= 299) return { shown: "done" };
    const why = result.ok ? `the app answered ${result.status}` : result.reason;
    return { shown: "unreachable", code: new URL(callbackUrl).searchParams.get("code"), why };
  }

  function close(): Promise<void> {
    closed ??= (async () => {
      closing.abort();
      await server.shutdown();
    })();
    return closed;
  }

  return {
    issuer,
    faults,
    stats,
    approve: (url) => browse(url, "approve"),
    deny: (url) => browse(url, "deny"),
    callFromPage,
    approveDevice: (userCode) => answerDevice(userCode, "approved"),
    denyDevice: (userCode) => answerDevice(userCode, "denied"),
    revokeAll() {
      for (const family of families) family.revoked = true;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface Params {
  get(name: string): string | undefined;
  duplicated: string[];
}

/** RFC 6749 §3.1: a parameter without a value counts as omitted; none may appear twice. */
function readParams(params: URLSearchParams): Params {
  const values = new Map<string, string>();
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) duplicated.add(name);
    seen.add(name);
    if (value !== "") values.set(name, value);
  }
  return { get: (name) => values.get(name), duplicated: [...duplicated] };
}

/** Reads an application/x-www-form-urlencoded body; anything else is invalid_request. */
async function formBody(request: Request): Promise<URLSearchParams> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = await request.text();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  return new URLSearchParams(body);
}

/** RFC 8252 §7.3: http on a loopback host, any port, no fragment. */
function isLoopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return url.protocol === "http:" && !uri.includes("#") && url.username === "" &&
    url.password === "" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function injectedError(status: number): OAuthError {
  if (status === 400) return new OAuthError("invalid_grant", "injected fault", 400);
  if (status === 401) return new OAuthError("invalid_client", "injected fault", 401);
  if (status === 403) {
    return new OAuthError(
      "forbidden",
      "This account's subscription tier is not allowed to use OAuth.",
      403,
    );
  }
  if (status === 429) return new OAuthError("too_many_requests", "injected fault", 429);
  return new OAuthError("server_error", "injected fault", status);
}

function oauthError(error: OAuthError, headers: Record<string, string> = {}): Response {
  return json({ error: error.error, error_description: error.description }, {
    status: error.status,
    headers: { "cache-control": "no-store", pragma: "no-cache", ...headers },
  });
}

function tokenResponse(body: Record<string, unknown>): Response {
  return json(body, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
}

function json(body: unknown, init: ResponseInit = {}): Response {
  const status = init.status ?? 200;
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  const nullBody = [204, 205, 304].includes(status);
  return new Response(nullBody ? null : JSON.stringify(body), { status, headers });
}

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

function errorPage(message: string): Response {
  return html(
    "Sign-in error — xAI (mock)",
    `<h1>Something went wrong</h1>\n<p id="error">${escapeHtml(message)}</p>`,
    400,
  );
}

function consentPage(transactionId: string, request: AuthorizeRequest): Response {
  const scopes = request.scope.map((s) => `<li>${escapeHtml(s)}</li>`).join("\n");
  return html(
    CONSENT_TITLE,
    `<h1>Authorize Hermes Agent</h1>
<p>Hermes Agent (client <code>${escapeHtml(request.clientId)}</code>) asks to use your xAI
account <strong>${escapeHtml(MOCK_USER.email)}</strong> with these scopes:</p>
<ul id="scopes">
${scopes}
</ul>
<p>Either way your answer goes back to <code>${escapeHtml(request.redirectUri)}</code>.</p>
<form method="post" action="/oauth2/authorize/decision">
<input type="hidden" name="transaction_id" value="${escapeHtml(transactionId)}">
<button type="submit" id="approve" name="decision" value="approve">Approve</button>
<button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/**
 * The header the page's fetch sends. It is not CORS-safelisted with this value, so the browser
 * preflights; Hermes's listener lists exactly `Content-Type` in Access-Control-Allow-Headers.
 */
const PAGE_REQUEST_HEADERS = { "Content-Type": "application/json" };

/**
 * The page shown after a decision in "script" mode. Its script calls the app at
 * `data-callback` and then shows the outcome in `#outcome` (`data-state` "done" or
 * "unreachable"); when the app cannot be reached the code is shown in `#code` for the person
 * to paste. The address bar stays on this page.
 */
function callingPage(callback: URL, code: string | null): Response {
  const denied = callback.searchParams.has("error");
  const done = denied
    ? "Access denied. You can close this tab."
    : "Done. You can close this tab and return to Hermes Agent.";
  const shown = code === null ? "" : `<p>Paste this code into the app to finish signing in:</p>
<p><code id="code">${escapeHtml(code)}</code></p>`;
  return html(
    denied ? "Access denied — xAI (mock)" : "Signing in — xAI (mock)",
    `<style>
main{font:16px/1.5 system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}#unreachable strong{color:#b00020}
#code{display:block;padding:.6em .8em;background:#f3f3f3;border:1px solid #ccc;border-radius:6px;
font:15px ui-monospace,monospace;word-break:break-all;user-select:all}
</style>
<h1>${denied ? "Access denied" : "Signing you in to Hermes Agent"}</h1>
<p class="mock">accounts.x.ai (mock)</p>
<section id="outcome" data-state="connecting" data-callback="${escapeHtml(callback.href)}">
<p id="connecting">Connecting to your app…</p>
<p id="done" hidden>${escapeHtml(done)}</p>
<div id="unreachable" hidden>
<p><strong>${escapeHtml(UNREACHABLE_TEXT)}</strong></p>
${shown}
</div>
</section>
<script>
(async () => {
  const outcome = document.getElementById("outcome");
  const show = (state) => {
    outcome.dataset.state = state;
    document.getElementById("connecting").hidden = true;
    document.getElementById(state).hidden = false;
  };
  try {
    const answer = await fetch(outcome.dataset.callback, {
      headers: ${JSON.stringify(PAGE_REQUEST_HEADERS)},
      credentials: "omit",
      cache: "no-store",
    });
    show(answer.ok ? "done" : "unreachable");
  } catch {
    show("unreachable");
  }
})();
</script>`,
  );
}

/** The callback URL a calling page will call, if `page` is one. */
function callbackOfPage(page: string): string | undefined {
  const found = /data-callback="([^"]+)"/.exec(page)?.[1];
  return found === undefined ? undefined : textOfPage(found);
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

function randomToken(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

function randomUserCode(): string {
  const picks = crypto.getRandomValues(new Uint8Array(8));
  const chars = [...picks].map((n) => USER_CODE_ALPHABET[n % USER_CODE_ALPHABET.length]);
  return `${chars.slice(0, 4).join("")}-${chars.slice(4).join("")}`;
}

function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/[^A-Z]/g, "");
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

const USAGE = "usage: xai_mock.ts [--port N] [--auto-approve] [--approval script|redirect] " +
  "[--id-token-nonce echo|omit|wrong]";

async function serveStandalone(args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string", default: "0" },
        "auto-approve": { type: "boolean", default: false },
        approval: { type: "string", default: "script" },
        "id-token-nonce": { type: "string", default: "echo" },
      },
    }));
  } catch (error) {
    // deno-lint-ignore no-console
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const approval = values.approval;
  const nonce = values["id-token-nonce"];
  if (
    (approval !== "script" && approval !== "redirect") || !["echo", "omit", "wrong"].includes(nonce)
  ) {
    // deno-lint-ignore no-console
    console.error(USAGE);
    Deno.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    // deno-lint-ignore no-console
    console.error(`--port must be a port number, not ${values.port}`);
    Deno.exit(2);
  }
  const mock = await startMockXai({
    port,
    autoApprove: values["auto-approve"],
    approval,
    idTokenNonce: nonce as "echo" | "omit" | "wrong",
  });
  // deno-lint-ignore no-console
  console.log(mock.issuer);
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
