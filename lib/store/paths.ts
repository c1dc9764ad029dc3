/**
 * Where Hermes keeps its files. `$HERMES_HOME` holds `auth.json`, `auth.lock`
 * and `config.yaml`; without it the home is `~/.hermes`.
 *
 * @module
 */

import { join } from "./path.ts";
import { AuthError } from "../errors.ts";

/** Reads one environment variable; the default reads the real environment. */
export type EnvReader = (name: string) => string | undefined;

function realEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

/**
 * `$HERMES_HOME`, else `<home>/.hermes` where home is `HOME` (or `USERPROFILE`
 * on Windows). An empty `HERMES_HOME` counts as unset. Throws AuthError
 * `no_home` when neither can be found.
 */
export function hermesHome(
  env: EnvReader = realEnv,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  const explicit = env("HERMES_HOME");
  if (explicit) return explicit;
  const home = os === "windows" ? (env("USERPROFILE") || env("HOME")) : env("HOME");
  if (!home) {
    throw new AuthError(
      "no_home",
      `Cannot locate the Hermes home: neither HERMES_HOME nor ${
        os === "windows" ? "USERPROFILE" : "HOME"
      } is set.`,
      { fix: "Set HERMES_HOME to the directory that holds auth.json (usually ~/.hermes)." },
    );
  }
  return join(home, ".hermes");
}

/** `<home>/auth.json`: providers' login state and the credential pool. */
export function authFilePath(home: string): string {
  return join(home, "auth.json");
}

/** `<home>/auth.lock`: the file Hermes and hermes-auth `flock` around every auth.json change. */
export function lockFilePath(home: string): string {
  return join(home, "auth.lock");
}
