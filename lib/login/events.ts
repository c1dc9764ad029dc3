/**
 * What the login flows tell the person, as data. The flows in lib/login never
 * print: each step is a {@link LoginEvent} handed to {@link LoginIO.emit},
 * and lib/cli renders it as text on a terminal or as a `--json` event. So the
 * flows can be read (and tested) without the words around them, and the
 * words can change without touching a flow.
 *
 * @module
 */
import type { FetchLike } from "../oauth/server.ts";
import type { TokenSet } from "../oauth/tokens.ts";
import type { PasteWords } from "../providers/delivery.ts";
import type { StdinLines } from "./stdin_lines.ts";

/** One step of a login the person should hear about. Never carries a code or a token. */
export type LoginEvent =
  | {
    /** The authorize URL to open, and how it comes back here. */
    type: "authorize";
    url: string;
    redirectUri: string;
    /** The port in the redirect URI, null when it has none. */
    port: number | null;
    remote: boolean;
    /** The ssh command that carries the redirect back here, null when none applies. */
    tunnel: string | null;
    /** A listener waits for the callback (false: manual paste, two-step). */
    listening: boolean;
    /** What a person pastes back when the browser cannot reach the listener. */
    paste: string;
    /** The remote-session hint (tunnel, alternatives), one line each; empty when silent. */
    hint: string[];
  }
  | { type: "port_moved"; wanted: number; port: number }
  | { type: "browser_opened"; waiting: "approval" | "callback" }
  /** How to paste back: `manual` (the only way in) or as an alternative to the listener. */
  | { type: "paste_instructions"; manual: boolean; words: PasteWords }
  /** Waiting for the browser's callback, or for the approval of a device code. */
  | { type: "waiting"; seconds: number; for: "callback" | "approval" }
  /** The listener refused a request and keeps waiting (foreign Host, state, origin). */
  | { type: "listener_warning"; message: string }
  /** A pasted line was taken as the answer (the person pressed Enter). */
  | { type: "pasted" }
  /** A pasted line was not taken; the person is asked again. */
  | { type: "paste_refused"; reason: string }
  /** The wait timed out on a terminal: one more chance to paste. */
  | { type: "timeout_reprompt"; seconds: number; words: PasteWords }
  | {
    /** RFC 8628 §3.3: what the person needs to approve on another device. */
    type: "device_code";
    verificationUri: string;
    verificationUriComplete: string | null;
    userCode: string;
    expiresIn: number;
    interval: number;
  }
  /** The device code login could not start; the browser login runs instead. */
  | { type: "device_fallback"; reason: string }
  | {
    /** A two-step login was saved; it is finished by `command`. */
    type: "pending";
    path: string;
    expiresIn: number;
    command: string;
    words: PasteWords;
  };

/** A finished login, ready to store. */
export interface LoginResult {
  tokens: TokenSet;
  authMode: "oauth_pkce" | "oauth_device_code";
  /** The redirect URI the code was issued for (not for a device code login). */
  redirectUri?: string;
  /** The client the login was made with, when not the resolved one (two-step). */
  clientId?: string;
}

/** The world as a login flow sees it; lib/cli builds it from the command's context. */
export interface LoginIO {
  /** Tell the person about a step. */
  emit(event: LoginEvent): void;
  /** A value that must never be shown (verifier, code, device code, token). */
  secret(value: string | undefined): void;
  /** Lines the person types, shared by successive waits. */
  input: StdinLines;
  /** Standard input is a terminal: a person can paste and be asked again. */
  stdinIsTerminal: boolean;
  env: (name: string) => string | undefined;
  fetch: FetchLike;
  now: () => Date;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Open a URL in a browser on this machine; false when none could be started. */
  openBrowser(url: string): Promise<boolean>;
  /** This machine's host name, for the tunnel command. */
  hostname(): string;
}
