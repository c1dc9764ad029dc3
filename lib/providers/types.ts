/**
 * Providers are data. Every difference between xAI, Spotify and a custom
 * provider is a field here, never an `if (provider === …)` in the flows.
 *
 * @module
 */

/** Where the authorization server sends the browser back. */
export interface RedirectSpec {
  /** Always the IP literal 127.0.0.1 (RFC 8252 §7.3), never `localhost`. */
  host: "127.0.0.1";
  /** Preferred port. */
  port: number;
  /** Callback path, e.g. `/callback`. */
  path: string;
  /**
   * May the listener move to an OS-assigned port when `port` is busy?
   * False when the provider requires an exactly registered redirect URI.
   */
  portFallback: boolean;
}

/** Which endpoints the provider may use. */
export interface EndpointPolicy {
  /**
   * Registrable domain every endpoint must be on (the domain itself or a
   * subdomain: suffix check with the leading dot). Undefined: any https host.
   */
  hostSuffix?: string;
}

/** How the provider's endpoints are found. */
export type EndpointSource =
  | {
    kind: "discovery";
    /** Default issuer, e.g. `https://auth.x.ai`. */
    issuer: string;
    /** Environment variable that overrides the issuer. */
    issuerEnv?: string;
    /**
     * The device authorization endpoint under the issuer, used when the
     * discovery document names none (xAI: `/oauth2/device/code`, where
     * Hermes and the Grok CLI post without asking discovery).
     */
    deviceAuthorizationPath?: string;
  }
  | {
    kind: "static";
    /** Default base URL the paths below hang off, e.g. `https://accounts.spotify.com`. */
    baseUrl: string;
    /** Environment variable that overrides `baseUrl`. */
    baseUrlEnv?: string;
    authorizationPath: string;
    tokenPath: string;
    deviceAuthorizationPath?: string;
  };

/** Where a provider's client id comes from when it has no built-in one. */
export interface ClientIdSource {
  /** Built-in public client id; undefined when the user must bring one. */
  builtIn?: string;
  /** Environment variables consulted in order after `--client-id`. */
  env: string[];
  /** Shown when no client id can be found. */
  missingHelp?: string;
}

/**
 * How the provider's browser page hands the authorization back to the
 * listener, and so what a person can paste when it cannot reach it.
 */
export interface CallbackDelivery {
  /**
   * `script`: after approval the page calls the redirect URI from script, a
   * cross-origin request the browser preflights (CORS); when that fails the
   * page says so and shows the authorization code, and the address bar stays
   * on the provider's page (accounts.x.ai).
   * `redirect`: the browser is sent to the redirect URI (HTTP 302); when
   * nothing listens there, the address of the page that failed to load
   * carries the code and state (Spotify, most OpenID Connect servers).
   */
  kind: "script" | "redirect";
  /**
   * Origins whose pages may call the listener from script, besides the
   * authorization endpoint's own origin (always allowed, taken from the
   * endpoint in force at run time). Exact origins: scheme, host, port.
   */
  corsOrigins: string[];
}

/** Inference settings written by `model`. */
export interface ModelCatalog {
  baseUrl: string;
  baseUrlEnv?: string;
  defaultModel: string;
  models: string[];
  /** The vendor's key in Hermes's models.dev cache (`PROVIDER_TO_MODELS_DEV`), if it has one. */
  modelsDevId?: string;
}

/** A provider, fully described. */
export interface ProviderSpec {
  /** Canonical id, the key in auth.json. */
  id: string;
  /** Other names accepted on the command line. */
  aliases: string[];
  displayName: string;
  endpoints: EndpointSource;
  policy: EndpointPolicy;
  clientId: ClientIdSource;
  scopes: string[];
  redirect: RedirectSpec;
  /** Extra query parameters on the authorize URL (xAI: plan, referrer). */
  extraAuthorizeParams: Record<string, string>;
  /** Send code_challenge + method again in the token request (xAI demands it). */
  resendChallengeOnTokenRequest: boolean;
  /** OpenID Connect: send a nonce, expect and validate an id_token when given. */
  oidc: boolean;
  /** The token response must carry a refresh_token. */
  requireRefreshToken: boolean;
  /** RFC 8628 device authorization grant supported. */
  deviceCode: boolean;
  /** Refresh when the access token expires within this many seconds. */
  refreshSkewSeconds: number;
  /** Browser page texts. */
  pages: { success: string; failure: string };
  /** How the consent page reaches the listener (and what to paste when it cannot). */
  callbackDelivery: CallbackDelivery;
  /** Meaning of HTTP 403 from the token endpoint, when the provider gives it one. */
  forbiddenMessage?: string;
  forbiddenFix?: string;
  /** Provider guide on the web. */
  docsUrl?: string;
  /** The provider's guide inside the program: `hermes-auth help <topic>`. */
  helpTopic?: string;
  /** Storage layout in auth.json (Hermes differs per provider). */
  storage: "xai" | "spotify" | "generic";
  /** Inference endpoint and models for the `model` command. */
  models?: ModelCatalog;
  /**
   * The provider's own API base stored with the login (Spotify's Web API,
   * `api_base_url` in Hermes's state), and the variable that overrides it.
   */
  apiBaseUrl?: string;
  apiBaseUrlEnv?: string;
  /** Where the definition came from. */
  origin: "builtin" | "config";
}
