/** Spotify: the user's own app (PKCE, no secret); facts from PROVIDERS.md. @module */
import type { ProviderSpec } from "./types.ts";

const REDIRECT = "http://127.0.0.1:43827/spotify/callback";

/** The built-in `spotify` provider. */
export const spotify: ProviderSpec = {
  id: "spotify",
  aliases: [],
  displayName: "Spotify",
  endpoints: {
    kind: "static",
    baseUrl: "https://accounts.spotify.com",
    baseUrlEnv: "HERMES_SPOTIFY_ACCOUNTS_BASE_URL",
    authorizationPath: "/authorize",
    tokenPath: "/api/token",
  },
  policy: { hostSuffix: "spotify.com" },
  clientId: {
    env: ["HERMES_SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_ID"],
    missingHelp:
      "create a Spotify app (no secret needed): open https://developer.spotify.com/dashboard, " +
      `"Create app", add the Redirect URI ${REDIRECT} exactly, tick "Web API", save, ` +
      "then run `hermes-auth add spotify --client-id <the app's Client ID>`",
  },
  scopes: [
    "user-modify-playback-state",
    "user-read-playback-state",
    "user-read-currently-playing",
    "user-read-recently-played",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
    "user-library-read",
    "user-library-modify",
  ],
  // The redirect URI must match the app's registration exactly, so the port never moves.
  redirect: { host: "127.0.0.1", port: 43827, path: "/spotify/callback", portFallback: false },
  extraAuthorizeParams: {},
  resendChallengeOnTokenRequest: false,
  oidc: false,
  requireRefreshToken: true,
  deviceCode: false,
  refreshSkewSeconds: 120,
  pages: {
    success: "Spotify authorization received. You can close this tab.",
    failure: "Spotify authorization failed.",
  },
  // accounts.spotify.com redirects the browser (302) to the registered redirect URI.
  callbackDelivery: { kind: "redirect", corsOrigins: [] },
  docsUrl: "https://hermes-agent.nousresearch.com/docs/user-guide/features/spotify",
  helpTopic: "spotify",
  storage: "spotify",
  // Hermes's DEFAULT_SPOTIFY_API_BASE_URL and `_spotify_api_base_url` (hermes_cli/auth_spotify.py).
  apiBaseUrl: "https://api.spotify.com/v1",
  apiBaseUrlEnv: "HERMES_SPOTIFY_API_BASE_URL",
  origin: "builtin",
};
