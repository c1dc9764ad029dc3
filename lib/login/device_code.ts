/**
 * The device code login (RFC 8628): no redirect at all, so nothing to tunnel
 * and nothing to paste. The person opens the verification link on any device
 * (a phone scanning the QR code the CLI draws, a laptop) and approves; this
 * machine polls the token endpoint until they do. The quickest way in on a
 * server, which is why a remote session starts here (lib/login/mod.ts).
 *
 * Two steps, so that the caller can fall back to the browser login when the
 * first fails and the person has been shown nothing yet.
 *
 * @module
 */
import type { DeviceAuthorization } from "../oauth/device.ts";
import type { ProviderServer } from "../oauth/server.ts";
import type { LoginIO, LoginResult } from "./events.ts";

/** Ask the provider for a user code (nothing is shown yet). */
export async function requestDeviceCode(
  server: ProviderServer,
  io: LoginIO,
  options: { scopes?: string[] },
): Promise<DeviceAuthorization> {
  const { startDeviceAuthorization } = await import("../oauth/device.ts");
  const auth = await startDeviceAuthorization(server, { scopes: options.scopes });
  io.secret(auth.deviceCode);
  return auth;
}

/** Show the user code and link, open a browser where one can be shown, poll until approved. */
export async function completeDeviceLogin(
  server: ProviderServer,
  io: LoginIO,
  auth: DeviceAuthorization,
  options: { openBrowser: boolean },
): Promise<LoginResult> {
  const { pollDeviceToken } = await import("../oauth/device.ts");
  // The user code is meant to be shown (RFC 8628 §3.3); the device code never is.
  io.emit({
    type: "device_code",
    verificationUri: auth.verificationUri,
    verificationUriComplete: auth.verificationUriComplete ?? null,
    userCode: auth.userCode,
    expiresIn: auth.expiresIn,
    interval: auth.interval,
  });
  const link = auth.verificationUriComplete ?? auth.verificationUri;
  if (options.openBrowser && await io.openBrowser(link)) {
    io.emit({ type: "browser_opened", waiting: "approval" });
  }
  io.emit({ type: "waiting", seconds: auth.expiresIn, for: "approval" });
  const tokens = await pollDeviceToken(server, auth, { signal: io.signal });
  return { tokens, authMode: "oauth_device_code" };
}
