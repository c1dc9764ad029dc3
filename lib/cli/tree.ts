/**
 * The command tree on commander: every command, its options and help. It
 * only decides which command body runs; lib/cli/mod.ts runs it. Loaded on
 * demand, so the `token` fast path never pays for commander.
 *
 * @module
 */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { Exit } from "../errors.ts";
import { printable } from "../output.ts";
import type { Body, ParsedCommand } from "./mod.ts";
import type { GlobalOptions } from "./context.ts";

/** The shells `completion` makes scripts for (lib/cli/completion.ts). */
const SHELLS = ["bash", "zsh", "fish"];

function integer(min: number, max: number) {
  return (value: string): number => {
    // No trimming: `--port ' 80'` is a typo to point out, not a port to guess.
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** The longest `--timeout`: a day. Longer waits are a mistake (ms for s?), not a plan. */
const MAX_TIMEOUT_SECONDS = 86_400;

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > MAX_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(
      `expected a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS} (24 hours)`,
    );
  }
  return n;
}

/**
 * Control characters (and the bidi controls that reorder text) in a label
 * would be stored and later echoed to a terminal, where they move the cursor,
 * recolour or disguise the line; a label is a name, so they are refused.
 */
function label(value: string): string {
  if (/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(value)) {
    throw new InvalidArgumentError(
      "a label cannot contain control characters (escape sequences, newlines, tabs…)",
    );
  }
  return value;
}

/**
 * Every command's usage errors end with the help to read: `(hermes-auth
 * token --help for usage)`; an unknown command points at the program's own
 * help. Commander copies one hint to every subcommand, which made every
 * error point at `add`.
 */
function helpHints(command: Command, path: string[]): void {
  command.showHelpAfterError(`(${path.join(" ")} --help for usage)`);
  for (const sub of command.commands) helpHints(sub, [...path, sub.name()]);
}

/** Where commander prints help (stdout) and usage errors (stderr); tests capture them. */
export interface ParserOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const defaultParserOutput: ParserOutput = {
  writeOut: (s) => void Deno.stdout.writeSync(new TextEncoder().encode(s)),
  writeErr: (s) => void Deno.stderr.writeSync(new TextEncoder().encode(s)),
};

/**
 * Parse `argv` (without the program name): the command body to run and its
 * global options, or the exit code when commander already answered (help,
 * version, usage error).
 */
