/**
 * How `add` shows a login: each {@link LoginEvent} of lib/login as text on
 * stderr for a person, or as the documented `--json` event on stdout
 * (docs/reference/cli.md, "The add --json event stream").
 *
 * Two things only a view can judge live here too: a flood of refused
 * requests at the listener (a page retrying in a loop, a port scanner) is
 * shown as its first few lines and then counted, so the tunnel and paste
 * instructions stay on the screen; and the device login's link is drawn as a
 * QR code for a phone when a person watches a terminal.
 *
 * @module
 */
import type { LoginEvent } from "../login/mod.ts";
import type { Output } from "../output.ts";
import { qrLines } from "./qr.ts";

/** Refused requests shown one by one before they are only counted. */
export const WARNINGS_SHOWN = 3;
/** While counting, a running total at most this often (ms), with the instructions again. */
const TALLY_INTERVAL_MS = 10_000;

/** Options of {@link LoginView}. */
export interface LoginViewOptions {
  /** Provider id, for the JSON events. */
  provider: string;
  displayName: string;
  /** Draw the device login's QR code (a person at a terminal, not --no-qr, not --json). */
  qr: false | { color: boolean };
  /** Clock for the flood tally, in ms. */
  now?: () => number;
}

/** Renders one login's events; call {@link finish} when the login is over. */
export class LoginView {
  #out: Output;
  #opts: LoginViewOptions;
  #now: () => number;
  #warnings = 0;
  #tallied = 0;
  #lastTally = 0;
  #finished = false;
  /** What to say again when warnings may have scrolled the instructions away. */
  #reminders: { text: string; prompt: boolean }[] = [];

  constructor(out: Output, options: LoginViewOptions) {
    this.#out = out;
    this.#opts = options;
    this.#now = options.now ?? Date.now;
  }

  /** Show one event. */
  render = (event: LoginEvent): void => {
    const out = this.#out;
    const s = out.style;
    switch (event.type) {
      case "authorize":
        out.event({
          event: "authorize",
          provider: this.#opts.provider,
          url: event.url,
          redirect_uri: event.redirectUri,
          port: event.port,
          remote: event.remote,
          tunnel: event.tunnel,
          listening: event.listening,
          paste: event.paste,
        });
        out.info(`${s.bold(`Log in to ${this.#opts.displayName}`)} by opening this URL:`);
        out.info();
        out.info(`  ${s.cyan(event.url)}`);
        out.info();
        for (const line of event.hint) out.info(line);
        if (event.hint.length) out.info();
        this.#reminders = event.tunnel
          ? [{ text: `On your laptop, the tunnel: ${event.tunnel}`, prompt: false }]
          : [];
        return;
      case "port_moved":
        out.warn(`port ${event.wanted} is busy; listening on ${event.port} instead`);
        return;
      case "browser_opened":
        out.info(
          s.dim(
            event.waiting === "callback"
              ? "Opened your browser. Approve access there."
              : "Opened your browser.",
          ),
        );
        return;
      case "paste_instructions":
        if (event.manual) {
          out.info(event.words.after);
          out.prompt(`Paste ${event.words.what} here: `);
          this.#reminders = [{ text: `Paste ${event.words.what} here: `, prompt: true }];
        } else {
          out.info(`No tunnel? Open the URL anyway; ${event.words.when},`);
          out.info(`${event.words.pasteIt}.`);
          this.#reminders.push({ text: `Or paste ${event.words.what} here.`, prompt: false });
        }
        return;
      case "waiting":
        if (event.for === "callback") {
          out.info(s.dim(`Waiting up to ${event.seconds} s for the browser… (Ctrl-C to cancel)`));
        } else {
          const minutes = Math.max(1, Math.round(event.seconds / 60));
          out.info(
            s.dim(`Waiting for approval (the code expires in ${minutes} min; Ctrl-C to cancel)…`),
          );
        }
        return;
      case "listener_warning":
        this.#listenerWarning(event.message);
        return;
      case "pasted":
        out.answered();
        return;
      case "paste_refused":
        out.answered();
        out.warn(event.reason);
        out.prompt("Paste again: ");
        return;
      case "timeout_reprompt":
        out.warn(`No callback arrived within ${event.seconds} s.`);
        out.prompt(`${event.words.ifShown}, paste it here (Ctrl-C to give up): `);
        this.#reminders = [{
          text: `${event.words.ifShown}, paste it here (Ctrl-C to give up): `,
          prompt: true,
        }];
        return;
      case "device_code":
        this.#deviceCode(event);
        return;
      case "device_fallback":
        out.warn(
          `the device code login could not start (${event.reason}); using the browser login instead`,
        );
        return;
      case "pending":
        out.event({
          event: "pending",
          provider: this.#opts.provider,
          path: event.path,
          expires_in: event.expiresIn,
        });
        out.info(event.words.after);
        out.info(
          `Finish the login within ${Math.round(event.expiresIn / 60)} minutes with ` +
            `${event.words.what}:`,
        );
        out.info();
        out.info(`  ${event.command}`);
        out.info();
        out.info(
          s.dim(
            `The pending login is saved in ${event.path} (0600); only a login that succeeds ` +
              "or is denied uses it up.",
          ),
        );
        return;
    }
  };

