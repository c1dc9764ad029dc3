/**
 * `hermes-auth add <provider>`: log in and store the credential.
 *
 * This module only parses the flags, lets lib/login choose the way in (the
 * device code grant on a remote session where the provider has one, the
 * browser login elsewhere, or what a flag asks for), shows the login's
 * events through {@link LoginView} and stores the result. How each way in
 * works is in lib/login/.
 *
 * @module
 */
import { AuthError, Exit, isAuthError, usageError } from "../errors.ts";
import { chooseWay, login, type LoginIO, type LoginResult, StdinLines } from "../login/mod.ts";
import { scopeOption } from "../login/authorize.ts";
import { type ProviderServer, resolveServer } from "../oauth/server.ts";
import { printable } from "../output.ts";
import type { ProviderSpec, RedirectSpec } from "../providers/types.ts";
import { openBrowser } from "../remote/browser.ts";
import { defaultProbe, detectSession } from "../remote/session.ts";
import { readAuthFile, updateAuthFile } from "../store/auth_store.ts";
import { applyLogin, type StoredLogin } from "../store/credentials.ts";
import { authFilePath, hermesHome } from "../store/paths.ts";
import { colorAllowed } from "../output.ts";
import { type Context, lockWaitOptions } from "./context.ts";
import { LoginView } from "./login_view.ts";
import { chooseClientId, providerNamed } from "./providers.ts";

/** Options of `add`, as commander hands them over. */
export interface AddOptions {
  browser?: boolean;
  loopback?: boolean;
  manualPaste?: boolean;
  deviceCode?: boolean;
  /** `--no-qr` makes this false. */
  qr?: boolean;
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
  const provider = await providerNamed(ctx, providerName);
  const home = hermesHome(ctx.env);
  const request = {
    deviceCode: opts.deviceCode,
    loopback: opts.loopback,
    manualPaste: opts.manualPaste,
    noWait: opts.wait === false,
    callbackUrl: opts.callbackUrl,
    redirectChosen: opts.port !== undefined || opts.redirectUri !== undefined,
    portChosen: opts.port !== undefined,
    redirect: redirectSpec(provider, opts),
    timeoutMs: (opts.timeout ?? 180) * 1000,
    ...scopeOption(opts.scope),
    openBrowser: opts.browser !== false,
    home,
  };
  const session = detectSession({ ...defaultProbe(), env: ctx.env });
  const choice = chooseWay(provider, request, session);
  const stored = (await readAuthFile(home)).data.providers[provider.id];
  const storedClientId = typeof stored?.client_id === "string" ? stored.client_id : undefined;
  const clientId = choice.way === "two-step-finish"
    // Finishing a two-step login: the pending login knows its client (lib/login/two_step.ts).
    ? (opts.clientId ?? storedClientId ?? provider.clientId.builtIn ?? PENDING_CLIENT)
    : chooseClientId(provider, { flag: opts.clientId, stored: storedClientId }, ctx.env);
  const server = await resolveServer(provider, { env: ctx.env, fetch: ctx.fetch, clientId });

  const view = new LoginView(ctx.out, {
    provider: provider.id,
    displayName: provider.displayName,
    // A phone can only scan what a person sees: a terminal on both streams, and not --json.
    qr: opts.qr !== false && !ctx.out.json && ctx.stdoutIsTerminal === true &&
      ctx.stderrIsTerminal === true && { color: colorAllowed(true, ctx.env) },
  });
  const input = new StdinLines(ctx.stdin);
  const io: LoginIO = {
    emit: view.render,
    secret: (value) => ctx.out.secret(value),
    input,
    stdinIsTerminal: ctx.stdinIsTerminal,
    env: ctx.env,
    fetch: ctx.fetch,
    now: ctx.now,
    signal: ctx.signal,
    openBrowser: (url) => openBrowser(url, { env: ctx.env, os: Deno.build.os, session }),
    hostname: defaultProbe().hostname,
  };
  try {
    const result = await login(server, io, request, session, choice);
    view.finish(); // the tally of refused requests, before the outcome
    if (result === null) return Exit.OK;
    reportSuccess(ctx, provider, await storeLogin(ctx, server, result, opts));
    return Exit.OK;
  } finally {
    view.finish();
    await input.close();
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
      ...(provider.apiBaseUrlEnv ? { apiBaseUrl: ctx.env(provider.apiBaseUrlEnv) } : {}),
      now: ctx.now(),
    }), { now: ctx.now, ...lockWaitOptions(ctx) }).catch((e) => {
      throw notSaved(provider, e);
    });
  return { row: stored, path: authFilePath(home) };
}

/**
 * A finished login that auth.lock kept from being stored (its 15 s limit, or Ctrl-C during the
 * wait) ends with the process: say so, and how to log in again. Other failures pass unchanged.
 */
function notSaved(provider: ProviderSpec, e: unknown): unknown {
  if (!isAuthError(e, "lock_timeout") && !isAuthError(e, "interrupted")) return e;
  return new AuthError(e.code, `the new ${provider.id} login was not saved: ${e.message}`, {
    exit: e.exit,
    fix: e.fix ?? `run \`hermes-auth add ${provider.id}\` again to log in`,
    cause: e,
  });
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
    ...(row
      ? {
        index: row.index,
        id: row.id,
        label: row.label,
        account: row.account,
        updated: row.outcome === "updated",
      }
      : {}),
    path,
  });
  out.success(`Logged in to ${provider.displayName}`);
  if (row) {
    const place = row.index === null ? "" : ` #${row.index}`;
    if (row.outcome === "added") {
      out.info(`Added ${provider.id} OAuth credential${place}: "${printable(row.label)}"`);
    } else {
      const whose = row.account ? ` (${printable(row.account)})` : "";
      out.info(
        `Updated ${provider.id} OAuth credential${place} "${printable(row.label)}" in place: ` +
          `the same account${whose} was already stored.`,
      );
    }
    for (const other of row.unsure) {
      out.warn(
        `could not tell whether #${other.index} "${
          printable(other.label)
        }" (id=${other.id}) is the same ` +
          "account; two logins of one account can end each other's session, so remove the " +
          `older one if it is (\`hermes-auth remove ${provider.id} ${other.id}\`)`,
      );
    }
  }
  out.info(out.style.dim(`Saved to ${path}`));
}
