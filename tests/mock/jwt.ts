/**
 * Minimal RS256 JSON Web Tokens on WebCrypto, for the mock authorization servers and their
 * tests. Signing and verification only; claim checks are the caller's business.
 * @module
 */

/** A JSON object as carried in a JWT header or payload. */
export type JwtClaims = Record<string, unknown>;

/** An RSA signing key with its public half as a JWK ready for a `/jwks` document. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JsonWebKey & { kid: string; alg: "RS256"; use: "sig" };
}

const RS256: RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

/** base64url without padding (RFC 7515 §2) of bytes or of a string's UTF-8 encoding. */
export function base64UrlEncode(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Inverse of {@link base64UrlEncode}; throws on characters outside the base64url alphabet. */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") +
    "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

/** Generates a fresh 2048-bit RS256 key; the private half is not extractable. */
export async function generateSigningKey(kid = crypto.randomUUID()): Promise<SigningKey> {
  const pair = await crypto.subtle.generateKey(
    { ...RS256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const { kty, n, e } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return {
    kid,
    privateKey: pair.privateKey,
    publicJwk: { kty, n, e, kid, alg: "RS256", use: "sig" },
  };
}

/** Signs `payload` as a compact RS256 JWS; `typ` goes in the header (`JWT`, `at+jwt`…). */
export async function signJwt(payload: JwtClaims, key: SigningKey, typ = "JWT"): Promise<string> {
  const header = { alg: "RS256", typ, kid: key.kid };
  const input = `${base64UrlEncode(JSON.stringify(header))}.${
    base64UrlEncode(JSON.stringify(payload))
  }`;
  const signature = await crypto.subtle.sign(
    RS256,
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64UrlEncode(new Uint8Array(signature))}`;
}

/** Splits a compact JWS into its parsed header and payload without checking the signature. */
export function decodeJwt(token: string): { header: JwtClaims; payload: JwtClaims } {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TypeError("a JWT has three dot-separated parts");
  const decode = (part: string) => JSON.parse(new TextDecoder().decode(base64UrlDecode(part)));
  return { header: decode(parts[0]), payload: decode(parts[1]) };
}

/**
 * Checks an RS256 signature against the key in `jwks` named by the header's `kid` and returns
 * the payload; throws when the algorithm, key or signature is wrong.
 */
export async function verifyJwt(token: string, jwks: { keys: JsonWebKey[] }): Promise<JwtClaims> {
  const { header, payload } = decodeJwt(token);
  if (header.alg !== "RS256") throw new Error(`unexpected JWT alg ${String(header.alg)}`);
  const jwk = jwks.keys.find((candidate) => (candidate as { kid?: string }).kid === header.kid);
  if (!jwk) throw new Error(`no key ${String(header.kid)} in the JWKS`);
  const key = await crypto.subtle.importKey("jwk", jwk, RS256, false, ["verify"]);
  const [head, body, signature] = token.split(".");
  const valid = await crypto.subtle.verify(
    RS256,
    key,
    base64UrlDecode(signature),
    new TextEncoder().encode(`${head}.${body}`),
  );
  if (!valid) throw new Error("JWT signature does not verify");
  return payload;
}
