/**
 * `hermes-auth add <provider>`: log in and store the credential.
 *
 * The loopback flow: resolve the provider's server, bind the callback
 * listener (its port decides the redirect URI), print the authorize URL and,
 * on a remote session, the tunnel hint for the port actually bound; open a
 * browser where one can be shown; then wait for whichever comes first: the
 * browser's redirect, a pasted redirect URL, the timeout or Ctrl-C.
 *
 * @module
 */
import { Exit, usageError } from "../errors.ts";
import { startCallbackServer } from "../loopback/callback_server.ts";
import { lines, waitForCallback } from "../loopback/wait.ts";
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../oauth/authcode.ts";
import { type ProviderServer, resolveServer } from "../oauth/server.ts";
import type { TokenSet } from "../oauth/tokens.ts";
import { resolveProvider } from "../providers/mod.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { openBrowser } from "../remote/browser.ts";
import { defaultProbe, detectSession, type SessionVerdict } from "../remote/session.ts";
import { sshHint, tunnelCommand } from "../remote/ssh_hint.ts";
import { updateAuthFile } from "../store/auth_store.ts";
import { applyLogin, type StoredLogin } from "../store/credentials.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import type { Context } from "./context.ts";

/** Options of `add`, as commander hands them over. */
export interface AddOptions {
  browser?: boolean;
  manualPaste?: boolean;
  deviceCode?: boolean;
  port?: number;
  timeout?: number;
  label?: string;
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  wait?: boolean;
  callbackUrl?: string;
  json?: boolean;
}

/** Run `add`; returns the exit code. */
export async function add(ctx: Context, providerName: string, opts: AddOptions): Promise<number> {
  const provider = resolveProvider(providerName);
  checkFlagCombinations(provider, opts);
  const session = detectSession({ ...defaultProbe(), env: ctx.env });
  const server = await resolveServer(provider, {
    env: ctx.env,
    fetch: ctx.fetch,
    clientId: opts.clientId,
  });
  const result = await loopbackLogin(ctx, server, session, opts);
  const stored = await storeLogin(ctx, server, result, opts);
  reportSuccess(ctx, provider, stored);
  return Exit.OK;
}

function checkFlagCombinations(provider: ProviderSpec, opts: AddOptions): void {
  if (opts.deviceCode && !provider.deviceCode) {
    throw usageError(
      `${provider.displayName} has no device code login`,
      `log in with the browser instead: hermes-auth add ${provider.id}`,
    );
  }
  const modes = [opts.manualPaste && "--manual-paste", opts.deviceCode && "--device-code"]
    .filter(Boolean);
  if (modes.length > 1) throw usageError(`${modes.join(" and ")} cannot be used together`);
}

/** Where the listener should bind, and may it move when the port is busy. */
function listenerPort(
  provider: ProviderSpec,
  opts: AddOptions,
): { port: number; fallback: boolean } {
  if (opts.port !== undefined) return { port: opts.port, fallback: false };
  return { port: provider.redirect.port, fallback: provider.redirect.portFallback };
}

/** A finished login, ready to store. */
interface LoginResult {
  tokens: TokenSet;
  authMode: "oauth_pkce" | "oauth_device_code";
  redirectUri?: string;
}

interface Login {
  server: ProviderServer;
  pending: PendingExchange;
  url: URL;
}

