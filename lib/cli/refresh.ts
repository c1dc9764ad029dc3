/**
 * `hermes-auth refresh <provider>`: refresh the access token now, whatever
 * its expiry, under the same lock as every other refresh. Prints when the
 * new token expires, never the token.
 *
 * @module
 */
import { Exit } from "../errors.ts";
import type { Context } from "./context.ts";
import { providerNamed } from "./providers.ts";
import { whenText } from "./when.ts";
import { accessTokenFor } from "./token.ts";

/** Options of `refresh`, as commander hands them over. */
export interface RefreshOptions {
  json?: boolean;
}

/** Run `refresh`; returns the exit code. `--json`: `{provider, refreshed, expires_at, token_type}`. */
export async function refresh(
  ctx: Context,
  providerName: string,
  _opts: RefreshOptions,
): Promise<number> {
  const provider = await providerNamed(ctx, providerName);
  const result = await accessTokenFor(ctx, provider, { force: true });
  ctx.out.secret(result.accessToken);
  ctx.out.result({
    provider: provider.id,
    refreshed: true,
    expires_at: result.expiresAt?.toISOString() ?? null,
    token_type: result.tokenType,
  });
  const expiry = result.expiresAt
    ? `it expires ${whenText(result.expiresAt, { now: ctx.now(), timeZone: ctx.timeZone })}`
    : "its expiry is not known";
  ctx.out.success(`Refreshed the ${provider.displayName} access token; ${expiry}`);
  return Exit.OK;
}
