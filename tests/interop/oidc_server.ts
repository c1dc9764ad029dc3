// deno-lint-ignore-file no-console -- muteNotices() filters oidc-provider's development notices
/**
 * A real OpenID Connect authorization server for the interoperability suite:
 * panva's `oidc-provider` (the certified implementation behind many Node
 * identity services), run in this process under Deno's Node compatibility
 * on 127.0.0.1 with an OS-assigned port.
 *
 * Configured the way a careful operator would configure it for a CLI:
 * - a public native client (`token_endpoint_auth_method: none`) whose one
 *   registered redirect URI is `http://127.0.0.1/callback`; oidc-provider
 *   accepts any port on it for native clients (RFC 8252 §7.3);
 * - PKCE required (oidc-provider 9 accepts S256 only);
 * - refresh tokens for `offline_access` (which oidc-provider honours only
 *   with `prompt=consent`, as OpenID Connect Core §11 says), rotated on every
 *   use;
 * - its own interactive login and consent pages (devInteractions), which
 *   the tests drive like a browser (see browser.ts);
 * - the device authorization grant (RFC 8628) with its own verification
 *   pages, announcing a 1 s poll interval to keep the tests fast.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The version the suite proves against (keep in step with deno.json). */
export const OIDC_PROVIDER_VERSION = "9.13.3";

/** The public client the tests log in with. */
export const INTEROP_CLIENT_ID = "hermes-auth-interop";

/** Options of {@link startOidcServer}. */
export interface OidcServerOptions {
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
}

/** What the tests can see of the server's traffic. */
export interface OidcServerStats {
  /** Grant types of the token requests, in order. */
  tokenGrants: string[];
  /** Every request line (`POST /token`), in order. */
  requests: string[];
}

/** A running server; close it with `await using`. */
export interface OidcServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, exactly as the discovery document says. */
  issuer: string;
  clientId: string;
  stats: OidcServerStats;
  close(): Promise<void>;
}

// oidc-provider announces on the console that it runs with development
// defaults (and, under Deno, on an unsupported runtime), at start and at the
// first use of each default page. Those notices are expected here; keep them
// out of the test output while a server runs. Returns the undo.
function muteNotices(): () => void {
  const { warn, info } = console;
  const keep = (write: (...a: unknown[]) => void) => (...args: unknown[]) => {
    if (!String(args[0]).startsWith("oidc-provider ")) write(...args);
  };
  console.warn = keep(warn);
  console.info = keep(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

/** Start oidc-provider on 127.0.0.1:0. */
export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const unmute = muteNotices();
  const stats: OidcServerStats = { tokenGrants: [], requests: [] };
  // The issuer names the port, so the app is plugged in once the port is bound.
  const app: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server = createServer((req, res) => {
    stats.requests.push(`${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`);
    app.handle!(req, res);
  });
  let listening = false;
  const close = async () => {
    if (listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    unmute();
  };
  try {
    const { default: Provider } = await import("oidc-provider");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    listening = true;
    const { port } = server.address() as AddressInfo;
    const issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, configuration(options));
    // oidc-provider names no poll interval, so clients would wait RFC 8628's
    // default 5 s between polls; a server may name a shorter one (§3.2).
    provider.on("device_authorization.success", (_ctx: unknown, body: Record<string, unknown>) => {
      body.interval = 1;
    });
    provider.on("grant.success", (ctx: { oidc: { params?: { grant_type?: string } } }) => {
      stats.tokenGrants.push(String(ctx.oidc.params?.grant_type));
    });
    app.handle = provider.callback();
    return { issuer, clientId: INTEROP_CLIENT_ID, stats, close, [Symbol.asyncDispose]: close };
  } catch (e) {
    await close();
    throw e;
  }
}

function configuration(options: OidcServerOptions): Record<string, unknown> {
  return {
    clients: [{
      client_id: INTEROP_CLIENT_ID,
      application_type: "native",
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1/callback"],
      grant_types: [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
      ],
      response_types: ["code"],
    }],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
    cookies: { keys: ["interop-suite-cookie-key"] },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Interaction: 600,
      Session: 86_400,
    },
    findAccount: (_ctx: unknown, accountId: string) => ({
      accountId,
      claims: () => ({ sub: accountId }),
    }),
  };
}
