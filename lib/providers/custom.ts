/**
 * Providers defined by the user in `$HERMES_HOME/config.yaml` under
 * `oauth_providers`, turned into the same {@link ProviderSpec} data the
 * built-in providers are, so every command treats them alike:
 *
 * ```yaml
 * oauth_providers:
 *   my-idp:
 *     display_name: My IdP
 *     issuer: https://idp.example.com   # OIDC discovery; or authorization_endpoint + token_endpoint
 *     client_id: abc
 *     scopes: [openid, offline_access]
 *     redirect: { port: 8765, path: /callback, port_fallback: true }
 *     extra_authorize_params: { audience: api }
 * ```
 *
 * Everything is checked before any network traffic: a mistake is AuthError
 * `config_invalid` (exit 2) naming the key path and what is expected. A key
 * this module does not know is refused too, so a typo (`scope:`) is an
 * error rather than a silently different login.
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import { endpointProblem } from "../oauth/policy.ts";
import { configFilePath, configLine, getConfigValue, readConfig } from "../store/config.ts";
import { builtinProviders } from "./mod.ts";
import type { EndpointSource, ProviderSpec } from "./types.ts";

/** The config.yaml key that holds custom providers. */
export const CUSTOM_PROVIDERS_KEY = "oauth_providers";

/** What a provider id or alias may look like: a plain lower-case name. */
const PLAIN_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Keys of one provider entry, with what each expects (for the unknown-key error). */
const ENTRY_KEYS = [
  "display_name",
  "issuer",
  "authorization_endpoint",
  "token_endpoint",
  "device_authorization_endpoint",
  "client_id",
  "scopes",
  "redirect",
  "extra_authorize_params",
  "require_refresh_token",
  "device_code",
  "refresh_skew_seconds",
  "docs_url",
  "aliases",
] as const;

const REDIRECT_KEYS = ["port", "path", "port_fallback"] as const;

/**
 * Authorize parameters the login itself sets. Letting config.yaml override
 * them would silently turn off PKCE or state checking, so they are refused.
 */
const RESERVED_AUTHORIZE_PARAMS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
];

/** Default callback when `redirect` is absent: a fixed port, since most servers match it exactly. */
const DEFAULT_REDIRECT = { port: 8765, path: "/callback", portFallback: false };

const GUIDE = "hermes-auth help custom";

type Entry = Record<string, unknown>;

/** An `oauth_providers` entry that is wrong, with the key path that is. */
class EntryError extends AuthError {
  constructor(readonly keyPath: string, readonly problem: string) {
    super("config_invalid", `config.yaml: ${keyPath}: ${problem}`, {
      exit: Exit.USAGE,
      fix: `fix ${keyPath} in config.yaml (see ${GUIDE})`,
    });
  }
}

function invalid(path: string, expected: string, got?: unknown): EntryError {
  const found = got === undefined ? "" : ` (found ${describe(got)})`;
  return new EntryError(path, `expected ${expected}${found}`);
}

function describe(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}…` : value);
  }
  return String(value);
}

function isMap(value: unknown): value is Entry {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(entry: Entry, path: string, known: readonly string[]): void {
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) {
      throw invalid(`${path}.${key}`, `one of the known keys: ${known.join(", ")}`);
    }
  }
}

function optionalString(entry: Entry, key: string, path: string): string | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") {
    throw invalid(`${path}.${key}`, "a non-empty string", value);
  }
  return value.trim();
}

function optionalBoolean(entry: Entry, key: string, path: string): boolean | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw invalid(`${path}.${key}`, "true or false", value);
  return value;
}

function optionalInteger(
  entry: Entry,
  key: string,
  path: string,
  min: number,
  max: number,
): number | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${path}.${key}`, `a whole number from ${min} to ${max}`, value);
  }
  return value;
}

