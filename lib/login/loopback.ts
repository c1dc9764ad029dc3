/**
 * The loopback login (RFC 8252 §7.3): bind the callback listener on
 * 127.0.0.1 (its port decides the redirect URI; it answers CORS for the
 * provider's own pages, which may call it from script), announce the
 * authorize URL and, on a remote session, the tunnel command for the port
 * actually bound; open a browser where one can be shown; then wait for
 * whichever comes first — the browser's callback, a pasted answer, the
 * timeout or Ctrl-C ({@link receiveCode}).
 *
 * @module
 */
import { AuthError, Exit, isAuthError } from "../errors.ts";
import { type CallbackServer, startCallbackServer } from "../loopback/callback_server.ts";
import { authorizationUrl, createLoginSecrets, type PendingExchange } from "../oauth/authcode.ts";
import type { ProviderServer } from "../oauth/server.ts";
import { callbackOrigins, pasteWords } from "../providers/delivery.ts";
import type { ProviderSpec, RedirectSpec } from "../providers/types.ts";
import type { SessionVerdict } from "../remote/session.ts";
import { announceAuthorize } from "./authorize.ts";
import type { LoginIO, LoginResult } from "./events.ts";
import { receiveCode } from "./paste_back.ts";

/** What the loopback login needs. */
export interface LoopbackOptions {
  session: SessionVerdict;
  redirect: RedirectSpec;
  timeoutMs: number;
  scopes?: string[];
  /** Try to open a browser on this machine. */
  openBrowser: boolean;
  /** The port was chosen with --port (a busy one then says so). */
  portChosen: boolean;
}

/** Run the loopback login; the listener is closed whatever happens. */
export async function loopbackLogin(
  server: ProviderServer,
  io: LoginIO,
  options: LoopbackOptions,
): Promise<LoginResult> {
  const { provider } = server;
  const { redirect, session } = options;
  const words = pasteWords(provider.callbackDelivery);
  const secrets = await createLoginSecrets(provider);
  io.secret(secrets.codeVerifier);

  const listener: CallbackServer = await startCallbackServer({
    port: redirect.port,
    portFallback: redirect.portFallback,
    path: redirect.path,
    expectedState: secrets.state,
    pages: provider.pages,
    allowedOrigins: callbackOrigins(provider.callbackDelivery, server.as.authorization_endpoint!),
    onWarning: (message) => io.emit({ type: "listener_warning", message }),
  }).catch((e) => {
    throw isAuthError(e, "port_in_use") ? portBusy(provider, redirect, options.portChosen) : e;
  });
  try {
    if (redirect.port !== 0 && listener.port !== redirect.port) {
      io.emit({ type: "port_moved", wanted: redirect.port, port: listener.port });
    }
    const { redirectUri } = listener;
    const pending: PendingExchange = { ...secrets, redirectUri };
    const url = authorizationUrl(server, pending, { scopes: options.scopes });
    const pasteOffered = io.stdinIsTerminal;
    const announced = announceAuthorize(server, io, {
      url,
      redirectUri,
      session,
      listening: true,
      pasteBack: pasteOffered,
    });
    const opened = options.openBrowser && await io.openBrowser(url.href);
    if (opened) io.emit({ type: "browser_opened", waiting: "callback" });
    if (pasteOffered && announced.hint.length === 0 && (session.remote || !opened)) {
      io.emit({ type: "paste_instructions", manual: false, words });
    }
    io.emit({ type: "waiting", seconds: options.timeoutMs / 1000, for: "callback" });
    return await receiveCode(server, io, {
      listener: listener.result,
      paste: pasteOffered,
      reprompt: pasteOffered,
      timeoutMs: options.timeoutMs,
      redirectUri,
      pending,
    });
  } finally {
    await listener.close();
  }
}

/** The callback port is taken and may not move: say what holds it and the ways out. */
function portBusy(provider: ProviderSpec, redirect: RedirectSpec, portChosen: boolean): AuthError {
  const port = redirect.port;
  const ways = [`find what holds it: lsof -iTCP:${port} -sTCP:LISTEN`];
  if (!provider.redirect.portFallback) {
    ways.push(
      `or register another loopback redirect URI with your ${provider.displayName} app and pass --redirect-uri`,
    );
  } else if (portChosen) ways.push("or pick another --port");
  const why = provider.redirect.portFallback
    ? "and --port asks for exactly that port"
    : `and ${provider.displayName}'s redirect URI must match the registered one exactly`;
  return new AuthError("port_in_use", `port ${port} on 127.0.0.1 is in use, ${why}`, {
    exit: Exit.FAILURE,
    fix: ways.join("; "),
  });
}
