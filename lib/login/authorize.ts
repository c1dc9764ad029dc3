/**
 * What every redirect login shares: the redirect URI when no listener picks
 * it, and the `authorize` announcement — the URL to open plus, on a remote
 * session, the tunnel command for the port actually bound and the other ways
 * in (lib/remote/ssh_hint.ts).
 *
 * @module
 */
import type { ProviderServer } from "../oauth/server.ts";
import { pasteWords } from "../providers/delivery.ts";
import type { RedirectSpec } from "../providers/types.ts";
import type { SessionVerdict } from "../remote/session.ts";
import { sshHint, tunnelCommand } from "../remote/ssh_hint.ts";
import type { LoginEvent, LoginIO } from "./events.ts";

/** The redirect URI when no listener decides it (manual paste, two-step). */
export function fixedRedirectUri(redirect: RedirectSpec): string {
  return `http://${redirect.host}:${redirect.port}${redirect.path}`;
}

/** What {@link announceAuthorize} needs besides the server. */
export interface AnnounceOptions {
  url: URL;
  redirectUri: string;
  session: SessionVerdict;
  /** A listener waits (false: manual paste, two-step, where nothing can be tunnelled to). */
  listening: boolean;
  /** The person can paste into this run (the hint then offers it instead of the two-step login). */
  pasteBack: boolean;
}

/** Emit the `authorize` event; returns it (its `hint` is empty when the session needs none). */
export function announceAuthorize(
  server: ProviderServer,
  io: LoginIO,
  options: AnnounceOptions,
): Extract<LoginEvent, { type: "authorize" }> {
  const { provider } = server;
  const hintOptions = {
    session: options.session,
    provider,
    env: io.env,
    hostname: io.hostname,
    pasteBack: options.pasteBack,
  };
  const event = {
    type: "authorize" as const,
    url: options.url.href,
    redirectUri: options.redirectUri,
    port: Number(new URL(options.redirectUri).port) || null,
    remote: options.session.remote,
    tunnel: options.listening ? tunnelCommand(options.redirectUri, hintOptions) : null,
    listening: options.listening,
    paste: pasteWords(provider.callbackDelivery).what,
    hint: options.listening ? sshHint(options.redirectUri, hintOptions) : [],
  };
  io.emit(event);
  return event;
}

/** `--scope a,b c` as a list, or nothing (the provider's scopes). */
export function scopeOption(scope: string | undefined): { scopes?: string[] } {
  const scopes = scope?.split(/[\s,]+/).filter(Boolean);
  return scopes?.length ? { scopes } : {};
}
