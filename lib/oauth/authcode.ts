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
import { decodeJwtClaims } from "../store/identity.ts";

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

/** Options of {@link exchangeCode}. */
export interface ExchangeOptions {
  /**
   * The callback was pasted by a person (prompt, `--manual-paste`,
   * `--callback-url`) rather than delivered to the listener by the browser.
   */
  pasted?: boolean;
}

/**
 * Validate the callback (state, iss, error) and exchange its code for
 * tokens. Denied consent and state mismatch are exit 5; a code the token
 * endpoint refuses with invalid_grant is `code_rejected` (exit 5), so a
 * caller can ask for another code; an ID token whose nonce is not this
 * login's is `id_token_nonce_mismatch` (exit 5). Other token endpoint failures
 * map through {@link tokenFailure}.
 */
export async function exchangeCode(
  server: ProviderServer,
  callback: URL,
  pending: PendingExchange,
  options: ExchangeOptions = {},
): Promise<TokenSet> {
  const { provider, client, http } = server;
  // RFC 9207 §2.4: a server that advertises `iss` sends it on every response, and a client
  // must then refuse responses without it, which oauth4webapi does. That stops a mix-up: a
  // browser-delivered response from another server. A pasted response is different: the
  // person copied a code, or an address cut short, from the page of the one server this login
  // was started with, and the code goes only to that server's token endpoint with a verifier
  // that never left this machine. So for pasted input only, a missing `iss` is not an error;
  // an `iss` that is there is still checked against the issuer.
  const as = options.pasted
    ? { ...server.as, authorization_response_iss_parameter_supported: false }
    : server.as;
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
      expectedNonce: await expectedNonce(response, pending),
    });
    return toTokenSet(result, provider);
  } catch (e) {
    await discardBody(response);
    throw exchangeFailure(e, provider);
  }
}

/**
 * The nonce the ID token must carry. Whether xAI echoes the nonce is unknown
 * (Hermes stores the ID token without looking at it), and this CLI does not
 * use the ID token to authenticate anyone: PKCE and state already tie the
 * code to this login. So an ID token without a nonce is taken as it is
 * (validated in every other way), while one that carries a nonce must carry
 * this login's: another value means an ID token from someone else's login.
 */
async function expectedNonce(
  response: Response,
  pending: PendingExchange,
): Promise<string | typeof oauth.expectNoNonce> {
  if (pending.nonce === undefined) return oauth.expectNoNonce;
  return await idTokenHasNonce(response) ? pending.nonce : oauth.expectNoNonce;
}

/** Peek at the ID token of a token response (unverified: oauth4webapi checks it next). */
async function idTokenHasNonce(response: Response): Promise<boolean> {
  try {
    const body = await response.clone().json();
    const idToken = String(body?.id_token ?? "");
    // No ID token, or not a JWT: let oauth4webapi say what is wrong with it.
    if (idToken.split(".").length !== 3) return true;
    const claims = decodeJwtClaims(idToken);
    return Object.keys(claims).length === 0 || "nonce" in claims;
  } catch {
    return true;
  }
}

/** Why a token endpoint refuses a code with invalid_grant, in the words of a fix. */
export const CODE_REJECTED_WHY =
  "the code was used already, has expired, was cut short or belongs to another login";

/** invalid_grant and a foreign nonce get their own codes; the rest maps through tokenFailure. */
function exchangeFailure(e: unknown, provider: ProviderSpec): AuthError {
  if (e instanceof oauth.ResponseBodyError && e.error === "invalid_grant") {
    return new AuthError(
      "code_rejected",
      `${provider.displayName} refused the authorization code: ${describeFailure(e)}`,
      {
        exit: Exit.DENIED,
        fix: `${CODE_REJECTED_WHY}: open the login URL again, approve, and use the new code`,
        cause: e,
      },
    );
  }
  if (
    e instanceof oauth.OperationProcessingError && e.code === oauth.JWT_CLAIM_COMPARISON &&
    (e.cause as { claim?: unknown } | undefined)?.claim === "nonce"
  ) {
    return new AuthError(
      "id_token_nonce_mismatch",
      `${provider.displayName} returned an ID token made for another login (its nonce is not this login's)`,
      {
        exit: Exit.DENIED,
        fix: `nothing was stored; run \`hermes-auth add ${provider.id}\` again, and if it ` +
          "happens again check for a proxy between you and the provider",
        cause: e,
      },
    );
  }
  return tokenFailure(e, provider, "exchange");
}
