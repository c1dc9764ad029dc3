/**
 * `hermes-auth doctor`: everything a person needs to debug a login, in three
 * sections, each check a line with ✓ (fine), · (worth knowing), ! (a
 * warning) or ✗ (needs fixing) and, when something can be done, the command
 * that does it:
 *
 * - Environment: the remote-session verdict and every reason behind it,
 *   whether a browser can be opened here (and with what), whether each
 *   provider's callback port (56121 xAI, 43827 Spotify, custom ones) is free
 *   on 127.0.0.1 and, when not, which process holds it.
 * - Files: HERMES_HOME (exists, is a directory, writable, not open to
 *   others), auth.json (a file, permissions, parseable), config.yaml (valid
 *   YAML, or the line and column where it is not; each custom provider
 *   entry), temp files left by killed writes, and the active provider with
 *   the reason it is active (HERMES_INFERENCE_PROVIDER overrides config.yaml).
 * - Auth Providers: the `status` view (`collectStatus` / `renderStatus`).
 *
 * Exit code:
 * - 1 when a check failed that the user must fix before logins work or stay
 *   private: HERMES_HOME not a writable directory, HERMES_HOME or auth.json
 *   readable by others, auth.json unreadable or not a Hermes store,
 *   config.yaml invalid.
 * - 3 (login required) when nothing failed but a login needs doing: no
 *   provider is logged in at all, the active provider has no usable login,
 *   or a stored login died (its refresh token was refused).
 * - 0 otherwise. Warnings — a remote session, no browser, a busy callback
 *   port — never change the exit code: they explain a failure, they are not
 *   one.
 *
 * With `--json`: one document `{ok, exit, environment, files,
 * active_provider, providers, problems}`.
 *
 * @module
 */
import { join } from "node:path";
import { Exit, isAuthError } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { browserCommand } from "../remote/browser.ts";
import { defaultPortProbeDeps, type PortProbe, probePort } from "../remote/ports.ts";
import { defaultProbe, detectSession, type SessionVerdict } from "../remote/session.ts";
import { type ActiveProvider, resolveActiveProvider } from "../store/active_provider.ts";
import { readAuthFile, strayPoolEntries } from "../store/auth_store.ts";
import { poolRows } from "../store/pool.ts";
import { configFilePath, getConfigValue, readConfig } from "../store/config.ts";
import { filesMatching, findStaleTemps } from "../store/atomic.ts";
import { diagnose, type PathProblem } from "../store/fs_errors.ts";
import { pendingDir } from "../store/pending.ts";
import { authFilePath, hermesHome, lockFilePath } from "../store/paths.ts";
import type { Context } from "./context.ts";
import { knownProvidersChecked } from "./providers.ts";
import { collectStatus, type ProviderStatus, renderStatus } from "./status.ts";

/** Options of `doctor`, as commander hands them over. */
export interface DoctorOptions {
  json?: boolean;
}

/** How bad a finding is. */
export type Level = "ok" | "info" | "warn" | "fail";

/** One finding. */
export interface Check {
  section: "environment" | "files" | "providers";
  /** Short name, e.g. `session`, `port 56121`, `auth.json`. */
  name: string;
  level: Level;
  message: string;
  /** Supporting lines (the session's reasons, a port's holders). */
  details?: string[];
  /** The command or step that fixes it. */
  fix?: string;
}

/** The outside world doctor looks at; tests pass fakes. */
export interface DoctorDeps {
  session(): SessionVerdict;
  probePort(port: number): Promise<PortProbe>;
  /** The full path of a program on PATH, or null. */
  which(program: string): Promise<string | null>;
  os: typeof Deno.build.os;
}

/** The real world. */
export function defaultDoctorDeps(ctx: Pick<Context, "env">): DoctorDeps {
  const os = Deno.build.os;
  const portDeps = defaultPortProbeDeps();
  return {
    session: () => detectSession({ ...defaultProbe(), env: ctx.env }),
    probePort: (port) => probePort(port, portDeps),
    which: (program) => which(program, ctx.env("PATH") ?? "", os),
    os,
  };
}

/** Run `doctor`; see the module doc for the exit code. */
export function doctor(ctx: Context, opts: DoctorOptions): Promise<number> {
  return doctorWith(ctx, opts, defaultDoctorDeps(ctx));
}

