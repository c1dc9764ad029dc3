/**
 * Running a command line: parse it (commander, loaded on demand), build the
 * context, load the one command module that runs (so `token` never loads the
 * listener or the picker) and turn every outcome into an exit code.
 *
 * `token <provider> [--json] [--account X]`, the hot path of scripts, is
 * recognised here without commander, which alone costs more than the rest
 * of the command, and its module is imported statically: its graph is part
 * of the up-front one anyway, and a dynamic import would cost a fresh
 * process a second walk of it (~1 ms).
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { AuthError, Exit, isAuthError } from "../errors.ts";
import { lazy } from "../lazy.ts";
import type { Output } from "../output.ts";
import { type Context, type GlobalOptions, processContext } from "./context.ts";
import { token } from "./token.ts";

/** The version baked in from deno.json. */
export const VERSION: string = denoJson.version;

/** Build a context for the options a command was given. */
export type ContextFactory = (options: GlobalOptions, signal: AbortSignal) => Context;

/** A command body: returns the exit code. */
export type Body = (ctx: Context) => Promise<number>;

/** What parsing decided: the body to run and the options every command takes. */
export interface ParsedCommand {
  body: Body;
  globals: GlobalOptions;
}

/**
 * `token <provider> [--json] [--account <target> | --account=<target>]`
 * exactly; anything else (help, typos, other flags) goes to commander.
 */
function fastToken(argv: string[]): ParsedCommand | undefined {
  if (argv[0] !== "token") return undefined;
  let json = false;
  let account: string | undefined;
  const names: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json" && !json) json = true;
    else if (arg === "--account" && account === undefined && i + 1 < argv.length) {
      account = argv[++i];
      if (account.startsWith("-")) return undefined;
    } else if (arg.startsWith("--account=") && account === undefined) {
      account = arg.slice("--account=".length);
    } else if (arg.startsWith("-")) return undefined;
    else names.push(arg);
  }
  if (names.length !== 1) return undefined;
  const opts = account === undefined ? { json } : { json, account };
  return {
    globals: { json },
    body: (ctx) => token(ctx, names[0], opts),
  };
}

/**
 * Run the CLI on `argv` (without the program name) and return the exit
 * code. Never throws and never calls Deno.exit.
 */
export async function run(
  argv: string[],
  makeContext: ContextFactory = processContext,
): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    // Answered without loading the command tree, like commander would.
    Deno.stdout.writeSync(new TextEncoder().encode(`${VERSION}\n`));
    return Exit.OK;
  }
  let parsed = fastToken(argv);
  if (!parsed) {
    const tree = await lazy<typeof import("./tree.ts")>("./tree.ts", import.meta.url);
    const answer = await tree.parseCommandLine(argv, VERSION);
    if (typeof answer === "number") return answer;
    parsed = answer;
  }
  const { body, globals } = parsed;

  const controller = new AbortController();
  const onSigint = () =>
    controller.abort(new AuthError("interrupted", "interrupted", { exit: Exit.INTERRUPTED }));
  let listening = false;
  const ctx = makeContext(globals, controller.signal);
  // Ctrl-C is caught only once a command looks at the signal, that is when it may wait (a
  // login, a refresh's request, a lock wait that lasts until its notice); until then the
  // default, ending the process, is right. A fresh `token` never looks, nor does a waiter of a
  // refresh storm, and each saves the listener's cost.
  Object.defineProperty(ctx, "signal", {
    configurable: true,
    enumerable: true,
    get() {
      if (!listening) {
        try {
          Deno.addSignalListener("SIGINT", onSigint);
          listening = true;
        } catch {
          // Signals are not available everywhere (e.g. some Windows consoles).
        }
      }
      return controller.signal;
    },
  });
  try {
    return await body(ctx);
  } catch (e) {
    return report(ctx.out, e, ctx.env("HERMES_AUTH_DEBUG") !== undefined);
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
  }
}

/** Print a failure and return its exit code. */
export function report(out: Output, e: unknown, debug: boolean): number {
  if (isAuthError(e)) {
    out.error(e, debug);
    return e.exit;
  }
  out.crash(e, debug);
  return Exit.FAILURE;
}
