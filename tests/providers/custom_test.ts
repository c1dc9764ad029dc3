/**
 * Custom providers from config.yaml: what each entry maps to, and that every
 * mistake is refused with the key path and what was expected.
 */
import assert from "node:assert/strict";
import { isAuthError } from "../../lib/errors.ts";
import { loadCustomProviders, parseCustomProviders } from "../../lib/providers/custom.ts";
import { builtinProviders, resolveProvider } from "../../lib/providers/mod.ts";
import type { ProviderSpec } from "../../lib/providers/types.ts";

const BUILTIN = builtinProviders.flatMap((p) => [p.id, ...p.aliases]);

const MINIMAL = {
  issuer: "https://idp.example.com",
  client_id: "abc",
  scopes: ["openid", "offline_access"],
};

function one(entry: Record<string, unknown>, id = "my-idp"): ProviderSpec {
  const providers = parseCustomProviders({ [id]: entry }, BUILTIN);
  assert.equal(providers.length, 1);
  return providers[0];
}

/** Asserts a config_invalid (exit 2) whose message names `path` and matches `expected`. */
function refused(value: unknown, path: string, expected?: RegExp): void {
  assert.throws(
    () => parseCustomProviders(value, BUILTIN),
    (e: unknown) => {
      assert.ok(isAuthError(e, "config_invalid"), String(e));
      assert.equal(e.exit, 2);
      assert.ok(e.message.includes(`${path}: expected`), `"${path}" not in: ${e.message}`);
      if (expected) assert.match(e.message, expected);
      assert.match(String(e.fix), /hermes-auth help custom/);
      return true;
    },
  );
}

function entryRefused(entry: Record<string, unknown>, path: string, expected?: RegExp): void {
  refused({ "my-idp": entry }, `oauth_providers.my-idp${path}`, expected);
}

// ---- mappings ----

Deno.test("the example of the issue maps to a discovery provider with every setting", () => {
  const p = one({
    display_name: "My IdP",
    ...MINIMAL,
    redirect: { port: 8765, path: "/callback", port_fallback: true },
    extra_authorize_params: { audience: "api" },
  });
  assert.equal(p.id, "my-idp");
  assert.equal(p.displayName, "My IdP");
  assert.deepEqual(p.endpoints, { kind: "discovery", issuer: "https://idp.example.com" });
  assert.deepEqual(p.policy, {});
  assert.deepEqual(p.clientId.builtIn, "abc");
  assert.deepEqual(p.scopes, ["openid", "offline_access"]);
  assert.deepEqual(p.redirect, {
    host: "127.0.0.1",
    port: 8765,
    path: "/callback",
    portFallback: true,
  });
  assert.deepEqual(p.extraAuthorizeParams, { audience: "api" });
  assert.equal(p.oidc, true);
  assert.equal(p.requireRefreshToken, true);
  assert.equal(p.deviceCode, true);
  assert.equal(p.refreshSkewSeconds, 120);
  assert.equal(p.resendChallengeOnTokenRequest, false);
  assert.deepEqual(p.pages, {
    success: "My IdP authorization received. You can close this tab.",
    failure: "My IdP authorization failed.",
  });
  assert.equal(p.storage, "generic");
  assert.equal(p.origin, "config");
  assert.deepEqual(p.aliases, []);
});

Deno.test("static endpoints are stored as full URLs on the authorization endpoint's origin", () => {
  const p = one({
    authorization_endpoint: "https://login.example.com/oauth/authorize",
    token_endpoint: "https://api.example.com/oauth/token",
    device_authorization_endpoint: "https://login.example.com/oauth/device",
    client_id: "abc",
    scopes: ["read"],
  });
  assert.deepEqual(p.endpoints, {
    kind: "static",
    baseUrl: "https://login.example.com",
    authorizationPath: "https://login.example.com/oauth/authorize",
    tokenPath: "https://api.example.com/oauth/token",
    deviceAuthorizationPath: "https://login.example.com/oauth/device",
  });
  assert.equal(p.deviceCode, true);
  // The paths resolve to themselves the way lib/oauth/server.ts joins them.
  assert.equal(
    new URL("https://api.example.com/oauth/token", "https://login.example.com/").href,
    "https://api.example.com/oauth/token",
  );
});

