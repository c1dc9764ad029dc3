/** xAI Grok OAuth (SuperGrok subscription): facts from PROVIDERS.md. @module */
import type { ProviderSpec } from "./types.ts";

/** The built-in `xai-oauth` provider. */
export const xai: ProviderSpec = {
  id: "xai-oauth",
  aliases: ["grok-oauth", "x-ai-oauth", "xai-grok-oauth"],
  displayName: "xAI Grok OAuth (SuperGrok Subscription)",
  endpoints: {
    kind: "discovery",
    issuer: "https://auth.x.ai",
    issuerEnv: "HERMES_XAI_ISSUER",
    deviceAuthorizationPath: "/oauth2/device/code",
  },
  policy: { hostSuffix: "x.ai" },
  clientId: { builtIn: "b1a00492-073a-47ea-816f-4c329264a828", env: [] },
  scopes: ["openid", "profile", "email", "offline_access", "grok-cli:access", "api:access"],
  redirect: { host: "127.0.0.1", port: 56121, path: "/callback", portFallback: true },
  extraAuthorizeParams: { plan: "generic", referrer: "hermes-agent" },
  resendChallengeOnTokenRequest: true,
  oidc: true,
  requireRefreshToken: true,
  deviceCode: true,
  refreshSkewSeconds: 120,
  pages: {
    success: "xAI authorization received. You can close this tab.",
    failure: "xAI authorization failed.",
  },
  // accounts.x.ai calls the redirect URI from script, cross-origin and preflighted; Hermes's
  // listener allows exactly these two origins (_xai_callback_cors_origin in hermes_cli/auth.py).
  // The page shows the code when it cannot reach the app (Hermes #26923, #32984, PR #33880).
  callbackDelivery: { kind: "script", corsOrigins: ["https://accounts.x.ai", "https://auth.x.ai"] },
  forbiddenMessage: "xAI refused this account: its subscription tier is not allowed to use OAuth.",
  forbiddenFix: "use an xAI API key (XAI_API_KEY) instead, or upgrade to SuperGrok",
  docsUrl: "https://hermes-agent.nousresearch.com/docs/guides/xai-grok-oauth",
  helpTopic: "xai",
  storage: "xai",
  models: {
    baseUrl: "https://api.x.ai/v1",
    baseUrlEnv: "XAI_BASE_URL",
    defaultModel: "grok-4.3",
    modelsDevId: "xai",
    models: [
      "grok-4.3",
      "grok-4.20-0309-reasoning",
      "grok-4.20-0309-non-reasoning",
      "grok-4.20-multi-agent-0309",
    ],
  },
  origin: "builtin",
};