/** `doctor` with the given {@link DoctorDeps}. */
export async function doctorWith(
  ctx: Context,
  _opts: DoctorOptions,
  deps: DoctorDeps,
): Promise<number> {
  const home = hermesHome(ctx.env);
  const checks: Check[] = [];
  const session = deps.session();
  const known = await knownProvidersChecked(ctx);
  const providers = known.providers;

  checks.push(sessionCheck(session));
  checks.push(await browserCheck(ctx, session, deps));
  const ports = await portChecks(providers, deps);
  checks.push(...ports.checks);

  checks.push(...await homeChecks(home, deps.os));
  const auth = await authFileChecks(home, deps.os);
  checks.push(...auth.checks);
  checks.push(...await leftoverChecks(home));
  const config = await configCheck(home);
  checks.push(config.check);
  // Each custom provider entry that cannot be used, with its line (valid YAML is not enough).
  for (const problem of known.broken) {
    checks.push({
      section: "files",
      name: problem.id === null ? "config.yaml oauth_providers" : `config.yaml ${problem.id}`,
      level: "fail",
      message: problem.error.message,
      fix: problem.error.fix,
    });
  }

  const active = resolveActiveProvider({
    env: ctx.env,
    configProvider: config.provider,
    authActive: auth.activeProvider,
    extra: providers,
  });
  const statuses = await collectStatus(ctx).catch((error) => {
    // An unreadable auth.json was already reported under Files.
    if (isAuthError(error)) return [] as ProviderStatus[];
    throw error;
  });
  checks.push(...loginChecks(statuses, active));

  const failed = checks.some((c) => c.level === "fail");
  const loginNeeded = checks.some((c) => c.section === "providers" && c.level === "warn");
  const exit = failed ? Exit.FAILURE : loginNeeded ? Exit.LOGIN_REQUIRED : Exit.OK;

  const out = ctx.out;
  if (out.json) {
    out.result({
      ok: exit === Exit.OK,
      exit,
      environment: {
        session,
        browser: checks.find((c) => c.name === "browser"),
        ports: ports.probes,
      },
      files: {
        hermes_home: home,
        auth_json: authFilePath(home),
        config_yaml: configFilePath(home),
        checks: checks.filter((c) => c.section === "files"),
      },
      active_provider: active,
      providers: statuses,
      problems: checks.filter((c) => c.level === "fail" || c.level === "warn"),
    });
    return exit;
  }
  render(ctx, checks, statuses, active, exit);
  return exit;
}

// ---- Environment ----

function sessionCheck(session: SessionVerdict): Check {
  const details = session.reasons;
  if (!session.remote) {
    return {
      section: "environment",
      name: "session",
      level: "ok",
      message: `local (${session.kind}): the browser and the login's listener share 127.0.0.1`,
      details,
    };
  }
  const how = session.canTunnel
    ? "forward the callback port with the `ssh -N -L …` command `add` prints, paste the " +
      "address of the page that fails to load, or use --device-code"
    : `paste the address of the page that fails to load, or use --device-code (an SSH tunnel ` +
      `cannot reach this ${session.kind === "container" ? "container" : "console"}'s 127.0.0.1)`;
  return {
    section: "environment",
    name: "session",
    level: "info",
    message: `remote (${session.kind}): a browser elsewhere cannot reach this machine's 127.0.0.1`,
    details,
    fix: how,
  };
}

async function browserCheck(
  ctx: Context,
  session: SessionVerdict,
  deps: DoctorDeps,
): Promise<Check> {
  const argv = browserCommand("https://example.invalid/", {
    env: ctx.env,
    os: deps.os,
    session,
  });
  if (argv === null) {
    return {
      section: "environment",
      name: "browser",
      level: "info",
      message: "none can be opened here: logins print the URL for you to open elsewhere",
      fix: session.remote ? undefined : "set BROWSER to a browser command to open one anyway",
    };
  }
  const program = argv[0];
  const fromVariable = (ctx.env("BROWSER") ?? "").trim() !== "";
  const found = await deps.which(program);
  if (found === null) {
    return {
      section: "environment",
      name: "browser",
      level: "warn",
      message: `${fromVariable ? "$BROWSER names" : "the opener would be"} \`${program}\`, ` +
        "which is not on PATH: logins will only print the URL",
      fix: fromVariable ? "fix or unset BROWSER" : `install ${program}, or set BROWSER`,
    };
  }
  return {
    section: "environment",
    name: "browser",
    level: "ok",
    message: `can be opened with \`${program}\`${fromVariable ? " (from $BROWSER)" : ""}`,
  };
}