async function loopbackLogin(
  ctx: Context,
  server: ProviderServer,
  session: SessionVerdict,
  opts: AddOptions,
): Promise<LoginResult> {
  const { provider } = server;
  const out = ctx.out;
  const secrets = await createLoginSecrets(provider);
  out.secret(secrets.codeVerifier);
  const { port, fallback } = listenerPort(provider, opts);
  await using listener = await startCallbackServer({
    port,
    portFallback: fallback,
    path: provider.redirect.path,
    expectedState: secrets.state,
    pages: provider.pages,
    onWarning: (message) => out.warn(message),
  });
  if (port !== 0 && listener.port !== port) {
    out.warn(`port ${port} is busy; listening on ${listener.port} instead`);
  }
  const pending: PendingExchange = { ...secrets, redirectUri: listener.redirectUri };
  const login: Login = {
    server,
    pending,
    url: authorizationUrl(server, pending, scopeOption(opts)),
  };
  const pasteOffered = ctx.stdinIsTerminal;
  announce(ctx, login, session, pasteOffered);
  const opened = opts.browser !== false && await openBrowser(login.url.href, {
    env: ctx.env,
    os: Deno.build.os,
    session,
  });
  if (opened) out.info(out.style.dim("Opened your browser. Approve access there."));
  if (pasteOffered && (session.remote || !opened)) {
    out.info(
      "When the browser shows the 127.0.0.1 page (or fails to load it), you can also copy that",
    );
    out.info("page's address from the address bar and paste it here.");
  }
  out.info(
    out.style.dim(`Waiting up to ${opts.timeout ?? 180} s for the browser… (Ctrl-C to cancel)`),
  );
  const callback = await waitForCallback({
    timeoutMs: (opts.timeout ?? 180) * 1000,
    listener: listener.result,
    paste: pasteOffered ? lines(ctx.stdin()) : undefined,
    onInvalidPaste: (reason) =>
      out.warn(`${reason} — paste the full address, or wait for the browser`),
    signal: ctx.signal,
    redirectUri: listener.redirectUri,
    expectedState: secrets.state,
    allowBareCode: false,
  });
  out.secret(callback.searchParams.get("code") ?? undefined);
  const tokens = await exchangeCode(server, callback, pending);
  return { tokens, authMode: "oauth_pkce", redirectUri: pending.redirectUri };
}

function scopeOption(opts: AddOptions): { scopes?: string[] } {
  const scopes = opts.scope?.split(/[\s,]+/).filter(Boolean);
  return scopes?.length ? { scopes } : {};
}

/** Print the authorize URL and the hint, or emit the `authorize` event. */
function announce(ctx: Context, login: Login, session: SessionVerdict, pasteBack: boolean): void {
  const { provider } = login.server;
  const out = ctx.out;
  const redirectUri = login.pending.redirectUri;
  const hintOptions = {
    session,
    provider,
    env: ctx.env,
    hostname: defaultProbe().hostname,
    pasteBack,
  };
  const tunnel = tunnelCommand(redirectUri, hintOptions);
  out.event({
    event: "authorize",
    provider: provider.id,
    url: login.url.href,
    redirect_uri: redirectUri,
    port: Number(new URL(redirectUri).port) || null,
    remote: session.remote,
    tunnel,
  });
  out.info(`${out.style.bold(`Log in to ${provider.displayName}`)} by opening this URL:`);
  out.info();
  out.info(`  ${out.style.cyan(login.url.href)}`);
  out.info();
  const hint = sshHint(redirectUri, hintOptions);
  if (hint.length) {
    for (const line of hint) out.info(line);
    out.info();
  }
}

async function storeLogin(
  ctx: Context,
  server: ProviderServer,
  { tokens, authMode, redirectUri }: LoginResult,
  opts: AddOptions,
): Promise<{ row: StoredLogin | null; path: string }> {
  const out = ctx.out;
  out.secret(tokens.access_token);
  out.secret(tokens.refresh_token);
  out.secret(tokens.id_token);
  const home = hermesHome(ctx.env);
  const { as, client, provider } = server;
  const stored = await updateAuthFile(home, (data) =>
    applyLogin(data, {
      provider,
      tokens,
      authMode,
      discovery: {
        authorization_endpoint: as.authorization_endpoint!,
        token_endpoint: as.token_endpoint!,
        ...(as.device_authorization_endpoint
          ? { device_authorization_endpoint: as.device_authorization_endpoint }
          : {}),
      },
      redirectUri: redirectUri ?? "",
      clientId: client.client_id,
      label: opts.label,
      now: ctx.now(),
    }), { now: ctx.now });
  return { row: stored, path: authFilePath(home) };
}

function reportSuccess(
  ctx: Context,
  provider: ProviderSpec,
  stored: { row: StoredLogin | null; path: string },
) {
  const out = ctx.out;
  const { row, path } = stored;
  out.event({
    event: "success",
    provider: provider.id,
    ...(row ? { index: row.index, id: row.id, label: row.label } : {}),
    path,
  });
  out.success(`Logged in to ${provider.displayName}`);
  if (row) out.info(`Added ${provider.id} OAuth credential #${row.index}: "${row.label}"`);
  out.info(out.style.dim(`Saved to ${path}`));
}
