/**
 * Paste-back: when the browser cannot reach this machine, the person carries
 * the answer over by hand — the code the page shows (accounts.x.ai) or the
 * address of the page that failed to load (redirect providers), or its
 * query. PKCE binds a bare code to this login's verifier, which never left
 * the machine, so no state is needed with it.
 *
 * {@link receiveCode} is the wait shared with the loopback login: listener
 * and pasted lines race, a timeout on a terminal asks once more, and a
 * pasted code the provider refuses asks for another instead of ending the
 * login. {@link manualPasteLogin} is `--manual-paste`: the same wait with no
 * listener at all.
 *
 * @module
 */
import { type AuthError, isAuthError } from "../errors.ts";
import { callbackTimeout, type ReceivedCallback, waitForCallback } from "../loopback/wait.ts";
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../oauth/authcode.ts";
import type { ProviderServer } from "../oauth/server.ts";
import { type PasteWords, pasteWords } from "../providers/delivery.ts";
import type { RedirectSpec } from "../providers/types.ts";
import type { SessionVerdict } from "../remote/session.ts";
import { announceAuthorize, fixedRedirectUri } from "./authorize.ts";
import type { LoginIO, LoginResult } from "./events.ts";

/** What {@link receiveCode} waits with. */
export interface ReceiveOptions {
  /** The listener's single result, when one runs. */
  listener?: Promise<URL>;
  /** Read pasted lines (a terminal, or --manual-paste from any stdin). */
  paste: boolean;
  /** Ask once more after a timeout (a person at a terminal, with a listener). */
  reprompt: boolean;
  timeoutMs: number;
  redirectUri: string;
  /** This login's secrets and redirect URI, for the exchange. */
  pending: PendingExchange;
}

/**
 * Wait for the callback and exchange its code: see the module doc. A
 * callback from the listener that fails ends the login (the listener has
 * given its one result); a pasted one that the provider refuses, or that
 * names another state or issuer, costs one `paste_refused` and the wait goes
 * on.
 */
export async function receiveCode(
  server: ProviderServer,
  io: LoginIO,
  options: ReceiveOptions,
): Promise<LoginResult> {
  const words = pasteWords(server.provider.callbackDelivery);
  const { pending, redirectUri } = options;
  const wait = (timeoutMs: number) =>
    waitForCallback({
      timeoutMs,
      listener: options.listener,
      paste: options.paste ? io.input.view() : undefined,
      onInvalidPaste: (reason) => io.emit({ type: "paste_refused", reason: `${reason}.` }),
      signal: io.signal,
      redirectUri,
      expectedState: pending.state,
      pasteWhat: words.what,
    });
  let reprompted = false;
  const next = async (): Promise<ReceivedCallback> => {
    try {
      return await wait(options.timeoutMs);
    } catch (e) {
      if (!isTimeout(e)) throw e;
      // A person at a terminal gets one more chance to paste instead of a dead end.
      if (reprompted || !options.reprompt) throw timedOut(options, words, reprompted);
      reprompted = true;
      io.emit({ type: "timeout_reprompt", seconds: options.timeoutMs / 1000, words });
      try {
        return await wait(options.timeoutMs);
      } catch (again) {
        throw isTimeout(again) ? timedOut(options, words, true) : again;
      }
    }
  };
  for (;;) {
    const callback = await next();
    io.secret(callback.url.searchParams.get("code") ?? undefined);
    if (callback.source === "paste") io.emit({ type: "pasted" });
    try {
      const tokens = await exchangeCode(server, callback.url, pending, {
        pasted: callback.source === "paste",
      });
      return { tokens, authMode: "oauth_pkce", redirectUri };
    } catch (e) {
      // A paste the provider refuses (a used, expired, cut or foreign code) or that names
      // another issuer must not cost the login: the same authorize URL gives a new code for
      // this verifier. Only a callback from the browser, or a denial, ends it here.
      if (callback.source !== "paste") throw e;
      if (isAuthError(e, "code_rejected")) {
        io.emit({
          type: "paste_refused",
          reason: `${(e as AuthError).message}; open the login URL again, approve, and paste ` +
            "the new code.",
        });
      } else if (isAuthError(e, "state_mismatch")) {
        io.emit({
          type: "paste_refused",
          reason: `${(e as AuthError).message}; paste ${words.what} for this login.`,
        });
      } else throw e;
    }
  }
}

/** What `--manual-paste` needs. */
export interface ManualPasteOptions {
  session: SessionVerdict;
  redirect: RedirectSpec;
  timeoutMs: number;
  scopes?: string[];
  /** Try to open a browser on this machine. */
  openBrowser: boolean;
}

/** `--manual-paste`: no listener; the person pastes the answer (stdin may be a pipe: a script can feed it). */
export async function manualPasteLogin(
  server: ProviderServer,
  io: LoginIO,
  options: ManualPasteOptions,
): Promise<LoginResult> {
  const words = pasteWords(server.provider.callbackDelivery);
  const secrets = await createLoginSecrets(server.provider);
  io.secret(secrets.codeVerifier);
  const redirectUri = fixedRedirectUri(options.redirect);
  const pending: PendingExchange = { ...secrets, redirectUri };
  const url = authorizationUrl(server, pending, { scopes: options.scopes });
  announceAuthorize(server, io, {
    url,
    redirectUri,
    session: options.session,
    listening: false,
    pasteBack: true,
  });
  if (options.openBrowser && await io.openBrowser(url.href)) {
    io.emit({ type: "browser_opened", waiting: "approval" });
  }
  io.emit({ type: "paste_instructions", manual: true, words });
  return await receiveCode(server, io, {
    paste: true,
    reprompt: false,
    timeoutMs: options.timeoutMs,
    redirectUri,
    pending,
  });
}

function isTimeout(e: unknown): boolean {
  return isAuthError(e, "callback_timeout");
}

/**
 * The timeout, said for what really happened: the whole time waited (both
 * waits, after a reminder), and a fix that offers pasting only where a
 * person could paste — a script's stdin gets the two-step login instead.
 */
function timedOut(options: ReceiveOptions, words: PasteWords, reprompted: boolean): AuthError {
  const ways = options.listener
    ? ["if the browser could not reach 127.0.0.1, check the SSH tunnel (ssh -N -L)"]
    : [];
  if (options.paste) ways.push(`paste ${words.what}`);
  else ways.push(`finish in two steps: --no-wait, then --callback-url with ${words.what}`);
  return callbackTimeout(
    options.timeoutMs * (reprompted ? 2 : 1),
    `${ways.join(" or ")}; allow more time with --timeout SECONDS`,
  );
}
