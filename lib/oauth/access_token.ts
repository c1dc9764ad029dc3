/**
 * The access token as stored, judged without touching the network or the
 * lock: read auth.json, pick the credential (lib/store/stored_login.ts),
 * say whether a refresh is due. `token` on a fresh token needs nothing
 * else, so this module is all of its path; lib/oauth/refresh.ts builds the
 * refresh on it and is loaded only when one is due.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { type AuthFile, readAuthFile } from "../store/auth_file.ts";
import {
  credentialOfRow,
  lastAuthError,
  pickCredential,
  type PickedCredential,
  storedIssuer,
  type StoredToken,
} from "../store/stored_login.ts";
import { authFilePath } from "../store/paths.ts";

/** What `getAccessToken` (lib/oauth/refresh.ts) hands out. */
export interface AccessToken {
  accessToken: string;
  tokenType: string;
  /** Null when no expiry is known (then it counts as not expiring, as in Hermes). */
  expiresAt: Date | null;
  /**
   * `stored`: fresh enough, no request; `refreshed`: this call refreshed it;
   * `refreshed_elsewhere`: another process refreshed it while this one waited for the lock.
   */
  origin: "stored" | "refreshed" | "refreshed_elsewhere";
  /** Set when a refresh was due but failed and the current, unexpired token is returned. */
  staleBecause?: AuthError;
}

/**
 * Is a refresh due: the token expires within `skewSeconds`, or within half
 * its lifetime when that is shorter (so a token that lives 60 s is not
 * "expiring" the moment it is issued). No known expiry: never due.
 */
export function refreshDue(login: StoredToken, now: Date, skewSeconds: number): boolean {
  if (login.expiresAt === null) return false;
  let skewMs = skewSeconds * 1000;
  const issued = login.lastRefresh ? Date.parse(login.lastRefresh) : NaN;
  const lifetime = login.expiresAt.getTime() - issued;
  if (Number.isFinite(lifetime) && lifetime > 0) skewMs = Math.min(skewMs, lifetime / 2);
  return login.expiresAt.getTime() - now.getTime() <= skewMs;
}

/** Has the access token actually expired? (Unknown expiry: no.) */
export function expired(login: StoredToken, now: Date): boolean {
  return login.expiresAt !== null && login.expiresAt.getTime() <= now.getTime();
}

/** The token of `login`, as handed out. */
export function handOut(login: StoredToken, origin: AccessToken["origin"]): AccessToken {
  return {
    accessToken: login.accessToken,
    tokenType: login.tokenType,
    expiresAt: login.expiresAt,
    origin,
  };
}

export interface Found extends PickedCredential {
  /**
   * Issuer from the stored ID token, for checking a new one. A function: only
   * a refresh needs it, and decoding the JWT costs a fresh-token run ~2 ms.
   */
  issuer: () => string | undefined;
}

/**
 * The credential `token` uses (or, with `only`, the one of that row id), with
 * its login read; AuthError `not_logged_in` (exit 3) when there is none that
 * can give a token, saying why.
 */
export async function readCredential(
  provider: ProviderSpec,
  home: string,
  now: Date,
  only?: string,
): Promise<Found> {
  const { data, corrupt } = await readAuthFile(home);
  if (only !== undefined) return namedCredential(provider, data, only);
  const picked = pickCredential(data, provider, now);
  if (picked) return { ...picked, issuer: () => storedIssuer(data, provider.id) };
  const fix = `run \`hermes-auth add ${provider.id}\` to log in`;
  if (corrupt) {
    throw new AuthError(
      "not_logged_in",
      `${authFilePath(home)} is not a readable auth store, so there is no ${provider.id} login`,
      { exit: Exit.LOGIN_REQUIRED, fix },
    );
  }
  const last = lastAuthError(data, provider.id);
  throw new AuthError(
    "not_logged_in",
    last
      ? `the ${provider.id} login is no longer valid (${last.message})`
      : `not logged in to ${provider.displayName}`,
    { exit: Exit.LOGIN_REQUIRED, fix: last ? `run \`hermes-auth add ${provider.id}\` again` : fix },
  );
}

/** The credential of row `rowId`, or why it cannot give a token (exit 3). */
function namedCredential(
  provider: ProviderSpec,
  data: AuthFile,
  rowId: string,
): Found {
  const named = credentialOfRow(data, provider, rowId);
  const again = `run \`hermes-auth add ${provider.id}\` to log in to that account again`;
  if (!named.found) {
    throw new AuthError(
      "not_logged_in",
      `the ${provider.id} credential id=${rowId} was removed meanwhile`,
      {
        exit: Exit.LOGIN_REQUIRED,
        fix: `see what is stored with \`hermes-auth list ${provider.id}\``,
      },
    );
  }
  if (!named.picked) {
    const why = typeof named.row.last_error_message === "string" && named.row.last_error_message
      ? `: ${named.row.last_error_message}`
      : "";
    throw new AuthError(
      "not_logged_in",
      `the ${provider.id} credential #${named.index} ${
        JSON.stringify(String(named.row.label ?? ""))
      } (id=${named.row.id}) no longer works${why}`,
      { exit: Exit.LOGIN_REQUIRED, fix: again },
    );
  }
  return { ...named.picked, issuer: () => storedIssuer(data, provider.id) };
}