Deno.test("static endpoints without a device endpoint have no device code login", () => {
  const p = one({
    authorization_endpoint: "https://login.example.com/authorize",
    token_endpoint: "https://login.example.com/token",
    scopes: ["read"],
  });
  assert.equal(p.deviceCode, false);
  assert.equal(p.endpoints.kind === "static" && p.endpoints.deviceAuthorizationPath, undefined);
});

Deno.test("without openid there is no nonce; without offline_access no refresh token is demanded", () => {
  const p = one({ ...MINIMAL, scopes: ["profile"] });
  assert.equal(p.oidc, false);
  assert.equal(p.requireRefreshToken, false);
});

Deno.test("require_refresh_token, device_code and refresh_skew_seconds override the defaults", () => {
  const p = one({
    ...MINIMAL,
    scopes: ["openid"],
    require_refresh_token: true,
    device_code: false,
    refresh_skew_seconds: 300,
  });
  assert.equal(p.requireRefreshToken, true);
  assert.equal(p.deviceCode, false);
  assert.equal(p.refreshSkewSeconds, 300);
  assert.equal(one({ ...MINIMAL, require_refresh_token: false }).requireRefreshToken, false);
});

Deno.test("display name defaults to the id; redirect defaults to 127.0.0.1:8765/callback, port fixed", () => {
  const p = one(MINIMAL);
  assert.equal(p.displayName, "my-idp");
  assert.deepEqual(p.redirect, {
    host: "127.0.0.1",
    port: 8765,
    path: "/callback",
    portFallback: false,
  });
  assert.deepEqual(one({ ...MINIMAL, redirect: { port: 9000 } }).redirect, {
    host: "127.0.0.1",
    port: 9000,
    path: "/callback",
    portFallback: false,
  });
});

Deno.test("without client_id the provider asks for --client-id or the config key", () => {
  const { client_id: _, ...rest } = MINIMAL;
  const p = one(rest);
  assert.equal(p.clientId.builtIn, undefined);
  assert.deepEqual(p.clientId.env, []);
  assert.match(String(p.clientId.missingHelp), /oauth_providers\.my-idp\.client_id/);
  assert.match(String(p.clientId.missingHelp), /--client-id/);
});

Deno.test("scopes may be a space-separated string; extra params numbers and booleans become text", () => {
  const p = one({
    ...MINIMAL,
    scopes: "openid  email offline_access",
    extra_authorize_params: { prompt: "consent", max_age: 0, foo: true },
  });
  assert.deepEqual(p.scopes, ["openid", "email", "offline_access"]);
  assert.deepEqual(p.extraAuthorizeParams, { prompt: "consent", max_age: "0", foo: "true" });
});

Deno.test("docs_url and aliases are kept; aliases resolve through the registry", () => {
  const providers = parseCustomProviders({
    "my-idp": {
      ...MINIMAL,
      docs_url: "https://wiki.example.com/sso",
      aliases: ["idp", "corp.sso"],
    },
  }, BUILTIN);
  assert.equal(providers[0].docsUrl, "https://wiki.example.com/sso");
  assert.deepEqual(providers[0].aliases, ["idp", "corp.sso"]);
  assert.equal(resolveProvider("CORP.SSO", providers).id, "my-idp");
});

Deno.test("several providers come back in file order", () => {
  const providers = parseCustomProviders({ b: MINIMAL, a: MINIMAL, "c_1.x": MINIMAL }, BUILTIN);
  assert.deepEqual(providers.map((p) => p.id), ["b", "a", "c_1.x"]);
});

