/**
 * Typed failures. Every expected failure is an {@link AuthError} with a stable
 * `code` a script can match on, the process exit code it maps to, and a
 * one-line fix for the person at the terminal.
 *
 * @module
 */

/** Process exit codes (docs/reference/cli.md). */
export const Exit = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  LOGIN_REQUIRED: 3,
  TIMEOUT: 4,
  DENIED: 5,
  PROVIDER: 6,
  INTERRUPTED: 130,
} as const;

/** One of the values of {@link Exit}. */
export type ExitCode = typeof Exit[keyof typeof Exit];

/** Options of an {@link AuthError}. */
export interface AuthErrorOptions {
  /** Process exit code; defaults to {@link Exit.FAILURE}. */
  exit?: ExitCode;
  /** One line telling the user what to do next. */
  fix?: string;
  /** The underlying error, kept for debugging, never printed with secrets. */
  cause?: unknown;
}

/** An expected failure: stable code, exit code and a fix. */
export class AuthError extends Error {
  /** Stable machine-readable code, e.g. `callback_timeout`. */
  readonly code: string;
  /** Exit code the CLI ends with. */
  readonly exit: ExitCode;
  /** One-line remedy, or undefined when there is nothing to advise. */
  readonly fix?: string;

  constructor(code: string, message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthError";
    this.code = code;
    this.exit = options.exit ?? Exit.FAILURE;
    this.fix = options.fix;
  }
}

/** Shorthand for a usage error (exit 2). */
export function usageError(message: string, fix?: string): AuthError {
  return new AuthError("usage", message, { exit: Exit.USAGE, fix });
}

/** True when `e` is an {@link AuthError}, optionally with the given code. */
export function isAuthError(e: unknown, code?: string): e is AuthError {
  return e instanceof AuthError && (code === undefined || e.code === code);
}