async function portChecks(
  providers: ProviderSpec[],
  deps: DoctorDeps,
): Promise<{ checks: Check[]; probes: (PortProbe & { providers: string[] })[] }> {
  const byPort = new Map<number, ProviderSpec[]>();
  for (const p of providers) {
    if (p.redirect.port > 0) byPort.set(p.redirect.port, [...byPort.get(p.redirect.port) ?? [], p]);
  }
  const checks: Check[] = [];
  const probes: (PortProbe & { providers: string[] })[] = [];
  for (const [port, users] of byPort) {
    const probe = await deps.probePort(port);
    const ids = users.map((p) => p.id);
    probes.push({ ...probe, providers: ids });
    const name = `port ${port}`;
    const whose = `(${ids.join(", ")})`;
    if (probe.free === true) {
      checks.push({
        section: "environment",
        name,
        level: "ok",
        message: `127.0.0.1:${port} is free ${whose}`,
      });
      continue;
    }
    if (probe.free === null) {
      checks.push({
        section: "environment",
        name,
        level: "info",
        message: `127.0.0.1:${port} could not be tested ${whose}: ${probe.error}`,
      });
      continue;
    }
    const held = probe.holders.map((h) =>
      `held by pid ${h.pid} (${h.commandLine || h.command || "unknown command"})`
    );
    const fixed = users.filter((p) => !p.redirect.portFallback).map((p) => p.id);
    const effect = fixed.length
      ? `${
        fixed.join(", ")
      } logins fail until it is free (the redirect URI is registered with this port)`
      : "logins move to another free port, which the printed tunnel command follows";
    checks.push({
      section: "environment",
      name,
      level: "warn",
      message: `127.0.0.1:${port} is in use ${whose}: ${effect}`,
      details: held.length ? held : [`find the holder with \`${probe.hint}\``],
      fix: probe.holders.length
        ? `stop that process (kill ${
          probe.holders.map((h) => h.pid).join(" ")
        }) if it is a stale login`
        : `stop whatever \`${probe.hint}\` shows, if it is a stale login`,
    });
  }
  return { checks, probes };
}

// ---- Files ----

async function homeChecks(home: string, os: typeof Deno.build.os): Promise<Check[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(home);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return [{
        section: "files",
        name: "HERMES_HOME",
        level: "info",
        message: `${home} does not exist yet; the first login creates it (mode 700)`,
      }];
    }
    // A parent that is a file (ENOTDIR), one we may not enter…: say which.
    const problem = await diagnose(home, home, error, "read");
    return [{
      section: "files",
      name: "HERMES_HOME",
      level: "fail",
      message: `${home} cannot be used: ${problem.reason}`,
      fix: problem.fix,
    }];
  }
  if (!info.isDirectory) {
    const problem = await diagnose(home, home, undefined, "read");
    return [{
      section: "files",
      name: "HERMES_HOME",
      level: "fail",
      message: problem.reason,
      fix: problem.fix,
    }];
  }
  const checks: Check[] = [];
  const mode = info.mode === null ? null : info.mode & 0o777;
  if (os !== "windows" && mode !== null && (mode & 0o077) !== 0) {
    checks.push({
      section: "files",
      name: "HERMES_HOME",
      level: "fail",
      message: `${home} is mode ${octal(mode)}: other users can look inside (want 700)`,
      fix: `chmod 700 ${shellQuote(home)}`,
    });
  } else {
    checks.push({
      section: "files",
      name: "HERMES_HOME",
      level: "ok",
      message: `${home}${mode === null ? "" : ` (mode ${octal(mode)})`}`,
    });
  }
  const writable = await probeWritable(home);
  if (writable !== null) {
    checks.push({
      section: "files",
      name: "HERMES_HOME writable",
      level: "fail",
      message: `${home} cannot be written: ${writable.reason}`,
      fix: writable.fix,
    });
  }
  try {
    const lock = await Deno.lstat(lockFilePath(home));
    if (!lock.isFile) {
      checks.push({
        section: "files",
        name: "auth.lock",
        level: "fail",
        message: `${lockFilePath(home)} is not a file, so auth.json cannot be locked for a change`,
        fix: `Move it aside: mv ${shellQuote(lockFilePath(home))} ${
          shellQuote(lockFilePath(home) + ".bak")
        }`,
      });
    }
  } catch {
    // No lock file yet: the first change creates it.
  }
  return checks;
}

