/**
 * The two-step login, for scripts and bots that cannot wait at a prompt:
 * `add <provider> --no-wait` saves the login's secrets as a pending login
 * (lib/store/pending.ts, 0600, ten minutes) and ends; `add <provider>
 * --callback-url <address-or-code>` finishes it later, in another process.
 *
 * The pending login is used up only by a success or an explicit denial:
 * text that is not a callback, another login's state, a code the provider
 * refuses or a network failure all keep it, so the right paste can still
 * finish it.
 *
 * @module
 */
import { AuthError, isAuthError, usageError } from "../errors.ts";
import { parsePastedCallback } from "../loopback/paste.ts";
import {
  authorizationUrl,
  CODE_REJECTED_WHY,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../oauth/authcode.ts";
import { providerBaseUrl, type ProviderServer } from "../oauth/server.ts";
import { pasteWords } from "../providers/delivery.ts";
import type { RedirectSpec } from "../providers/types.ts";
import type { SessionVerdict } from "../remote/session.ts";
import { DEFAULT_PENDING_MAX_AGE_MS, finishPending, savePending } from "../store/pending.ts";
import { announceAuthorize, fixedRedirectUri } from "./authorize.ts";
import type { LoginIO, LoginResult } from "./events.ts";

/** What `--no-wait` needs. */
export interface StartTwoStepOptions {
  home: string;
  session: SessionVerdict;
  redirect: RedirectSpec;
  scopes?: string[];
}

/** `--no-wait`: announce the URL, save the pending login, say how to finish it. */
export async function startTwoStep(
  server: ProviderServer,
  io: LoginIO,
  options: StartTwoStepOptions,
): Promise<void> {
  const { provider, as, client } = server;
  const secrets = await createLoginSecrets(provider);
  io.secret(secrets.codeVerifier);
  const redirectUri = fixedRedirectUri(options.redirect);
  const pending: PendingExchange = { ...secrets, redirectUri };
  const url = authorizationUrl(server, pending, { scopes: options.scopes });
  const path = await savePending(options.home, {
    provider: provider.id,
    ...secrets,
    redirectUri,
    clientId: client.client_id,
    createdAt: io.now().toISOString(),
    authorizationEndpoint: as.authorization_endpoint!,
    tokenEndpoint: as.token_endpoint!,
    issuer: providerBaseUrl(provider, io.env),
  });
  announceAuthorize(server, io, {
    url,
    redirectUri,
    session: options.session,
    listening: false,
    pasteBack: false,
  });
  const words = pasteWords(provider.callbackDelivery);
  io.emit({
    type: "pending",
    path,
    expiresIn: DEFAULT_PENDING_MAX_AGE_MS / 1000,
    command: `hermes-auth add ${provider.id} --callback-url '${words.placeholder}'`,
    words,
  });
}

/** `--callback-url URL-or-code`: finish the provider's pending login (see the module doc). */
export async function finishTwoStep(
  server: ProviderServer,
  io: LoginIO,
  options: { home: string; given: string },
): Promise<LoginResult> {
  const { provider } = server;
  const { given } = options;
  const words = pasteWords(provider.callbackDelivery);
  const kept = "the pending login is kept";
  return await finishPending(
    options.home,
    provider.id,
    stateOf(given),
    async (pending) => {
      io.secret(pending.codeVerifier);
      const parsed = parsePastedCallback(given, {
        redirectUri: pending.redirectUri,
        expectedState: pending.state,
        pasteWhat: words.what,
      });
      if (!parsed.ok) {
        throw usageError(`--callback-url: ${parsed.reason}`, `pass ${words.what}; ${kept}`);
      }
      io.secret(parsed.url.searchParams.get("code") ?? undefined);
      // The exchange must use the client the login was started with.
      const started = { ...server, client: { ...server.client, client_id: pending.clientId } };
      try {
        const tokens = await exchangeCode(started, parsed.url, pending, { pasted: true });
        return {
          tokens,
          authMode: "oauth_pkce",
          redirectUri: pending.redirectUri,
          clientId: pending.clientId,
        };
      } catch (e) {
        if (isAuthError(e, "code_rejected")) {
          throw new AuthError(e.code, e.message, {
            exit: e.exit,
            fix: `${CODE_REJECTED_WHY}: open the login URL again, approve, and pass the new ` +
              `code to --callback-url; ${kept}`,
            cause: e,
          });
        }
        throw e;
      }
    },
    { now: io.now, ends: (e) => isAuthError(e, "access_denied") },
  );
}

/** The state parameter of whatever was pasted, without judging the rest (null: none). */
function stateOf(text: string): string | null {
  const t = text.trim().replace(/^['"<]|['">]$/g, "");
  const q = t.includes("?") ? t.slice(t.indexOf("?") + 1) : t;
  return new URLSearchParams(q.split("#")[0]).get("state");
}
