/**
 * Whose credential is this: the account behind a login, read from the claims
 * of its tokens (never verified here: the tokens were checked when they were
 * issued, and these claims only decide which pool row a login belongs to).
 *
 * - The key is the ID token's `sub` with its `iss` (OpenID Connect Core
 *   §2: `sub` is unique within an issuer), else the access token's when it
 *   is a JWT (xAI's are, and Hermes's `_oauth_identity` in hermes_cli/auth.py
 *   reads `sub` / `email` from the access token first, then the ID token).
 * - The `email` is the fallback key when a side has no `sub`, and what is
 *   shown: it is also the label Hermes gives a row (`label_from_token` in
 *   agent/credential_pool.py: the access token's `email`,
 *   `preferred_username` or `upn`).
 *
 * Pool rows keep no ID token (Hermes's `PooledCredential.from_dict` drops
 * keys it does not know, so one written there would vanish at Hermes's next
 * write): a row's account is read from its access token, and when that is
 * opaque, from a label that is an e-mail address.
 *
 * @module
 */

/** The account a credential belongs to, as far as its tokens say. */
export interface AccountIdentity {
  /** Issuer of the token the `sub` came from. */
  iss?: string;
  sub?: string;
  email?: string;
}

/** The claims of a JWT, or an empty object when `token` is not one. Not verified. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3) return {};
  try {
    // The built-in decoder, not atob: the first atob of a process costs `token` ~2.5 ms.
    const bytes = Uint8Array.fromBase64(parts[1], { alphabet: "base64url" });
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? claims : {};
  } catch {
    return {};
  }
}

/** Hermes's `label_from_token`: the token's `email`, `preferred_username` or `upn`. */
export function labelFromToken(token: string): string | undefined {
  const claims = decodeJwtClaims(token);
  for (const key of ["email", "preferred_username", "upn"]) {
    const value = text(claims[key]);
    if (value) return value;
  }
  return undefined;
}

/**
 * The account of a token set: `sub` (with its `iss`) from the ID token, else
 * from the access token; the e-mail from either (ID token first).
 */
export function identityOfTokens(
  tokens: { access_token?: unknown; id_token?: unknown },
): AccountIdentity {
  const id = typeof tokens.id_token === "string" ? decodeJwtClaims(tokens.id_token) : {};
  const access = typeof tokens.access_token === "string"
    ? decodeJwtClaims(tokens.access_token)
    : {};
  const identity: AccountIdentity = {};
  const keyed = text(id.sub) ? id : text(access.sub) ? access : undefined;
  if (keyed) {
    identity.sub = text(keyed.sub);
    const iss = text(keyed.iss);
    if (iss) identity.iss = iss;
  }
  const email = emailOf(id) ?? emailOf(access);
  if (email) identity.email = email;
  return identity;
}

/**
 * The account of a pool row: from its access token, else, for an opaque
 * token, from a label that is an e-mail address (the label Hermes and
 * hermes-auth give a row by default).
 */
export function identityOfRow(row: { access_token?: unknown; label?: unknown }): AccountIdentity {
  const identity = identityOfTokens({ access_token: row.access_token });
  if (identity.sub || identity.email) return identity;
  const label = text(row.label);
  return label && /^[^\s@]+@[^\s@]+$/.test(label) ? { email: label } : {};
}

/** Does the identity name an account at all? */
export function isKnown(identity: AccountIdentity): boolean {
  return identity.sub !== undefined || identity.email !== undefined;
}

/**
 * Are these the same account? By `sub` when both have one (and by `iss` as
 * well when both name it), else by e-mail (case-insensitive). Unknown on
 * either side: no.
 */
export function sameAccount(a: AccountIdentity, b: AccountIdentity): boolean {
  if (a.sub && b.sub) {
    return a.sub === b.sub && (!a.iss || !b.iss || sameIssuer(a.iss, b.iss));
  }
  if (a.email && b.email) return a.email.toLowerCase() === b.email.toLowerCase();
  return false;
}

/** What to call the account in `list` and `status`: the e-mail, else the `sub`. */
export function accountName(identity: AccountIdentity): string | null {
  return identity.email ?? identity.sub ?? null;
}

function emailOf(claims: Record<string, unknown>): string | undefined {
  for (const key of ["email", "preferred_username", "upn"]) {
    const value = text(claims[key]);
    if (value) return value;
  }
  return undefined;
}

/** Issuers compare as URLs, so `https://auth.x.ai` and `https://auth.x.ai/` are one. */
function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