/** Create and remove a scratch file; null when that works, else what stops it. */
async function probeWritable(dir: string): Promise<PathProblem | null> {
  const path = join(dir, `.hermes-auth-doctor-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    file.close();
    await Deno.remove(path);
    return null;
  } catch (error) {
    return await diagnose(dir, path, error, "write");
  }
}

async function authFileChecks(
  home: string,
  os: typeof Deno.build.os,
): Promise<{ checks: Check[]; activeProvider: unknown }> {
  const path = authFilePath(home);
  const checks: Check[] = [];
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return {
        checks: [{
          section: "files",
          name: "auth.json",
          level: "info",
          message: `${path} does not exist yet: nobody has logged in here`,
        }],
        activeProvider: undefined,
      };
    }
    return {
      checks: [await unreadable(home, path, "auth.json", error)],
      activeProvider: undefined,
    };
  }
  if (!info.isFile) {
    // A mode check of a directory would talk about "your tokens" in something that holds none.
    const problem = await diagnose(home, path, undefined, "read");
    return {
      checks: [{
        section: "files",
        name: "auth.json",
        level: "fail",
        message: `${path} ${info.isDirectory ? "is a directory, not a file" : "is not a file"}`,
        fix: problem.fix,
      }],
      activeProvider: undefined,
    };
  }
  const mode = info.mode === null ? null : info.mode & 0o777;
  if (os !== "windows" && mode !== null && (mode & 0o077) !== 0) {
    checks.push({
      section: "files",
      name: "auth.json permissions",
      level: "fail",
      message: `${path} is mode ${octal(mode)}: other users can read your tokens (want 600)`,
      fix: `chmod 600 ${shellQuote(path)}`,
    });
  }
  let activeProvider: unknown;
  try {
    const { data, corrupt } = await readAuthFile(home);
    if (corrupt) {
      checks.push({
        section: "files",
        name: "auth.json",
        level: "fail",
        message: `${path} is not a Hermes auth store (not JSON, or not the expected layout)`,
        fix: "Log in again with `hermes-auth add <provider>`: the unusable file is kept as " +
          "auth.json.corrupt first.",
      });
    } else {
      activeProvider = data.active_provider;
      const providers = Object.keys(data.providers ?? {}).length;
      // Count what is a credential at all; `[null, 1, "s"]` is three nothings.
      const pooled = Object.keys(data.credential_pool ?? {});
      const rows = pooled.reduce((n, id) => n + poolRows(data, id).length, 0);
      const stray = pooled.filter((id) => strayPoolEntries(data, id) > 0);
      const strayCheck: Check | undefined = stray.length === 0 ? undefined : {
        section: "files",
        name: "auth.json pool",
        level: "warn",
        message: `credential_pool.${stray.join(", credential_pool.")} ${
          stray.length === 1 ? "holds entries that are" : "hold entries that are"
        } not credentials (not objects); every command ignores them`,
        fix: `remove them by hand, or \`hermes-auth logout ${stray[0]}\` (which removes that ` +
          "provider's whole login)",
      };
      checks.push({
        section: "files",
        name: "auth.json",
        level: "ok",
        message: `${path}${mode === null ? "" : ` (mode ${octal(mode)})`}: ${providers} ` +
          `provider login${providers === 1 ? "" : "s"}, ${rows} pool credential${
            rows === 1 ? "" : "s"
          }`,
      });
      if (strayCheck) checks.push(strayCheck);
    }
  } catch (error) {
    if (!isAuthError(error)) throw error;
    checks.push({
      section: "files",
      name: "auth.json",
      level: "fail",
      message: error.message,
      fix: error.fix,
    });
  }
  try {
    await Deno.lstat(path + ".corrupt");
    checks.push({
      section: "files",
      name: "auth.json.corrupt",
      level: "info",
      message: `${path}.corrupt holds an earlier unusable auth.json; remove it once you do not ` +
        "need it",
    });
  } catch {
    // None kept: the usual case.
  }
  return { checks, activeProvider };
}

