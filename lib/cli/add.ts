/**
 * `hermes-auth add <provider>`: log in and store the credential.
 *
 * Five ways in, one outcome (a stored credential):
 * - loopback (default): bind the callback listener (its port decides the
 *   redirect URI), print the authorize URL and, on a remote session, the
 *   tunnel hint for the port actually bound; open a browser where one can be
 *   shown; then take whichever comes first: the browser's redirect, a pasted
 *   redirect URL, the timeout or Ctrl-C. On a terminal a timeout offers the
 *   paste prompt once more instead of failing.
 * - `--manual-paste`: no listener at all; the person pastes the redirect URL
 *   (or the bare code, PKCE still binding it to this login).
 * - `--no-wait` / `--callback-url`: a two-step login for bots and scripts.
 * - `--device-code`: RFC 8628, for providers that have it.
 *
 * @module
 */
import { AuthError, Exit, usageError } from "../errors.ts";
import { type CallbackServer, startCallbackServer } from "../loopback/callback_server.ts";
import { parsePastedCallback } from "../loopback/paste.ts";
import { lines, waitForCallback } from "../loopback/wait.ts";
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../oauth/authcode.ts";
import { providerBaseUrl, type ProviderServer, resolveServer } from "../oauth/server.ts";
import type { TokenSet } from "../oauth/tokens.ts";
import type { ProviderSpec, RedirectSpec } from "../providers/types.ts";
import { openBrowser } from "../remote/browser.ts";
import { defaultProbe, detectSession, type SessionVerdict } from "../remote/session.ts";
import { sshHint, tunnelCommand } from "../remote/ssh_hint.ts";
import { readAuthFile, updateAuthFile } from "../store/auth_store.ts";
import { applyLogin, type StoredLogin } from "../store/credentials.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { savePending, takePending } from "../store/pending.ts";
import { type Context, lockWaitOptions } from "./context.ts";
import { chooseClientId, providerNamed } from "./providers.ts";

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

/** A finished login, ready to store. */
interface LoginResult {
  tokens: TokenSet;
  authMode: "oauth_pkce" | "oauth_device_code";
  redirectUri?: string;
  /** The client the login was made with, when not the resolved one (two-step). */
  clientId?: string;
}

/** Run `add`; returns the exit code. */
export async function add(ctx: Context, providerName: string, opts: AddOptions): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  checkFlagCombinations(provider, opts);
  const redirect = redirectSpec(provider, opts);
  const stored = (await readAuthFile(hermesHome(ctx.env))).data.providers[provider.id];
  const storedClientId = typeof stored?.client_id === "string" ? stored.client_id : undefined;
  const clientId = opts.callbackUrl !== undefined
    // Finishing a two-step login: the pending login knows its client; see finishTwoStep.
    ? (opts.clientId ?? storedClientId ?? provider.clientId.builtIn ?? PENDING_CLIENT)
    : chooseClientId(provider, { flag: opts.clientId, stored: storedClientId }, ctx.env);
  const session = detectSession({ ...defaultProbe(), env: ctx.env });
  const server = await resolveServer(provider, { env: ctx.env, fetch: ctx.fetch, clientId });
  const input = new StdinLines(ctx);
  try {
    let result: LoginResult;
    if (opts.callbackUrl !== undefined) {
      result = await finishTwoStep(ctx, server, opts.callbackUrl);
    } else if (opts.wait === false) {
      await startTwoStep(ctx, server, session, redirect, opts);
      return Exit.OK;
    } else if (opts.deviceCode) {
      result = await deviceLogin(ctx, server, session, opts);
    } else {
      result = await browserLogin(ctx, server, session, redirect, opts, input);
    }
    reportSuccess(ctx, provider, await storeLogin(ctx, server, result, opts));
    return Exit.OK;
  } finally {
    await input.close();
  }
}

function checkFlagCombinations(provider: ProviderSpec, opts: AddOptions): void {
  if (opts.deviceCode && !provider.deviceCode) {
    throw usageError(
      `${provider.displayName} has no device code login`,
      `log in with the browser instead: hermes-auth add ${provider.id}`,
    );
  }
  const modes = [
    opts.manualPaste && "--manual-paste",
    opts.deviceCode && "--device-code",
    opts.wait === false && "--no-wait",
    opts.callbackUrl !== undefined && "--callback-url",
  ].filter(Boolean);
  if (modes.length > 1) {
    throw usageError(`${modes.join(" and ")} cannot be used together`, "pick one way to log in");
  }
}

