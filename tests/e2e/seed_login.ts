/**
 * A real xAI login against the mock, made in-process (no browser, no CLI
 * process) and stored in auth.json, so token and refresh tests start from a
 * known credential in a few milliseconds. By default it is stored as
 * Hermes's own login leaves it — `providers["xai-oauth"]` plus the
 * `device_code` row today's `load_pool` seeds from it (tests/hermes/eras.ts)
 * —, the layout whose refresh must keep state and row in step; `layout:
 * "hermes-auth"` stores it as `add` does, as one `manual:` pool row.
 *
 * @module
 */
import {
  authorizationUrl,
  createLoginSecrets,
  exchangeCode,
  type PendingExchange,
} from "../../lib/oauth/authcode.ts";
import { resolveServer } from "../../lib/oauth/server.ts";
import type { TokenSet } from "../../lib/oauth/tokens.ts";
import { xai } from "../../lib/providers/xai.ts";
import { updateAuthFile } from "../../lib/store/auth_store.ts";
import { applyLogin } from "../../lib/store/credentials.ts";
import type { MockXai } from "../mock/xai_mock.ts";
import { hermesLogin } from "../hermes/eras.ts";

/** Options of {@link seedLogin}. */
export interface SeedOptions {
  /** Store this token endpoint instead of the mock's (e.g. a recording proxy in front of it). */
  tokenEndpoint?: string;
  /**
   * Pretend the login happened this many seconds ago: the stored expiry
   * (`last_refresh` + `expires_in`) moves back by as much. With the mock's
   * 3600 s tokens, 3570 leaves 30 s: due for a refresh, not yet expired.
   */
  ageSeconds?: number;
  /** `hermes` (default): Hermes's login state and its mirror row; `hermes-auth`: what `add` writes. */
  layout?: "hermes" | "hermes-auth";
}

/** Log in to the mock and store the login under `home`; returns the tokens. */
export async function seedLogin(
  home: string,
  mock: MockXai,
  options: SeedOptions = {},
): Promise<TokenSet> {
  const server = await resolveServer(xai, {
    env: (name) => name === "HERMES_XAI_ISSUER" ? mock.issuer : undefined,
  });
  const pending: PendingExchange = {
    ...(await createLoginSecrets(xai)),
    redirectUri: "http://127.0.0.1:56121/callback",
  };
  const callback = await mock.approve(authorizationUrl(server, pending).href);
  const tokens = await exchangeCode(server, new URL(callback), pending);
  const at = new Date(Date.now() - (options.ageSeconds ?? 0) * 1000);
  const tokenEndpoint = options.tokenEndpoint ?? server.as.token_endpoint!;
  if (options.layout !== "hermes-auth") {
    await updateAuthFile(home, (data) => {
      const file = hermesLogin("device_code", {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token ?? "",
        id_token: tokens.id_token,
        expires_in: tokens.expires_in,
        token_type: tokens.token_type,
      }, { now: at, file: data, tokenEndpoint });
      Object.assign(data, file);
    });
    return tokens;
  }
  await updateAuthFile(home, (data) =>
    applyLogin(data, {
      provider: xai,
      tokens,
      authMode: "oauth_pkce",
      discovery: {
        authorization_endpoint: server.as.authorization_endpoint!,
        token_endpoint: tokenEndpoint,
      },
      redirectUri: pending.redirectUri,
      clientId: server.client.client_id,
      now: at,
    }));
  return tokens;
}