/** A file under the home that cannot even be looked at (its stat failed for another reason than "missing"). */
async function unreadable(
  home: string,
  path: string,
  name: string,
  error: unknown,
): Promise<Check> {
  if (error instanceof Deno.errors.NotADirectory) {
    // HERMES_HOME (or a parent) is a file: already the ✗ above, the cause of this one.
    return {
      section: "files",
      name,
      level: "info",
      message: `${path} cannot exist while HERMES_HOME is not a directory (see above)`,
    };
  }
  const problem = await diagnose(home, path, error, "read");
  return {
    section: "files",
    name,
    level: "fail",
    message: `${path} cannot be read: ${problem.reason}`,
    fix: problem.fix,
  };
}

/**
 * Temp files a write left when its process was killed (SIGKILL, power
 * loss): copies of auth.json with refresh tokens, of a pending login's
 * verifier. hermes-auth's own go with the next change under the lock;
 * Hermes's (`.auth_*.tmp`) are only reported.
 */
async function leftoverChecks(home: string): Promise<Check[]> {
  const ours = [
    ...await findStaleTemps(authFilePath(home)),
    ...await findStaleTemps(configFilePath(home)),
    ...await filesMatching(
      pendingDir(home),
      /^\.[A-Za-z0-9][A-Za-z0-9._-]*\.json\.[0-9a-f]{16}\.tmp$/,
    ),
  ];
  const hermes = await filesMatching(home, /^\.auth_[^/]*\.tmp$/);
  const checks: Check[] = [];
  if (ours.length > 0) {
    checks.push({
      section: "files",
      name: "leftover temp files",
      level: "warn",
      message: `${ours.length} temp file${ours.length === 1 ? "" : "s"} left by a hermes-auth ` +
        "write that was killed; they may hold tokens (mode 600)",
      details: ours,
      fix: "the next change removes them (e.g. `hermes-auth refresh <provider>`), or `rm` them",
    });
  }
  if (hermes.length > 0) {
    checks.push({
      section: "files",
      name: "Hermes temp files",
      level: "warn",
      message: `${hermes.length} temp file${hermes.length === 1 ? " that looks" : "s that look"} ` +
        "left by a Hermes write that was killed; they may hold tokens",
      details: hermes,
      fix: "remove them when no Hermes is running: `rm` the files above",
    });
  }
  return checks;
}

async function configCheck(home: string): Promise<{ check: Check; provider: unknown }> {
  const path = configFilePath(home);
  try {
    await Deno.lstat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      return { check: await unreadable(home, path, "config.yaml", error), provider: undefined };
    }
    return {
      check: {
        section: "files",
        name: "config.yaml",
        level: "info",
        message:
          `${path} does not exist: Hermes uses its defaults (\`hermes-auth model\` writes one)`,
      },
      provider: undefined,
    };
  }
  try {
    const doc = await readConfig(home);
    const provider = getConfigValue(doc, "model.provider");
    const model = getConfigValue(doc, "model.default");
    const summary = [
      provider === undefined ? null : `model.provider ${String(provider)}`,
      model === undefined ? null : `model.default ${String(model)}`,
    ].filter(Boolean).join(", ");
    return {
      check: {
        section: "files",
        name: "config.yaml",
        level: "ok",
        message: `${path} is valid YAML${summary ? ` (${summary})` : ""}`,
      },
      provider,
    };
  } catch (error) {
    if (!isAuthError(error)) throw error;
    return {
      check: {
        section: "files",
        name: "config.yaml",
        level: "fail",
        message: error.message,
        fix: error.fix,
      },
      provider: undefined,
    };
  }
}

// ---- Auth Providers ----

