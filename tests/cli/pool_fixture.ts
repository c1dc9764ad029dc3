/**
 * An auth.json as Hermes leaves it after an xAI login plus one more account
 * added by hand, for the list/remove/logout tests. Tokens are fake strings,
 * long enough for the output redactor to notice them.
 *
 * @module
 */

/** The access tokens in {@link poolStore}; none may ever be printed. */
export const TOKENS = [
  "access-token-of-the-mirror-row-0001",
  "refresh-token-of-the-mirror-row-0001",
  "access-token-of-the-work-account-02",
  "refresh-token-of-the-work-account-02",
];

/** xAI state mirrored by row #1 (aaa111), a manual row #2 (bbb222), Spotify, an unknown key. */
export function poolStore(): Record<string, unknown> {
  return {
    version: 1,
    providers: {
      "xai-oauth": {
        tokens: {
          access_token: TOKENS[0],
          refresh_token: TOKENS[1],
          id_token: "",
          expires_in: 3600,
          token_type: "Bearer",
        },
        last_refresh: "2025-06-01T11:30:00Z",
        auth_mode: "oauth_pkce",
      },
      spotify: { access_token: "spotify-access", refresh_token: "spotify-refresh" },
    },
    active_provider: "xai-oauth",
    credential_pool: {
      "xai-oauth": [
        {
          id: "bbb222",
          label: "work",
          auth_type: "oauth",
          priority: 1,
          source: "manual:device_code",
          access_token: TOKENS[2],
          refresh_token: TOKENS[3],
          last_refresh: "2025-06-01T11:30:00Z",
          expires_at: "2025-06-01T12:30:00+00:00",
          last_status: "ok",
        },
        {
          id: "aaa111",
          label: "me@example.com",
          auth_type: "oauth",
          priority: 0,
          source: "device_code",
          access_token: TOKENS[0],
          refresh_token: TOKENS[1],
          last_refresh: "2025-06-01T11:30:00Z",
          last_status: "ok",
        },
      ],
    },
    hermes_only: { kept: true },
  };
}