Deno.test("absent or empty oauth_providers is no providers", () => {
  assert.deepEqual(parseCustomProviders(undefined, BUILTIN), []);
  assert.deepEqual(parseCustomProviders(null, BUILTIN), []);
  assert.deepEqual(parseCustomProviders({}, BUILTIN), []);
});

Deno.test("http on a loopback host is accepted (local servers and tests)", () => {
  const p = one({ ...MINIMAL, issuer: "http://127.0.0.1:9000" });
  assert.deepEqual(p.endpoints, { kind: "discovery", issuer: "http://127.0.0.1:9000" });
  one({
    authorization_endpoint: "http://localhost:9000/auth",
    token_endpoint: "http://[::1]:9000/token",
    scopes: ["x"],
  });
});

// ---- refusals ----

Deno.test("oauth_providers that is not a map is refused", () => {
  refused(["my-idp"], "oauth_providers", /a map of provider ids/);
  refused("my-idp", "oauth_providers", /found "my-idp"/);
});

Deno.test("an entry that is not a map is refused", () => {
  refused({ "my-idp": "https://idp.example.com" }, "oauth_providers.my-idp", /a map/);
  refused({ "my-idp": null }, "oauth_providers.my-idp", /found an empty value/);
});

Deno.test("ids must be plain lower-case names", () => {
  for (const id of ["My-IdP", "-idp", "idp/evil", "a b", "", ".x", "ïdp"]) {
    refused({ [id]: MINIMAL }, `oauth_providers.${id}`, /plain lower-case name/);
  }
});

Deno.test("an id or alias that collides with a built-in id or alias is refused", () => {
  refused({ "xai-oauth": MINIMAL }, "oauth_providers.xai-oauth", /built-in provider/);
  refused({ "grok-oauth": MINIMAL }, "oauth_providers.grok-oauth", /built-in provider/);
  refused(
    { "my-idp": { ...MINIMAL, aliases: ["x-ai-oauth"] } },
    "oauth_providers.my-idp.aliases[0]",
    /built-in provider/,
  );
});

Deno.test("two custom providers cannot share an id or alias", () => {
  refused(
    { a: { ...MINIMAL, aliases: ["sso"] }, b: { ...MINIMAL, aliases: ["sso"] } },
    "oauth_providers.b.aliases[0]",
    /provider a/,
  );
  refused({ a: { ...MINIMAL, aliases: ["b"] }, b: MINIMAL }, "oauth_providers.b", /provider a/);
});

Deno.test("aliases must be a list of plain names", () => {
  entryRefused({ ...MINIMAL, aliases: [3] }, ".aliases[0]", /names/);
  entryRefused({ ...MINIMAL, aliases: ["Big"] }, ".aliases[0]", /plain lower-case name/);
  entryRefused({ ...MINIMAL, aliases: { a: 1 } }, ".aliases", /a list of names/);
});

Deno.test("an unknown key is refused with the list of known keys (a typo is not ignored)", () => {
  entryRefused({ ...MINIMAL, scope: "openid" }, ".scope", /known keys: display_name, issuer/);
  entryRefused(
    { ...MINIMAL, redirect: { prot: 1 } },
    ".redirect.prot",
    /port, path, port_fallback/,
  );
});

Deno.test("neither issuer nor endpoints is refused, naming both ways", () => {
  entryRefused(
    { client_id: "abc", scopes: ["x"] },
    ".issuer",
    /authorization_endpoint and token_endpoint/,
  );
});

Deno.test("half of the static endpoints is refused, naming the missing one", () => {
  entryRefused(
    { authorization_endpoint: "https://idp.example.com/a", scopes: ["x"] },
    ".token_endpoint",
    /go together/,
  );
  entryRefused(
    { token_endpoint: "https://idp.example.com/t", scopes: ["x"] },
    ".authorization_endpoint",
  );
});

