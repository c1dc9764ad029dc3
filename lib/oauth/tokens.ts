/**
 * Token sets as the CLI stores them, and reading expiry out of them.
 *
 * @module
 */
import type * as oauth from "oauth4webapi";
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";

/** What a token endpoint gave us, in the shape auth.json keeps. */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

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
  set.token_type = typeof response.token_type === "string" ? response.token_type : "Bearer";
  if (typeof response.scope === "string") set.scope = response.scope;
  return set;
}

/** The `exp` claim of a JWT-shaped token, without verifying it; undefined if not a JWT. */
export function jwtExpiry(token: string): Date | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const exp = JSON.parse(json)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** When the token set expires: `expires_in` counted from `obtainedAt`, else the JWT `exp`. */
export function tokenExpiry(tokens: TokenSet, obtainedAt: Date): Date | undefined {
  if (typeof tokens.expires_in === "number") {
    return new Date(obtainedAt.getTime() + tokens.expires_in * 1000);
  }
  return jwtExpiry(tokens.access_token);
}
