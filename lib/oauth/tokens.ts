/**
 * Token endpoint responses turned into the token sets the store keeps.
 *
 * @module
 */
import type * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import type { TokenSet } from "../store/credentials.ts";

/** What a token endpoint gave us, in the shape auth.json keeps (defined by the store). */
export type { TokenSet } from "../store/credentials.ts";

/** Keep the fields we store; a provider that must give a refresh token and did not is an error. */
export function toTokenSet(
  response: oauth.TokenEndpointResponse,
  provider: ProviderSpec,
): TokenSet {
  if (provider.requireRefreshToken && !response.refresh_token) {
    throw new AuthError(
      "no_refresh_token",
      `${provider.displayName} returned no refresh token, so the login could not be kept`,
      {
        exit: Exit.PROVIDER,
        fix: "check that the offline_access scope is granted, then log in again",
      },
    );
  }
  const set: TokenSet = { access_token: response.access_token };
  if (response.refresh_token) set.refresh_token = response.refresh_token;
  if (response.id_token) set.id_token = response.id_token;
  if (typeof response.expires_in === "number") set.expires_in = response.expires_in;
  // oauth4webapi lower-cases token_type; the scheme is case-insensitive (RFC 6750), and
  // Hermes and the providers write "Bearer".
  const type = typeof response.token_type === "string" ? response.token_type : "Bearer";
  set.token_type = type.toLowerCase() === "bearer" ? "Bearer" : type;
  if (typeof response.scope === "string") set.scope = response.scope;
  return set;
}
