import assert from "node:assert/strict";
import { parsePastedCallback, type PasteResult } from "../../lib/loopback/paste.ts";

const REDIRECT = "http://127.0.0.1:56121/callback";
const STATE = "st_abc-123";
const CODE = "Zm9vYmFy.CODE-xyz_42";

function parse(input: string, pasteWhat?: string): PasteResult {
  return parsePastedCallback(input, {
    redirectUri: REDIRECT,
    expectedState: STATE,
    ...(pasteWhat ? { pasteWhat } : {}),
  });
}

function ok(r: PasteResult): URL {
  if (!r.ok) assert.fail(`expected ok, got: ${r.reason}`);
  return r.url;
}

function refused(r: PasteResult): string {
  if (r.ok) assert.fail(`expected a refusal, got ${r.url}`);
  assert.ok(!r.reason.includes(CODE), "a reason never contains the code");
  assert.ok(!r.reason.includes("\n"), "a reason is one line");
  return r.reason;
}

Deno.test("full redirect URL: the redirect URI with the pasted query", () => {
  const result = parse(`${REDIRECT}?code=${CODE}&state=${STATE}`);
  assert.equal(ok(result).href, `${REDIRECT}?code=${CODE}&state=${STATE}`);
  assert.equal(result.ok && result.stateless, false);
});

Deno.test("query only, with or without the leading '?'", () => {
  for (const input of [`?code=${CODE}&state=${STATE}`, `code=${CODE}&state=${STATE}`]) {
    const url = ok(parse(input));
    assert.equal(url.origin + url.pathname, REDIRECT);
    assert.equal(url.searchParams.get("code"), CODE);
    assert.equal(url.searchParams.get("state"), STATE);
  }
});

Deno.test("trims whitespace, quotes and angle brackets, even nested", () => {
  const bare = `${REDIRECT}?code=${CODE}&state=${STATE}`;
  for (const input of [`  ${bare}\t`, `"${bare}"`, `'${bare}'`, `<${bare}>`, ` "<${bare}>" `]) {
    assert.equal(ok(parse(input)).searchParams.get("code"), CODE, input);
  }
});

Deno.test("another port or path is accepted (tunnels move ports); the result uses the redirect URI", () => {
  const url = ok(parse(`http://localhost:8080/other/path?code=${CODE}&state=${STATE}`));
  assert.equal(url.origin + url.pathname, REDIRECT);
  assert.equal(url.searchParams.get("code"), CODE);
});

Deno.test("an address without the scheme, as address bars show it", () => {
  const url = ok(parse(`127.0.0.1:56121/callback?code=${CODE}&state=${STATE}`));
  assert.equal(url.searchParams.get("code"), CODE);
  assert.equal(ok(parse(`/callback?code=${CODE}&state=${STATE}`)).searchParams.get("code"), CODE);
});

Deno.test("every pasted parameter is kept (iss for RFC 9207), the fragment is dropped", () => {
  const url = ok(parse(`${REDIRECT}?code=${CODE}&state=${STATE}&iss=https%3A%2F%2Fauth.x.ai#frag`));
  assert.equal(url.searchParams.get("iss"), "https://auth.x.ai");
  assert.equal(url.hash, "");
});

Deno.test("error callbacks with the right state are accepted for the flow to report", () => {
  const url = ok(parse(`${REDIRECT}?error=access_denied&error_description=no&state=${STATE}`));
  assert.equal(url.searchParams.get("error"), "access_denied");
});

Deno.test("a different state is refused with a reason", () => {
  const reason = refused(parse(`${REDIRECT}?code=${CODE}&state=other`));
  assert.match(reason, /state mismatch/);
  assert.match(reason, /another login/);
});

Deno.test("an address or query cut before its state is accepted with this login's state (PKCE binds the code)", () => {
  for (const input of [`${REDIRECT}?code=${CODE}`, `code=${CODE}`, `?code=${CODE}&iss=x`]) {
    const result = parse(input);
    const url = ok(result);
    assert.equal(url.searchParams.get("code"), CODE, input);
    assert.equal(url.searchParams.get("state"), STATE, input);
    assert.equal(result.ok && result.stateless, true, input);
  }
});

Deno.test("no code and no error: refused, and the login page's own address is recognised", () => {
  assert.match(refused(parse(`${REDIRECT}?state=${STATE}`)), /no code= or error=/);
  const authorize =
    `https://auth.x.ai/oauth2/authorize?response_type=code&client_id=c&state=${STATE}`;
  assert.match(refused(parse(authorize)), /login page itself/);
  // What a person copies from accounts.x.ai's address bar: the consent page, not an answer.
  assert.match(
    refused(parse("https://accounts.x.ai/oauth2/consent?client_id=c", "the code the page shows")),
    /login page itself, not its answer; approve there, then paste the code the page shows$/,
  );
});

Deno.test("repeated parameters are refused", () => {
  assert.match(
    refused(parse(`${REDIRECT}?code=${CODE}&code=${CODE}&state=${STATE}`)),
    /repeats/,
  );
  assert.match(refused(parse(`${REDIRECT}?code=${CODE}&state=${STATE}&state=x`)), /repeats/);
});

Deno.test("the bare code a provider's page shows is accepted, with this login's state and no iss", () => {
  const result = parse(CODE);
  const url = ok(result);
  assert.equal(url.href, `${REDIRECT}?code=${encodeURIComponent(CODE)}&state=${STATE}`);
  assert.equal(result.ok && result.stateless, true);
  assert.equal(url.searchParams.has("iss"), false);
  // Base64 padding is part of a code, not a query.
  assert.equal(ok(parse("abc==")).searchParams.get("code"), "abc==");
  assert.equal(ok(parse(` "${CODE}" `)).searchParams.get("code"), CODE);
});

Deno.test("empty input, text with spaces and garbage are refused with one-line reasons", () => {
  assert.match(refused(parse("   ")), /nothing was pasted/);
  assert.match(refused(parse('""')), /nothing was pasted/);
  assert.match(refused(parse(`here it is ${CODE}`)), /spaces/);
  assert.match(refused(parse("ftp://x/y?code=1")), /neither a callback address nor a code/);
});

Deno.test("reasons name what to paste: the code the page shows, or the failed page's address", () => {
  assert.match(
    refused(parse("ftp://x", "the code the page shows")),
    /paste the code the page shows$/,
  );
  assert.match(refused(parse("ftp://x")), /paste the address of the page that failed to load$/);
  assert.match(
    refused(parse("a b", "the code the page shows")),
    /paste only the code the page shows/,
  );
});
