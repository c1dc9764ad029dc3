/**
 * `hermes-auth token <provider>`: print a valid access token and nothing
 * else, for `curl -H "Authorization: Bearer $(hermes-auth token xai-oauth)"`.
 * `--account <#N|id|label>` picks one credential of the pool (see `list`)
 * instead of the first usable one in the order Hermes reads them.
 * Refreshes first when the token expires within the provider's skew; when
 * that refresh fails for a passing reason (network, 5xx, a busy lock) while
 * the current token is still valid, prints the current token and warns.
 *
 * This is the hot path of scripts and agents: a fresh token is read, picked
 * and printed by lib/oauth/access_token.ts alone, which stops at the first
 * usable credential. The lock, the writer and the refresh (and with them
 * oauth4webapi) load only when a refresh is due, or for `--account`.
 *
 * @module
 */
import { Exit } from "../errors.ts";
import { lazy } from "../lazy.ts";
import { type AccessToken, handOut, readCredential, refreshDue } from "../oauth/access_token.ts";
import { hermesHome } from "../store/paths.ts";
import type { AccessTokenOptions } from "../oauth/refresh.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { type Context, lockWaitOptions } from "./context.ts";
import { providerNamed } from "./providers.ts";

/** Options of `token`, as commander hands them over. */
export interface TokenOptions {
  json?: boolean;
  /** A credential of the pool: `#N`, id or label. */
  account?: string;
}

/**
 * Run `token`; returns the exit code. Prints the token with `out.raw` (the
 * only output allowed to carry one); `--json` prints one object
 * `{access_token, expires_at, token_type}` (plus `warning` when a stale token
 * is handed out).
 */
export async function token(
  ctx: Context,
  providerName: string,
  opts: TokenOptions,
): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  const result = await tokenFor(ctx, provider, opts.account);
  const warning = result.staleBecause
    ? `could not refresh the ${provider.id} token (${result.staleBecause.message}); ` +
      `using the current one, which expires ${await untilText(result.expiresAt, ctx.now())}`
    : undefined;
  if (opts.json) {
    ctx.out.raw(JSON.stringify({
      access_token: result.accessToken,
      expires_at: result.expiresAt?.toISOString() ?? null,
      token_type: result.tokenType,
      ...(warning ? { warning } : {}),
    }));
    return Exit.OK;
  }
  if (warning) ctx.out.warn(warning);
  ctx.out.raw(result.accessToken);
  return Exit.OK;
}

/** The stored token while it is fresh; otherwise (or for one named account) the refresh path. */
async function tokenFor(
  ctx: Context,
  provider: ProviderSpec,
  account: string | undefined,
): Promise<AccessToken> {
  if (account !== undefined) {
    return await accessTokenFor(ctx, provider, { allowStale: true, account });
  }
  const seen = await readCredential(provider, hermesHome(ctx.env), ctx.now());
  if (!refreshDue(seen.login, ctx.now(), provider.refreshSkewSeconds)) {
    return handOut(seen.login, "stored");
  }
  return await accessTokenFor(ctx, provider, { allowStale: true, seen });
}

/** When a stale token expires; only this warning needs lib/cli/when.ts, so it loads here. */
async function untilText(expiresAt: Date | null, now: Date): Promise<string> {
  if (!expiresAt) return "at an unknown time";
  const { durationText } = await lazy<typeof import("./when.ts")>("./when.ts", import.meta.url);
  return `in ${durationText((expiresAt.getTime() - now.getTime()) / 1000)}`;
}

/**
 * getAccessToken (loaded now: it brings the lock, the writer and the grants)
 * with this command run's home, environment, network, clock and Ctrl-C.
 */
export async function accessTokenFor(
  ctx: Context,
  provider: ProviderSpec,
  mode: Pick<AccessTokenOptions, "allowStale" | "force" | "account" | "seen">,
): Promise<AccessToken> {
  const { getAccessToken } = await lazy<typeof import("../oauth/refresh.ts")>(
    "../oauth/refresh.ts",
    import.meta.url,
  );
  return await getAccessToken(provider, {
    home: hermesHome(ctx.env),
    env: ctx.env,
    fetch: ctx.fetch,
    now: ctx.now,
    ...lockWaitOptions(ctx),
    ...mode,
  });
}