export async function parseCommandLine(
  argv: string[],
  version: string,
  io: ParserOutput = defaultParserOutput,
): Promise<ParsedCommand | number> {
  let body: Body | undefined;
  let globals: GlobalOptions = {};
  const program = new Command("hermes-auth")
    .description(
      "Sign in to OAuth providers (xAI Grok, Spotify, …) from any machine, over SSH too.\n" +
        "Credentials go where Hermes Agent reads them: $HERMES_HOME/auth.json.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: io.writeOut,
      writeErr: io.writeErr,
      // Commander quotes the offending argument back; an escape sequence in it must not run.
      outputError: (s, write) => write(printable(s, "\n")),
    })
    .addHelpText(
      "after",
      "\nExit codes: 0 ok, 1 unexpected, 2 usage, 3 login required, 4 timed out,\n" +
        "5 denied or state mismatch, 6 provider or network error, 130 interrupted.\n" +
        "Guides: hermes-auth help ssh | xai | spotify | custom | exit-codes",
    );

  const json = () => new Option("--json", "machine-readable output: one JSON object per line");

  program
    .command("add")
    .description("log in to a provider and store the credential")
    .argument("<provider>", "provider id or alias, e.g. xai-oauth")
    .option("--no-browser", "do not try to open a browser; print the URL only")
    .option("--loopback", "use the browser login with its 127.0.0.1 redirect, even on a server")
    .option("--no-qr", "do not draw the device login's link as a QR code")
    .option("--manual-paste", "start no listener; paste the redirect URL (or code) instead")
    .option(
      "--device-code",
      "use the device authorization grant (RFC 8628); the default on a remote session",
    )
    .option("--port <n>", "callback port to listen on (0: any free port)", integer(0, 65535))
    .option("--timeout <seconds>", "how long to wait for the browser", seconds, 180)
    .option("--label <name>", "label of the stored credential", label)
    .option("--client-id <id>", "OAuth client id (Spotify, custom providers)")
    .option("--redirect-uri <uri>", "loopback redirect URI registered with the provider")
    .option("--scope <scopes>", "space-separated scopes instead of the provider's defaults")
    .option("--no-wait", "two-step login: print the URL, save the pending login, exit")
    .option("--callback-url <url>", "finish a two-step login with the URL the browser was sent to")
    .addOption(json())
    .action((provider: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./add.ts")).add(ctx, provider, opts);
    });

  program
    .command("token")
    .description("print a valid access token (refreshing it first when it is about to expire)")
    .argument("<provider>", "provider id or alias")
    .option("--account <target>", "use this credential: #index, id or label (see `list`)")
    .addOption(json())
    .action((provider: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./token.ts")).token(ctx, provider, opts);
    });

  program
    .command("refresh")
    .description("refresh the access token now")
    .argument("<provider>", "provider id or alias")
    .addOption(json())
    .action((provider: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./refresh.ts")).refresh(ctx, provider, opts);
    });

  program
    .command("status")
    .description("show which providers are logged in, until when, and what to fix")
    .argument("[provider]", "only this provider")
    .addOption(json())
    .action((provider: string | undefined, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./status.ts")).status(ctx, provider, opts);
    });

  program
    .command("list")
    .description("list stored credentials (the credential pool)")
    .argument("[provider]", "only this provider")
    .addOption(json())
    .action((provider: string | undefined, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./list.ts")).list(ctx, provider, opts);
    });

  program
    .command("remove")
    .description("remove one stored credential")
    .argument("<provider>", "provider id or alias")
    .argument("<target>", "the credential's #index, id or label (see `list`)")
    .addOption(json())
    .action((provider: string, target: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./remove.ts")).remove(ctx, provider, target, opts);
    });

  program
    .command("use")
    .description("choose which account is used: put it first in the order Hermes reads the pool")
    .argument("<provider>", "provider id or alias")
    .argument("<account>", "the credential's #index, id or label (see `list`)")
    .addOption(json())
    .action((provider: string, account: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./use.ts")).use(ctx, provider, account, opts);
    });

  program
    .command("logout")
    .description("forget a provider's login and all its stored credentials")
    .argument("[provider]", "provider id or alias (on a terminal: pick one when left out)")
    .addOption(json())
    .action((provider: string | undefined, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./logout.ts")).logout(ctx, provider, opts);
    });

  const config = program.command("config").description("read or change config.yaml");
  config
    .command("get")
    .description("print a value, e.g. `config get model.default`")
    .argument("<key>", "dotted key")
    .addOption(json())
    .action((key: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./config.ts")).configGet(ctx, key, opts);
    });
  config
    .command("set")
    .description(
      "set a value, keeping comments and order, e.g. `config set model.default grok-4.3`",
    )
    .argument("<key>", "dotted key")
    .argument("<value>", "value (YAML scalar: 3, true, null, or text)")
    .addOption(json())
    .action((key: string, value: string, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./config.ts")).configSet(ctx, key, value, opts);
    });

  program
    .command("model")
    .description("pick the provider and model Hermes uses (interactive on a terminal)")
    .option("--provider <id>", "provider id or alias (skips the picker)")
    .option("--model <name>", "model name (skips the picker)")
    .addOption(json())
    .action((opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./model.ts")).model(ctx, opts);
    });

  program
    .command("doctor")
    .description("check everything a login needs and say what to fix")
    .addOption(json())
    .action((opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      body = async (ctx) => (await import("./doctor.ts")).doctor(ctx, opts);
    });

  program
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish)")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .addHelpText(
      "after",
      "\nInstall: hermes-auth completion bash > ~/.local/share/bash-completion/completions/" +
        'hermes-auth\n         hermes-auth completion zsh > "${fpath[1]}/_hermes-auth"\n' +
        "         hermes-auth completion fish > ~/.config/fish/completions/hermes-auth.fish",
    )
    .action((shell: string) => {
      // The script is generated from this very tree, so every command above completes.
      body = async (ctx) => (await import("./completion.ts")).completion(ctx, shell, program);
    });

  program
    .command("help")
    .description("the guides: ssh, xai, spotify, custom, exit-codes (or a command's help)")
    .argument("[topic]", "a guide's topic, or a command name")
    .addOption(json())
    .action((topic: string | undefined, opts: Record<string, unknown>) => {
      globals = { json: opts.json === true };
      const command = program.commands.find((c) => c.name() === topic && c.name() !== "help");
      if (command) {
        command.outputHelp();
        body = () => Promise.resolve(Exit.OK);
        return;
      }
      body = async (ctx) => (await import("./help.ts")).help(ctx, topic, opts);
    });

  helpHints(program, [program.name()]);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.version" ||
        e.code === "commander.help"
      ) {
        return Exit.OK;
      }
      return Exit.USAGE;
    }
    throw e;
  }
  if (!body) {
    program.outputHelp();
    return Exit.USAGE;
  }
  return { body, globals };
}