Deno.test("issuer together with endpoints is refused (discovery names them)", () => {
  entryRefused(
    { ...MINIMAL, token_endpoint: "https://idp.example.com/token" },
    ".token_endpoint",
    /discovery document names them/,
  );
});

Deno.test("plain http off loopback, other schemes and credentials in URLs are refused", () => {
  entryRefused(
    { ...MINIMAL, issuer: "http://idp.example.com" },
    ".issuer",
    /https URL, or http on a loopback host \(found "http:\/\/idp\.example\.com"\)/,
  );
  entryRefused({ ...MINIMAL, issuer: "ftp://idp.example.com" }, ".issuer", /found "ftp:/);
  entryRefused(
    { ...MINIMAL, issuer: "https://user:pw@idp.example.com" },
    ".issuer",
    /without a user name or password in it$/,
  );
  assert.throws(
    () => one({ ...MINIMAL, issuer: "https://user:s3cret@idp.example.com" }),
    (e: unknown) => isAuthError(e) && !e.message.includes("s3cret"),
  );
  entryRefused(
    {
      authorization_endpoint: "https://idp.example.com/a",
      token_endpoint: "http://10.0.0.5/token",
      scopes: ["x"],
    },
    ".token_endpoint",
    /https URL, or http on a loopback host/,
  );
  entryRefused(
    {
      authorization_endpoint: "https://idp.example.com/a",
      token_endpoint: "https://idp.example.com/t",
      device_authorization_endpoint: "http://idp.example.com/d",
      scopes: ["x"],
    },
    ".device_authorization_endpoint",
    /loopback/,
  );
  entryRefused({ ...MINIMAL, docs_url: "http://wiki.example.com" }, ".docs_url", /loopback/);
});

Deno.test("a URL that does not parse, or an issuer with a query or fragment, is refused", () => {
  entryRefused({ ...MINIMAL, issuer: "idp.example.com" }, ".issuer", /absolute URL/);
  entryRefused({ ...MINIMAL, issuer: "https://idp.example.com?x=1" }, ".issuer", /\?query/);
  entryRefused({ ...MINIMAL, issuer: "https://idp.example.com#x" }, ".issuer", /#fragment/);
  entryRefused({ ...MINIMAL, issuer: 42 }, ".issuer", /non-empty string.*found 42/);
});

Deno.test("device_code: true with static endpoints needs the device endpoint", () => {
  entryRefused(
    {
      authorization_endpoint: "https://idp.example.com/a",
      token_endpoint: "https://idp.example.com/t",
      scopes: ["x"],
      device_code: true,
    },
    ".device_authorization_endpoint",
    /device_code is true/,
  );
});

Deno.test("scopes are required, a non-empty list of words", () => {
  const { scopes: _, ...rest } = MINIMAL;
  entryRefused(rest, ".scopes", /list of scopes/);
  entryRefused({ ...MINIMAL, scopes: [] }, ".scopes", /at least one scope/);
  entryRefused({ ...MINIMAL, scopes: ["openid", ""] }, ".scopes[1]", /without blanks/);
  entryRefused({ ...MINIMAL, scopes: ["openid", 7] }, ".scopes[1]");
  entryRefused({ ...MINIMAL, scopes: { a: 1 } }, ".scopes", /found a map/);
});

Deno.test("redirect port, path and port_fallback are checked", () => {
  entryRefused({ ...MINIMAL, redirect: { port: 0 } }, ".redirect.port", /1 to 65535.*found 0/);
  entryRefused({ ...MINIMAL, redirect: { port: 70000 } }, ".redirect.port", /1 to 65535/);
  entryRefused({ ...MINIMAL, redirect: { port: "8765" } }, ".redirect.port", /found "8765"/);
  entryRefused({ ...MINIMAL, redirect: { port: 1.5 } }, ".redirect.port");
  entryRefused(
    { ...MINIMAL, redirect: { path: "callback" } },
    ".redirect.path",
    /starting with \//,
  );
  entryRefused({ ...MINIMAL, redirect: { path: "/cb?x=1" } }, ".redirect.path", /no query/);
  entryRefused(
    { ...MINIMAL, redirect: { port_fallback: "yes" } },
    ".redirect.port_fallback",
    /true or false/,
  );
  entryRefused({ ...MINIMAL, redirect: "http://127.0.0.1:8765/callback" }, ".redirect", /a map/);
});

Deno.test("extra_authorize_params may not replace what the login sets (PKCE, state, scope…)", () => {
  for (const key of ["code_challenge", "code_challenge_method", "state", "redirect_uri", "scope"]) {
    entryRefused(
      { ...MINIMAL, extra_authorize_params: { [key]: "x" } },
      `.extra_authorize_params.${key}`,
      /does not set itself/,
    );
  }
  entryRefused(
    { ...MINIMAL, extra_authorize_params: { audience: ["a"] } },
    ".extra_authorize_params.audience",
    /string, number or boolean/,
  );
  entryRefused({ ...MINIMAL, extra_authorize_params: ["a"] }, ".extra_authorize_params", /a map/);
});

Deno.test("booleans and numbers have their types checked", () => {
  entryRefused(
    { ...MINIMAL, require_refresh_token: "yes" },
    ".require_refresh_token",
    /true or false/,
  );
  entryRefused({ ...MINIMAL, device_code: 1 }, ".device_code", /true or false/);
  entryRefused({ ...MINIMAL, refresh_skew_seconds: -1 }, ".refresh_skew_seconds", /0 to 86400/);
  entryRefused({ ...MINIMAL, display_name: "" }, ".display_name", /non-empty string/);
  entryRefused({ ...MINIMAL, client_id: 123 }, ".client_id", /non-empty string/);
});

// ---- loading from config.yaml ----

Deno.test("loadCustomProviders: no file, or no key, is no providers", async () => {
  const home = await Deno.makeTempDir({ prefix: "hermes-custom-" });
  try {
    assert.deepEqual(await loadCustomProviders(home), []);
    await Deno.writeTextFile(`${home}/config.yaml`, "model:\n  default: grok-4.3\n");
    assert.deepEqual(await loadCustomProviders(home), []);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("loadCustomProviders reads the YAML of the issue's example", async () => {
  const home = await Deno.makeTempDir({ prefix: "hermes-custom-" });
  try {
    await Deno.writeTextFile(
      `${home}/config.yaml`,
      [
        "# my providers",
        "oauth_providers:",
        "  my-idp:",
        "    display_name: My IdP",
        "    issuer: https://idp.example.com      # discovery",
        "    client_id: abc",
        "    scopes: [openid, offline_access]",
        "    redirect: { port: 8765, path: /callback, port_fallback: true }",
        "    extra_authorize_params: { audience: api }",
        "",
      ].join("\n"),
    );
    const [p] = await loadCustomProviders(home);
    assert.equal(p.id, "my-idp");
    assert.equal(p.redirect.portFallback, true);
    assert.deepEqual(p.extraAuthorizeParams, { audience: "api" });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("loadCustomProviders names the file, the line and the key of a mistake", async () => {
  const home = await Deno.makeTempDir({ prefix: "hermes-custom-" });
  try {
    await Deno.writeTextFile(
      `${home}/config.yaml`,
      "oauth_providers:\n  my-idp:\n    issuer: https://idp.example.com\n    scopes: [openid]\n" +
        "    redirect: { port: huge }\n",
    );
    await assert.rejects(loadCustomProviders(home), (e: unknown) => {
      assert.ok(isAuthError(e, "config_invalid"));
      assert.equal(e.exit, 2);
      assert.ok(
        e.message.startsWith(`${home}/config.yaml line 5: oauth_providers.my-idp.redirect.port:`),
        e.message,
      );
      assert.match(e.fix!, /on line 5 of /);
      assert.match(e.message, /whole number from 1 to 65535 \(found "huge"\)/);
      return true;
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