  /** The login is over (either way): say how many refused requests were not shown. Idempotent. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const hidden = this.#warnings - WARNINGS_SHOWN;
    if (hidden > this.#tallied) {
      this.#out.warn(`the listener refused ${hidden} more request(s) in all (not shown)`);
    }
  }

  #listenerWarning(message: string): void {
    this.#warnings++;
    if (this.#warnings <= WARNINGS_SHOWN) {
      this.#out.warn(message);
      if (this.#warnings === WARNINGS_SHOWN) this.#lastTally = this.#now();
      return;
    }
    const now = this.#now();
    if (this.#warnings === WARNINGS_SHOWN + 1) {
      this.#out.warn("more refused requests follow; they are counted, not shown");
      this.#lastTally = now;
      this.#repeatReminder();
      return;
    }
    if (now - this.#lastTally < TALLY_INTERVAL_MS) return;
    this.#lastTally = now;
    this.#tallied = this.#warnings - WARNINGS_SHOWN;
    this.#out.warn(`the listener has refused ${this.#tallied} more request(s) so far`);
    this.#repeatReminder();
  }

  /** After warnings, the instruction that matters again: the tunnel, or where to paste. */
  #repeatReminder(): void {
    for (const { text, prompt } of this.#reminders) {
      if (prompt) this.#out.prompt(text);
      else this.#out.info(text);
    }
  }

  #deviceCode(event: Extract<LoginEvent, { type: "device_code" }>): void {
    const out = this.#out;
    const s = out.style;
    out.event({
      event: "device_code",
      provider: this.#opts.provider,
      verification_uri: event.verificationUri,
      verification_uri_complete: event.verificationUriComplete,
      user_code: event.userCode,
      expires_in: event.expiresIn,
      interval: event.interval,
    });
    out.info(`${s.bold(`Log in to ${this.#opts.displayName}`)} on any device with a browser:`);
    out.info();
    out.info(`  1. open ${s.cyan(event.verificationUri)}`);
    out.info(`  2. enter the code ${s.bold(event.userCode)}`);
    if (event.verificationUriComplete) {
      out.info();
      out.info(`  or open ${s.cyan(event.verificationUriComplete)} (code filled in)`);
    }
    out.info();
    const qr = this.#opts.qr;
    if (qr) {
      const link = event.verificationUriComplete ?? event.verificationUri;
      out.info("  or scan this with your phone's camera:");
      out.info();
      for (const line of qrLines(link, qr)) out.info(`  ${line}`);
      out.info();
    }
  }
}
