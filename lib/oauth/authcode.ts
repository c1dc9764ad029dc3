/**
 * Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252),
 * every message built and checked by oauth4webapi.
 *
 * @module
 */
import * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import { describeFailure, discardBody, tokenFailure } from "./failures.ts";
import type { ProviderSpec } from "../providers/types.ts";
import type { ProviderServer } from "./server.ts";
import type { TokenSet } from "./tokens.ts";
import { toTokenSet } from "./tokens.ts";

/** The per-login secrets, made before anything is sent; kept until the exchange. */
export interface LoginSecrets {
  state: string;
  nonce?: string;
  codeVerifier: string;
  codeChallenge: string;
}

/** What the exchange needs (and a two-step login stores): the secrets and the redirect URI. */
export interface PendingExchange extends LoginSecrets {
  redirectUri: string;
}

/** PKCE S256 verifier and challenge, a random state, and a nonce for OIDC providers. */
export async function createLoginSecrets(
  provider: Pick<ProviderSpec, "oidc">,
): Promise<LoginSecrets> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return {
    state: oauth.generateRandomState(),
    ...(provider.oidc ? { nonce: oauth.generateRandomNonce() } : {}),
    codeVerifier,
    codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  };
}

/** Options of {@link authorizationUrl}. */
export interface AuthorizationUrlOptions {
  /** Scopes to ask for instead of the provider's. */
  scopes?: string[];
  /** Extra authorize parameters on top of the provider's. */
  extraParams?: Record<string, string>;
}

/** The authorize URL the browser opens (RFC 6749 §4.1.1 with PKCE and, for OIDC, a nonce). */
export function authorizationUrl(
  server: ProviderServer,
  pending: PendingExchange,
  options: AuthorizationUrlOptions = {},
): URL {
  const { provider, as, client } = server;
  const url = new URL(as.authorization_endpoint!);
  const params: Record<string, string> = {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: pending.redirectUri,
    scope: (options.scopes ?? provider.scopes).join(" "),
    state: pending.state,
    code_challenge: pending.codeChallenge,
    code_challenge_method: "S256",
    ...(pending.nonce ? { nonce: pending.nonce } : {}),
    ...provider.extraAuthorizeParams,
    ...options.extraParams,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

/**
 * Validate the callback (state, iss, error) and exchange its code for
 * tokens. Denied consent and state mismatch are exit 5; token endpoint
 * failures map through {@link tokenFailure}.
 */
export async function exchangeCode(
  server: ProviderServer,
  callback: URL,
  pending: PendingExchange,
): Promise<TokenSet> {
  const { provider, as, client, http } = server;
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback, pending.state);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      const denied = e.error === "access_denied";
      throw new AuthError(
        denied ? "access_denied" : "authorization_error",
        denied
          ? `${provider.displayName} authorization was denied${
            e.error_description ? `: ${e.error_description}` : ""
          }`
          : `${provider.displayName} returned an error: ${describeFailure(e)}`,
        {
          exit: Exit.DENIED,
          fix: denied
            ? `run \`hermes-auth add ${provider.id}\` again and approve access`
            : `run \`hermes-auth add ${provider.id}\` again`,
          cause: e,
        },
      );
    }
    throw new AuthError(
      "state_mismatch",
      `the authorization response failed validation: ${describeFailure(e)}`,
      {
        exit: Exit.DENIED,
        fix:
          "start the login again and use only the newest link; check for a proxy rewriting redirects",
        cause: e,
      },
    );
  }
  const additionalParameters: Record<string, string> = provider.resendChallengeOnTokenRequest
    ? { code_challenge: pending.codeChallenge, code_challenge_method: "S256" }
    : {};
  let response: Response | undefined;
  try {
    response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      pending.redirectUri,
      pending.codeVerifier,
      { ...(http as oauth.TokenEndpointRequestOptions), additionalParameters },
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: pending.nonce ?? oauth.expectNoNonce,
    });
    return toTokenSet(result, provider);
  } catch (e) {
    await discardBody(response);
    throw tokenFailure(e, provider, "exchange");
  }
}