/**
 * Where the browser is sent back to: the provider's redirect, moved by
 * `--port` (no fallback then: the user chose it) or replaced by
 * `--redirect-uri` (for an app registered with another loopback URI).
 */
function redirectSpec(provider: ProviderSpec, opts: AddOptions): RedirectSpec {
  if (opts.redirectUri !== undefined) {
    if (opts.port !== undefined) {
      throw usageError("--port and --redirect-uri cannot be used together");
    }
    let url: URL;
    try {
      url = new URL(opts.redirectUri);
    } catch {
      throw usageError(`--redirect-uri "${opts.redirectUri}" is not a URL`, redirectFix(provider));
    }
    if (
      url.protocol !== "http:" || url.hostname !== "127.0.0.1" || !url.port || url.search ||
      url.hash
    ) {
      throw usageError(
        "--redirect-uri must be http://127.0.0.1:<port>/<path>",
        redirectFix(provider),
      );
    }
    return { host: "127.0.0.1", port: Number(url.port), path: url.pathname, portFallback: false };
  }
  if (opts.port !== undefined) {
    return { ...provider.redirect, port: opts.port, portFallback: false };
  }
  return provider.redirect;
}

function redirectFix(provider: ProviderSpec): string {
  return "the callback listener binds 127.0.0.1 only (RFC 8252): register a URI such as " +
    `http://127.0.0.1:<free port>${provider.redirect.path} with your app and pass exactly that`;
}

/** Placeholder client id until the pending login supplies the real one. */
const PENDING_CLIENT = "(from the pending login)";

/** The redirect URI when no listener decides it (manual paste, two-step). */
function fixedRedirectUri(redirect: RedirectSpec): string {
  return `http://${redirect.host}:${redirect.port}${redirect.path}`;
}

function scopeOption(opts: AddOptions): { scopes?: string[] } {
  const scopes = opts.scope?.split(/[\s,]+/).filter(Boolean);
  return scopes?.length ? { scopes } : {};
}

/**
 * Lines typed on stdin, shared by successive waits: a wait that ends stops
 * reading without cancelling stdin, so the next prompt still gets input.
 */