/** An https URL, or http on a loopback host (the endpoint policy every provider obeys). */
function endpointUrl(entry: Entry, key: string, path: string): URL | undefined {
  const text = optionalString(entry, key, path);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${path}.${key}`, "an absolute URL such as https://idp.example.com", text);
  }
  if (url.username || url.password) {
    // Not echoed: the value holds a secret.
    throw invalid(`${path}.${key}`, "a URL without a user name or password in it");
  }
  if (endpointProblem(url, {})) {
    throw invalid(`${path}.${key}`, "an https URL, or http on a loopback host", text);
  }
  if (url.hash) throw invalid(`${path}.${key}`, "a URL without a #fragment", text);
  return url;
}

/** A list of plain words (`[openid, email]`); a space-separated string is accepted too. */
function wordList(value: unknown, path: string, what: string): string[] {
  const items = typeof value === "string" ? value.split(/\s+/).filter(Boolean) : value;
  if (!Array.isArray(items)) throw invalid(path, `a list of ${what}`, value);
  return items.map((item, i) => {
    if (typeof item !== "string" || item === "" || /\s/.test(item)) {
      throw invalid(`${path}[${i}]`, `one of ${what} without blanks`, item);
    }
    return item;
  });
}

function parseEndpoints(
  entry: Entry,
  path: string,
): { endpoints: EndpointSource; deviceEndpoint: boolean } {
  const issuer = endpointUrl(entry, "issuer", path);
  const authorization = endpointUrl(entry, "authorization_endpoint", path);
  const token = endpointUrl(entry, "token_endpoint", path);
  const device = endpointUrl(entry, "device_authorization_endpoint", path);
  if (issuer) {
    const extra = ["authorization_endpoint", "token_endpoint", "device_authorization_endpoint"]
      .find((k) => entry[k] !== undefined);
    if (extra) {
      throw invalid(
        `${path}.${extra}`,
        "no endpoints next to issuer: the issuer's discovery document names them " +
          "(remove issuer to list the endpoints yourself)",
      );
    }
    if (issuer.search) {
      throw invalid(`${path}.issuer`, "an issuer URL without a ?query", issuer.href);
    }
    // Keep the issuer as written: OIDC compares it character for character.
    return {
      endpoints: { kind: "discovery", issuer: String(entry.issuer).trim() },
      deviceEndpoint: false,
    };
  }
  if (!authorization || !token) {
    const missing = authorization ? "token_endpoint" : "authorization_endpoint";
    throw invalid(
      `${path}.${authorization || token ? missing : "issuer"}`,
      authorization || token
        ? "an https URL (authorization_endpoint and token_endpoint go together)"
        : "an issuer URL (OpenID Connect discovery), or authorization_endpoint and token_endpoint",
    );
  }
  // server.ts resolves each path against the base with `new URL(path, base)`,
  // which keeps absolute URLs as they are: store the full URLs.
  return {
    endpoints: {
      kind: "static",
      baseUrl: authorization.origin,
      authorizationPath: authorization.href,
      tokenPath: token.href,
      ...(device ? { deviceAuthorizationPath: device.href } : {}),
    },
    deviceEndpoint: device !== undefined,
  };
}

function parseRedirect(entry: Entry, path: string): ProviderSpec["redirect"] {
  const value = entry.redirect;
  if (value === undefined) return { host: "127.0.0.1", ...DEFAULT_REDIRECT };
  const where = `${path}.redirect`;
  if (!isMap(value)) {
    throw invalid(
      where,
      "a map such as { port: 8765, path: /callback, port_fallback: false }",
      value,
    );
  }
  checkKeys(value, where, REDIRECT_KEYS);
  const port = optionalInteger(value, "port", where, 1, 65535) ?? DEFAULT_REDIRECT.port;
  const callbackPath = optionalString(value, "path", where) ?? DEFAULT_REDIRECT.path;
  if (!callbackPath.startsWith("/") || /[?#\s]/.test(callbackPath)) {
    throw invalid(
      `${where}.path`,
      "a path starting with / (no query, fragment or blanks)",
      callbackPath,
    );
  }
  const portFallback = optionalBoolean(value, "port_fallback", where) ??
    DEFAULT_REDIRECT.portFallback;
  return { host: "127.0.0.1", port, path: callbackPath, portFallback };
}

function parseExtraParams(entry: Entry, path: string): Record<string, string> {
  const value = entry.extra_authorize_params;
  const where = `${path}.extra_authorize_params`;
  if (value === undefined) return {};
  if (!isMap(value)) throw invalid(where, "a map of parameter names to values", value);
  const params: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (RESERVED_AUTHORIZE_PARAMS.includes(key)) {
      throw invalid(
        `${where}.${key}`,
        `a parameter the login does not set itself (not one of ${
          RESERVED_AUTHORIZE_PARAMS.join(", ")
        }; use scopes for the scope)`,
      );
    }
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw invalid(`${where}.${key}`, "a string, number or boolean", v);
    }
    params[key] = String(v);
  }
  return params;
}

function parseAliases(entry: Entry, path: string): string[] {
  if (entry.aliases === undefined) return [];
  const aliases = wordList(entry.aliases, `${path}.aliases`, "names");
  aliases.forEach((alias, i) => {
    if (!PLAIN_NAME.test(alias)) {
      throw invalid(
        `${path}.aliases[${i}]`,
        "a plain lower-case name ([a-z0-9][a-z0-9._-]*)",
        alias,
      );
    }
  });
  return aliases;
}

function parseEntry(id: string, entry: unknown): ProviderSpec {
  const path = `${CUSTOM_PROVIDERS_KEY}.${id}`;
  if (!isMap(entry)) {
    throw invalid(
      path,
      "a map with issuer (or authorization_endpoint and token_endpoint) and scopes",
      entry,
    );
  }
  checkKeys(entry, path, ENTRY_KEYS);
  const displayName = optionalString(entry, "display_name", path) ?? id;
  const { endpoints, deviceEndpoint } = parseEndpoints(entry, path);
  const clientId = optionalString(entry, "client_id", path);
  if (entry.scopes === undefined) {
    throw invalid(`${path}.scopes`, "a list of scopes, e.g. [openid, offline_access]");
  }
  const scopes = wordList(entry.scopes, `${path}.scopes`, "scopes");
  if (scopes.length === 0) throw invalid(`${path}.scopes`, "at least one scope");

  const deviceCodeSetting = optionalBoolean(entry, "device_code", path);
  if (deviceCodeSetting === true && endpoints.kind === "static" && !deviceEndpoint) {
    throw invalid(
      `${path}.device_authorization_endpoint`,
      "the device authorization endpoint's URL, since device_code is true",
    );
  }
  // With discovery the server says whether it has a device endpoint; the
  // device login fails clearly (device_code_unsupported) when it does not.
  const deviceCode = deviceCodeSetting ?? (endpoints.kind === "discovery" || deviceEndpoint);

  const docsUrl = endpointUrl(entry, "docs_url", path);
  return {
    id,
    aliases: parseAliases(entry, path),
    displayName,
    endpoints,
    // Any https host: the user chose the server. Every endpoint still has to
    // be https (or loopback http), checked here and again after discovery.
    policy: {},
    clientId: {
      ...(clientId ? { builtIn: clientId } : {}),
      env: [],
      missingHelp: `set ${path}.client_id in config.yaml, or pass --client-id`,
    },
    scopes,
    redirect: parseRedirect(entry, path),
    extraAuthorizeParams: parseExtraParams(entry, path),
    resendChallengeOnTokenRequest: false,
    oidc: scopes.includes("openid"),
    requireRefreshToken: optionalBoolean(entry, "require_refresh_token", path) ??
      scopes.includes("offline_access"),
    deviceCode,
    refreshSkewSeconds: optionalInteger(entry, "refresh_skew_seconds", path, 0, 86_400) ?? 120,
    pages: {
      success: `${displayName} authorization received. You can close this tab.`,
      failure: `${displayName} authorization failed.`,
    },
    // What OpenID Connect servers do by default (RFC 6749 §4.1.2). A server whose page calls
    // the redirect URI from script works too: its authorization endpoint's origin is allowed.
    callbackDelivery: { kind: "redirect", corsOrigins: [] },
    ...(docsUrl ? { docsUrl: docsUrl.href } : {}),
    helpTopic: "custom",
    storage: "generic",
    origin: "config",
  };
}

/**
 * Turn the plain JS value of `oauth_providers` into provider specs, in file
 * order. `builtinIds` are the ids and aliases of the built-in providers: a
 * custom id or alias equal to one of them (or to another custom provider's)
 * is refused. Absent or empty (`undefined` / `null`) gives `[]`.
 *
 * Throws AuthError `config_invalid` (exit 2) naming the key path.
 */
export function parseCustomProviders(value: unknown, builtinIds: string[]): ProviderSpec[] {
  const { providers, problems } = checkCustomProviders(value, builtinIds);
  if (problems.length > 0) throw problems[0].error;
  return providers;
}

/** A custom provider entry that cannot be used. */
export interface CustomProviderProblem {
  /** The entry's id; null when `oauth_providers` itself (or config.yaml) is wrong. */
  id: string | null;
  /** The key path that is wrong, e.g. `oauth_providers.my-idp.redirect.port`. */
  keyPath: string;
  /** The 1-based line of config.yaml it is on, when known. */
  line?: number;
  /** AuthError `config_invalid` (exit 2), as a command that needs the entry throws it. */
  error: AuthError;
}

/**
 * Like {@link parseCustomProviders}, but every entry on its own: the good
 * ones are returned, each bad one becomes a {@link CustomProviderProblem}
 * (so `status` and `doctor` can show it as broken next to the rest).
 */
export function checkCustomProviders(
  value: unknown,
  builtinIds: string[],
): { providers: ProviderSpec[]; problems: CustomProviderProblem[] } {
  if (value === undefined || value === null) return { providers: [], problems: [] };
  if (!isMap(value)) {
    const error = invalid(CUSTOM_PROVIDERS_KEY, "a map of provider ids to their settings", value);
    return { providers: [], problems: [{ id: null, keyPath: CUSTOM_PROVIDERS_KEY, error }] };
  }
  const taken = new Map<string, string>(
    builtinIds.map((name) => [name.toLowerCase(), "a built-in provider"]),
  );
  const providers: ProviderSpec[] = [];
  const problems: CustomProviderProblem[] = [];
  for (const [id, entry] of Object.entries(value)) {
    try {
      providers.push(parseNamedEntry(id, entry, taken));
    } catch (error) {
      if (!(error instanceof EntryError)) throw error;
      problems.push({ id, keyPath: error.keyPath, error });
    }
  }
  return { providers, problems };
}

function parseNamedEntry(id: string, entry: unknown, taken: Map<string, string>): ProviderSpec {
  const path = `${CUSTOM_PROVIDERS_KEY}.${id}`;
  if (!PLAIN_NAME.test(id)) {
    throw invalid(path, "a provider id that is a plain lower-case name ([a-z0-9][a-z0-9._-]*)");
  }
  const provider = parseEntry(id, entry);
  const names: [string, string][] = [
    [id, path],
    ...provider.aliases.map((a, i): [string, string] => [a, `${path}.aliases[${i}]`]),
  ];
  for (const [name, where] of names) {
    const owner = taken.get(name);
    if (owner) throw invalid(where, `a name not already used by ${owner} ("${name}" is)`);
  }
  for (const [name] of names) taken.set(name, `provider ${id}`);
  return provider;
}

/**
 * The custom providers of `<home>/config.yaml`; a missing file or key gives
 * `[]`. Invalid YAML or entries are AuthError `config_invalid` (exit 2 for
 * the entries, see {@link parseCustomProviders}).
 */
export async function loadCustomProviders(home: string): Promise<ProviderSpec[]> {
  const { providers, problems } = await loadCustomProvidersChecked(home);
  if (problems.length > 0) throw problems[0].error;
  return providers;
}

/**
 * Every usable custom provider of `<home>/config.yaml`, and a
 * {@link CustomProviderProblem} for each entry that is not, its error naming
 * the file and line (`…/config.yaml line 12: oauth_providers.my-idp.scopes:
 * expected …`). A config.yaml that cannot be read or parsed still throws.
 */
export async function loadCustomProvidersChecked(
  home: string,
): Promise<{ providers: ProviderSpec[]; problems: CustomProviderProblem[] }> {
  const doc = await readConfig(home);
  const builtinIds = builtinProviders.flatMap((p) => [p.id, ...p.aliases]);
  const checked = checkCustomProviders(getConfigValue(doc, CUSTOM_PROVIDERS_KEY), builtinIds);
  const path = configFilePath(home);
  const problems = checked.problems.map((problem): CustomProviderProblem => {
    const line = configLine(doc, keySegments(problem));
    const { keyPath } = problem;
    const detail = problem.error instanceof EntryError ? problem.error.problem : "invalid";
    const error = new AuthError(
      "config_invalid",
      `${path}${line ? ` line ${line}` : ""}: ${keyPath}: ${detail}`,
      {
        exit: Exit.USAGE,
        fix: `fix ${keyPath} ${line ? `on line ${line} of` : "in"} ${path} (see ${GUIDE})`,
      },
    );
    return { ...problem, error, ...(line ? { line } : {}) };
  });
  return { providers: checked.providers, problems };
}

/** `oauth_providers.my-idp.scopes[1]` as YAML path segments, the id taken whole (it may hold dots). */
function keySegments(problem: CustomProviderProblem): (string | number)[] {
  const segments: (string | number)[] = [CUSTOM_PROVIDERS_KEY];
  if (problem.id === null) return segments;
  segments.push(problem.id);
  const rest = problem.keyPath.slice(`${CUSTOM_PROVIDERS_KEY}.${problem.id}`.length);
  for (const [, key, index] of rest.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(index !== undefined ? Number(index) : key);
  }
  return segments;
}