function loginChecks(statuses: ProviderStatus[], active: ActiveProvider): Check[] {
  const checks: Check[] = [];
  const activeStatus = statuses.find((s) => s.provider === active.id);
  if (activeStatus && !activeStatus.usable) {
    checks.push({
      section: "providers",
      name: `active ${activeStatus.provider}`,
      level: "warn",
      message: `the active provider ${activeStatus.provider} has no usable login`,
      fix: activeStatus.fix ?? `hermes-auth add ${activeStatus.provider}`,
    });
  }
  for (const s of statuses) {
    if (s === activeStatus || s.usable) continue;
    if (s.loggedIn || s.lastError) {
      checks.push({
        section: "providers",
        name: s.provider,
        level: "warn",
        message: `the ${s.provider} login is no longer usable` +
          (s.lastError ? `: ${s.lastError.message}` : ""),
        fix: s.fix ?? `hermes-auth add ${s.provider}`,
      });
    }
  }
  if (statuses.length > 0 && !statuses.some((s) => s.usable) && checks.length === 0) {
    checks.push({
      section: "providers",
      name: "logins",
      level: "warn",
      message: "no provider is logged in",
      fix: `hermes-auth add ${statuses[0].provider} (or \`hermes-auth model\` to choose first)`,
    });
  }
  return checks;
}

function activeLine(active: ActiveProvider): string {
  if (!active.id) return "Active provider: none chosen (Hermes picks one by itself: auto)";
  const why = active.source === "HERMES_INFERENCE_PROVIDER"
    ? active.overridesConfig
      ? `HERMES_INFERENCE_PROVIDER overrides config.yaml's model.provider ${active.configured}`
      : "from HERMES_INFERENCE_PROVIDER"
    : active.source === "config.yaml"
    ? "from config.yaml model.provider"
    : "from auth.json active_provider";
  return `Active provider: ${active.id} (${why})`;
}

// ---- rendering ----

function render(
  ctx: Context,
  checks: Check[],
  statuses: ProviderStatus[],
  active: ActiveProvider,
  exit: number,
): void {
  const out = ctx.out;
  const { green, yellow, red, dim, bold } = out.dataStyle;
  const mark: Record<Level, string> = {
    ok: green("✓"),
    info: dim("·"),
    warn: yellow("!"),
    fail: red("✗"),
  };
  const line = (c: Check) => {
    out.data(`  ${mark[c.level]} ${c.name}: ${c.message}`);
    for (const d of c.details ?? []) out.data(`      ${dim(d)}`);
    if (c.fix && c.level !== "ok") out.data(`      ${dim("→")} ${c.fix}`);
  };
  out.data(bold("◆ Environment"));
  checks.filter((c) => c.section === "environment").forEach(line);
  out.data("");
  out.data(bold("◆ Files"));
  checks.filter((c) => c.section === "files").forEach(line);
  out.data("");
  out.data(bold("◆ Auth Providers"));
  out.data(`  ${activeLine(active)}`);
  renderStatus(out, statuses, { now: ctx.now(), timeZone: ctx.timeZone });
  checks.filter((c) => c.section === "providers").forEach(line);
  out.data("");
  const fails = checks.filter((c) => c.level === "fail").length;
  const warns = checks.filter((c) => c.level === "warn").length;
  if (exit === Exit.OK) {
    out.data(
      `${green("✓")} Nothing needs fixing${
        warns ? ` (${warns} warning${warns === 1 ? "" : "s"} above)` : ""
      }.`,
    );
  } else if (exit === Exit.FAILURE) {
    out.data(`${red("✗")} ${fails} problem${fails === 1 ? "" : "s"} to fix (marked ✗ above).`);
  } else {
    out.data(`${yellow("!")} A login is needed (see Auth Providers above).`);
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, "0");
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Look `program` up on PATH as a shell would (an explicit path is checked as is). */
async function which(
  program: string,
  path: string,
  os: typeof Deno.build.os,
): Promise<string | null> {
  const candidates = program.includes("/") || (os === "windows" && program.includes("\\"))
    ? [program]
    : path.split(os === "windows" ? ";" : ":").filter(Boolean).flatMap((dir) =>
      os === "windows" ? [join(dir, program), join(dir, `${program}.exe`)] : [join(dir, program)]
    );
  for (const candidate of candidates) {
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && (os === "windows" || info.mode === null || (info.mode & 0o111) !== 0)) {
        return candidate;
      }
    } catch {
      // Not here.
    }
  }
  return null;
}
