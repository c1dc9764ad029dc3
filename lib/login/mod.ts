/**
 * The ways in, and the one place that picks one.
 *
 * - loopback.ts: the browser login, its redirect caught by a listener on
 *   127.0.0.1 (with paste-back raced against it);
 * - paste_back.ts: `--manual-paste`, no listener, the person pastes;
 * - two_step.ts: `--no-wait` now, `--callback-url` later, for scripts;
 * - device_code.ts: RFC 8628, a code approved on any device.
 *
 * {@link chooseWay} decides from the flags and the remote-session verdict:
 * an explicit flag wins; otherwise a remote session (SSH, a cloud console, a
 * container, headless Linux: lib/remote/session.ts) uses the device code
 * grant where the provider has one, because it needs no tunnel and no
 * copy-paste; everywhere else the browser login. A device code login the
 * session chose falls back to the browser login when it cannot start
 * (no device endpoint, a refusal), saying why: it never strands anyone.
 *
 * @module
 */
import { isAuthError, usageError } from "../errors.ts";
import type { ProviderServer } from "../oauth/server.ts";
import type { ProviderSpec, RedirectSpec } from "../providers/types.ts";
import type { SessionVerdict } from "../remote/session.ts";
import { completeDeviceLogin, requestDeviceCode } from "./device_code.ts";
import type { LoginIO, LoginResult } from "./events.ts";
import { loopbackLogin } from "./loopback.ts";
import { manualPasteLogin } from "./paste_back.ts";
import { finishTwoStep, startTwoStep } from "./two_step.ts";

export type { LoginEvent, LoginIO, LoginResult } from "./events.ts";
export { StdinLines } from "./stdin_lines.ts";

/** What the person asked for (the flags of `add`), and what every way needs. */
export interface LoginRequest {
  deviceCode?: boolean;
  loopback?: boolean;
  manualPaste?: boolean;
  /** `--no-wait`. */
  noWait?: boolean;
  callbackUrl?: string;
  /** `--port` or `--redirect-uri` was given: a browser login is wanted. */
  redirectChosen?: boolean;
  /** The port was chosen with `--port`. */
  portChosen?: boolean;
  redirect: RedirectSpec;
  timeoutMs: number;
  scopes?: string[];
  /** Try to open a browser on this machine (`--no-browser` says no). */
  openBrowser: boolean;
  /** `$HERMES_HOME`, where a two-step login is kept. */
  home: string;
}

/** A way in. */
export type LoginWay =
  | "loopback"
  | "manual-paste"
  | "device-code"
  | "two-step-start"
  | "two-step-finish";

/** What {@link chooseWay} decided. */
export interface WayChoice {
  way: LoginWay;
  /** Chosen by the session, not by a flag: a device code login may fall back to the browser. */
  byDefault: boolean;
}

/**
 * The way in for `request` on this session; usage errors (exit 2) for flags
 * that contradict each other or a provider without the grant asked for.
 */
export function chooseWay(
  provider: Pick<ProviderSpec, "id" | "displayName" | "deviceCode">,
  request: LoginRequest,
  session: Pick<SessionVerdict, "remote">,
): WayChoice {
  if (request.deviceCode && !provider.deviceCode) {
    throw usageError(
      `${provider.displayName} has no device code login`,
      `log in with the browser instead: hermes-auth add ${provider.id}`,
    );
  }
  const modes = [
    request.manualPaste && "--manual-paste",
    request.deviceCode && "--device-code",
    request.noWait && "--no-wait",
    request.callbackUrl !== undefined && "--callback-url",
  ].filter(Boolean);
  if (request.deviceCode && request.loopback) modes.push("--loopback");
  if (modes.length > 1) {
    throw usageError(`${modes.join(" and ")} cannot be used together`, "pick one way to log in");
  }
  if (request.callbackUrl !== undefined) return { way: "two-step-finish", byDefault: false };
  if (request.noWait) return { way: "two-step-start", byDefault: false };
  if (request.manualPaste) return { way: "manual-paste", byDefault: false };
  if (request.deviceCode) return { way: "device-code", byDefault: false };
  if (!request.loopback && !request.redirectChosen && session.remote && provider.deviceCode) {
    return { way: "device-code", byDefault: true };
  }
  return { way: "loopback", byDefault: false };
}

/** Run the login `choice` names; null for `--no-wait`, which only saves a pending login. */
export async function login(
  server: ProviderServer,
  io: LoginIO,
  request: LoginRequest,
  session: SessionVerdict,
  choice: WayChoice = chooseWay(server.provider, request, session),
): Promise<LoginResult | null> {
  const browser = {
    session,
    redirect: request.redirect,
    timeoutMs: request.timeoutMs,
    scopes: request.scopes,
    openBrowser: request.openBrowser,
  };
  switch (choice.way) {
    case "two-step-finish":
      return await finishTwoStep(server, io, { home: request.home, given: request.callbackUrl! });
    case "two-step-start":
      await startTwoStep(server, io, { ...browser, home: request.home });
      return null;
    case "manual-paste":
      return await manualPasteLogin(server, io, browser);
    case "device-code": {
      let auth;
      try {
        auth = await requestDeviceCode(server, io, { scopes: request.scopes });
      } catch (e) {
        if (!choice.byDefault || isAuthError(e, "interrupted")) throw e;
        io.emit({ type: "device_fallback", reason: e instanceof Error ? e.message : String(e) });
        return await loopbackLogin(server, io, { ...browser, portChosen: false });
      }
      return await completeDeviceLogin(server, io, auth, { openBrowser: request.openBrowser });
    }
    case "loopback":
      return await loopbackLogin(server, io, {
        ...browser,
        portChosen: request.portChosen === true,
      });
  }
}