class StdinLines {
  #ctx: Context;
  #it?: AsyncIterator<string>;
  #pending?: Promise<IteratorResult<string>>;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** A view for one wait; its return() detaches without losing a line in flight. */
  view(): AsyncIterable<string> {
    this.#it ??= lines(this.#ctx.stdin())[Symbol.asyncIterator]();
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

  async close(): Promise<void> {
    await this.#it?.return?.().catch(() => {});
  }
}

/** The loopback login, or `--manual-paste` without a listener. */
async function browserLogin(
  ctx: Context,
  server: ProviderServer,
  session: SessionVerdict,
  redirect: RedirectSpec,
  opts: AddOptions,
  input: StdinLines,
): Promise<LoginResult> {
  const { provider } = server;
  const out = ctx.out;
  const secrets = await createLoginSecrets(provider);
  out.secret(secrets.codeVerifier);
  const timeoutMs = (opts.timeout ?? 180) * 1000;
  const manual = opts.manualPaste === true;

  let listener: CallbackServer | undefined;
  if (!manual) {
    const { port } = redirect;
    listener = await startCallbackServer({
      port,
      portFallback: redirect.portFallback,
      path: redirect.path,
      expectedState: secrets.state,
      pages: provider.pages,
      onWarning: (message) => out.warn(message),
    }).catch((e) => {
      throw isCode(e, "port_in_use") ? portBusy(provider, redirect, opts) : e;
    });
    if (port !== 0 && listener.port !== port) {
      out.warn(`port ${port} is busy; listening on ${listener.port} instead`);
    }
  }
  try {
    const redirectUri = listener?.redirectUri ?? fixedRedirectUri(redirect);
    const pending: PendingExchange = { ...secrets, redirectUri };
    const url = authorizationUrl(server, pending, scopeOption(opts));
    // Manual paste reads stdin even when it is a pipe: a script can feed the URL.
    const pasteOffered = manual || ctx.stdinIsTerminal;
    const hinted = announce(
      ctx,
      server,
      url,
      redirectUri,
      session,
      pasteOffered && !manual,
      manual,
    );
    const opened = opts.browser !== false &&
      await openBrowser(url.href, { env: ctx.env, os: Deno.build.os, session });
    if (opened) out.info(out.style.dim("Opened your browser. Approve access there."));
    if (manual) {
      out.info("After approving, the browser is sent to a 127.0.0.1 address that will not load.");
      out.prompt("Paste that address (or just the code) here: ");
    } else if (pasteOffered && !hinted && (session.remote || !opened)) {
      out.info(
        "No tunnel? Open the URL anyway; when the browser fails to load the 127.0.0.1 page,",
      );
      out.info("copy the address from its address bar and paste it here.");
    }
    if (!manual) {
      out.info(
        out.style.dim(`Waiting up to ${timeoutMs / 1000} s for the browser… (Ctrl-C to cancel)`),
      );
    }
    const wait = () =>
      waitForCallback({
        timeoutMs,
        listener: listener?.result,
        paste: pasteOffered ? input.view() : undefined,
        onInvalidPaste: (reason) => {
          out.warn(`${reason}.`);
          out.prompt("Paste again: ");
        },
        signal: ctx.signal,
        redirectUri,
        expectedState: secrets.state,
        allowBareCode: manual,
      });
    let callback: URL;
    try {
      callback = await wait();
    } catch (e) {
      // A person at a terminal gets one more chance to paste instead of a dead end.
      if (!(ctx.stdinIsTerminal && !manual && isCode(e, "callback_timeout"))) throw e;
      out.warn(`No callback arrived within ${timeoutMs / 1000} s.`);
      out.prompt(
        "If the browser shows a 127.0.0.1 address that failed to load, paste it here (Ctrl-C to give up): ",
      );
      callback = await wait();
    }
    out.secret(callback.searchParams.get("code") ?? undefined);
    const tokens = await exchangeCode(server, callback, pending);
    return { tokens, authMode: "oauth_pkce", redirectUri };
  } finally {
    await listener?.close();
  }
}

/** The callback port is taken and may not move: say what holds it and the ways out. */
function portBusy(provider: ProviderSpec, redirect: RedirectSpec, opts: AddOptions): AuthError {
  const port = redirect.port;
  const ways = [`find what holds it: lsof -iTCP:${port} -sTCP:LISTEN`];
  if (!provider.redirect.portFallback) {
    ways.push(
      `or register another loopback redirect URI with your ${provider.displayName} app and pass --redirect-uri`,
    );
  } else if (opts.port !== undefined) ways.push("or pick another --port");
  const why = provider.redirect.portFallback
    ? "and --port asks for exactly that port"
    : `and ${provider.displayName}'s redirect URI must match the registered one exactly`;
  return new AuthError("port_in_use", `port ${port} on 127.0.0.1 is in use, ${why}`, {
    exit: Exit.FAILURE,
    fix: ways.join("; "),
  });
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === code;
}

/** Print the authorize URL and the hint (or emit the `authorize` event); true when a hint was shown. */
function announce(
  ctx: Context,
  server: ProviderServer,
  url: URL,
  redirectUri: string,
  session: SessionVerdict,
  pasteBack: boolean,
  manual: boolean,
): boolean {
  const { provider } = server;
  const out = ctx.out;
  const hintOptions = {
    session,
    provider,
    env: ctx.env,
    hostname: defaultProbe().hostname,
    pasteBack,
  };
  // Without a listener there is nothing to tunnel to.
  const tunnel = manual ? null : tunnelCommand(redirectUri, hintOptions);
  out.event({
    event: "authorize",
    provider: provider.id,
    url: url.href,
    redirect_uri: redirectUri,
    port: Number(new URL(redirectUri).port) || null,
    remote: session.remote,
    tunnel,
    listening: !manual,
  });
  out.info(`${out.style.bold(`Log in to ${provider.displayName}`)} by opening this URL:`);
  out.info();
  out.info(`  ${out.style.cyan(url.href)}`);
  out.info();
  const hint = manual ? [] : sshHint(redirectUri, hintOptions);
  if (hint.length) {
    for (const line of hint) out.info(line);
    out.info();
  }
  return hint.length > 0;
}

/** `--no-wait`: print the URL, save the pending login, exit 0. */
async function startTwoStep(
  ctx: Context,
  server: ProviderServer,
  session: SessionVerdict,
  redirect: RedirectSpec,
  opts: AddOptions,
): Promise<void> {
  const { provider, as, client } = server;
  const out = ctx.out;
  const secrets = await createLoginSecrets(provider);
  const redirectUri = fixedRedirectUri(redirect);
  const pending: PendingExchange = { ...secrets, redirectUri };
  const url = authorizationUrl(server, pending, scopeOption(opts));
  const path = await savePending(hermesHome(ctx.env), {
    provider: provider.id,
    ...secrets,
    redirectUri,
    clientId: client.client_id,
    createdAt: ctx.now().toISOString(),
    authorizationEndpoint: as.authorization_endpoint!,
    tokenEndpoint: as.token_endpoint!,
    issuer: providerBaseUrl(provider, ctx.env),
  });
  announce(ctx, server, url, redirectUri, session, false, true);
  out.event({ event: "pending", provider: provider.id, path, expires_in: 600 });
  out.info("After approving, the browser is sent to a 127.0.0.1 address that will not load.");
  out.info("Copy that whole address and finish the login within 10 minutes with:");
  out.info();
  out.info(`  hermes-auth add ${provider.id} --callback-url '<the address>'`);
  out.info();
  out.info(out.style.dim(`The pending login is saved in ${path} (0600) and works once.`));
}

/** The state parameter of whatever was pasted, without judging the rest. */
function stateOf(text: string): string | null {
  const t = text.trim().replace(/^['"<]|['">]$/g, "");
  const q = t.includes("?") ? t.slice(t.indexOf("?") + 1) : t;
  return new URLSearchParams(q.split("#")[0]).get("state");
}

/** `--callback-url URL`: finish a pending two-step login. */
async function finishTwoStep(
  ctx: Context,
  server: ProviderServer,
  given: string,
): Promise<LoginResult> {
  const { provider } = server;
  const pending = await takePending(hermesHome(ctx.env), provider.id, stateOf(given), {
    now: ctx.now,
  });
  ctx.out.secret(pending.codeVerifier);
  const parsed = parsePastedCallback(given, {
    redirectUri: pending.redirectUri,
    expectedState: pending.state,
    allowBareCode: false,
  });
  if (!parsed.ok) {
    throw usageError(
      `--callback-url: ${parsed.reason}`,
      "pass the whole address the browser was sent to",
    );
  }
  ctx.out.secret(parsed.url.searchParams.get("code") ?? undefined);
  // The exchange must use the client the login was started with.
  const started = { ...server, client: { ...server.client, client_id: pending.clientId } };
  const tokens = await exchangeCode(started, parsed.url, pending);
  return {
    tokens,
    authMode: "oauth_pkce",
    redirectUri: pending.redirectUri,
    clientId: pending.clientId,
  };
}

/** `--device-code`: show the code, poll until approved. */
async function deviceLogin(
  ctx: Context,
  server: ProviderServer,
  session: SessionVerdict,
  opts: AddOptions,
): Promise<LoginResult> {
  const { startDeviceAuthorization, pollDeviceToken } = await import("../oauth/device.ts");
  const { provider } = server;
  const out = ctx.out;
  const auth = await startDeviceAuthorization(server, scopeOption(opts));
  out.secret(auth.deviceCode);
  // The user code is meant to be shown (RFC 8628 §3.3); the device code never is.
  out.event({
    event: "device_code",
    provider: provider.id,
    verification_uri: auth.verificationUri,
    verification_uri_complete: auth.verificationUriComplete ?? null,
    user_code: auth.userCode,
    expires_in: auth.expiresIn,
    interval: auth.interval,
  });
  out.info(`${out.style.bold(`Log in to ${provider.displayName}`)} on any device with a browser:`);
  out.info();
  out.info(`  1. open ${out.style.cyan(auth.verificationUri)}`);
  out.info(`  2. enter the code ${out.style.bold(auth.userCode)}`);
  if (auth.verificationUriComplete) {
    out.info();
    out.info(`  or open ${out.style.cyan(auth.verificationUriComplete)} (code filled in)`);
  }
  out.info();
  const opened = opts.browser !== false &&
    await openBrowser(auth.verificationUriComplete ?? auth.verificationUri, {
      env: ctx.env,
      os: Deno.build.os,
      session,
    });
  if (opened) out.info(out.style.dim("Opened your browser."));
  const minutes = Math.max(1, Math.round(auth.expiresIn / 60));
  out.info(
    out.style.dim(`Waiting for approval (the code expires in ${minutes} min; Ctrl-C to cancel)…`),
  );
  const tokens = await pollDeviceToken(server, auth, { signal: ctx.signal });
  return { tokens, authMode: "oauth_device_code" };
}

async function storeLogin(
  ctx: Context,
  server: ProviderServer,
  { tokens, authMode, redirectUri, clientId }: LoginResult,
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
      clientId: clientId ?? client.client_id,
      label: opts.label,
      now: ctx.now(),
    }), { now: ctx.now, onLockWait: lockWaitOptions(ctx).onLockWait });
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
