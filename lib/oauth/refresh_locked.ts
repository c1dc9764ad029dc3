/**
 * The refresh itself, under auth.lock: the request to the token endpoint and
 * the write of its result (or the quarantine of a dead login). Loaded by
 * lib/oauth/refresh.ts only in the process that holds the lock and finds the
 * token still due, so the waiters of a refresh storm never load it, nor the
 * grant, the writer and oauth4webapi it brings.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { updateAuthFile } from "../store/auth_store.ts";
import { applyRefresh, markLoginDead } from "../store/credentials.ts";
import { type HeldLock, signalOf } from "../store/lock.ts";
import { type AccessToken, type Found, handOut } from "./access_token.ts";
import { RefreshFailure, refreshServer, refreshWithRetry } from "./refresh_grant.ts";
import type { AccessTokenOptions } from "./refresh.ts";
import type { TokenSet } from "./tokens.ts";

/** Default waits before the second and third attempt of a refresh that failed transiently. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000];

/**
 * Under `lock`: refresh `found`, store the result (or quarantine a dead
 * login). The writes join `lock`, so the re-read, the request and the write
 * happen in one hold of auth.lock.
 */
export async function refreshLocked(
  provider: ProviderSpec,
  found: Found,
  options: AccessTokenOptions,
  now: () => Date,
  lock: HeldLock,
): Promise<AccessToken> {
  const refreshToken = found.login.refreshToken;
  if (!refreshToken) {
    throw new AuthError(
      "not_refreshable",
      `the stored ${provider.displayName} login has no refresh token, so it cannot be renewed`,
      { exit: Exit.LOGIN_REQUIRED, fix: `run \`hermes-auth add ${provider.id}\` to log in again` },
    );
  }
  const server = await refreshServer(provider, found.login, {
    env: options.env,
    fetch: options.fetch,
    issuer: found.issuer(),
    timeoutMs: options.requestTimeoutMs,
  });
  let tokens: TokenSet;
  try {
    tokens = await refreshWithRetry(server, refreshToken, {
      signal: signalOf(options.signal),
      sleep: options.sleep,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    });
  } catch (e) {
    if (e instanceof RefreshFailure && e.dead) {
      await updateAuthFile(options.home, (data) =>
        markLoginDead(data, {
          provider,
          ref: found.ref,
          message: e.error.message,
          status: e.status,
          reason: e.reason,
          now: now(),
        }), { now, lock });
    }
    throw e instanceof RefreshFailure ? e.error : e;
  }
  const stored = await updateAuthFile(options.home, (data) =>
    applyRefresh(data, {
      provider,
      ref: found.ref,
      tokens,
      tokenEndpoint: server.as.token_endpoint,
      now: now(),
    }), { now, lock });
  return handOut(stored, "refreshed");
}
