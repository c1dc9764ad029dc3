/**
 * `hermes-auth completion bash|zsh|fish`: a shell completion script made from
 * the commander command tree itself — every command, subcommand, option and
 * argument as lib/cli/tree.ts declares them, so a new command or flag
 * completes without anyone writing completion code for it. Arguments and
 * options named `provider` complete provider ids and aliases (built-in, and
 * the custom ones config.yaml defines when the script is made); arguments
 * and options with commander `choices` complete those.
 *
 * Every shell gets the same small state machine, generated as `case` tables:
 * walk the words before the cursor, following subcommands, skipping option
 * values and counting positional arguments, then offer what fits there.
 *
 * @module
 */
import type { Command, Option } from "commander";
import { AuthError, Exit, usageError } from "../errors.ts";
import type { Context } from "./context.ts";
import { knownProvidersChecked } from "./providers.ts";

/** The shells a script is made for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** What a value can be completed with. */
export type Values =
  | { kind: "providers" }
  | { kind: "choices"; choices: string[] }
  | { kind: "commands" }
  | { kind: "none" };

/** An option as completion sees it. */
export interface OptionNode {
  /** `--port`, `-h`: every spelling. */
  names: string[];
  description: string;
  /** It is followed by a value (`--port <n>`). */
  takesValue: boolean;
  values: Values;
}

/** A command as completion sees it. */
export interface CommandNode {
  name: string;
  description: string;
  options: OptionNode[];
  /** Positional arguments in order. */
  args: Values[];
  commands: CommandNode[];
}

/**
 * The completion model of `command` and everything under it, read from
 * commander's own view of it (`Help.visibleCommands` / `visibleOptions`,
 * which include the implicit `help` command and `-h, --help`).
 */
export function commandTree(command: Command, isSubcommand = false): CommandNode {
  const help = command.createHelp();
  return {
    name: command.name(),
    description: command.description().split("\n")[0],
    options: help.visibleOptions(command).map(optionNode),
    // commander's implicit `help [command]` takes the name of a sibling command.
    args: isSubcommand && command.name() === "help"
      ? [{ kind: "commands" }]
      : command.registeredArguments.map((arg) =>
        valuesFor(arg.name(), arg.argChoices as string[] | undefined)
      ),
    commands: help.visibleCommands(command).map((sub) => commandTree(sub, true)),
  };
}

function optionNode(option: Option): OptionNode {
  const names = [option.short, option.long].filter((n): n is string => Boolean(n));
  const takesValue = option.required || option.optional;
  return {
    names,
    description: option.description,
    takesValue,
    values: takesValue
      ? valuesFor(option.attributeName(), option.argChoices as string[] | undefined)
      : { kind: "none" },
  };
}

function valuesFor(name: string, choices: string[] | undefined): Values {
  if (choices?.length) return { kind: "choices", choices };
  if (name === "provider") return { kind: "providers" };
  return { kind: "none" };
}

/** Every command node with its path (`""` for the program, `config get`…). */
function walk(node: CommandNode, path: string[] = []): { path: string; node: CommandNode }[] {
  return [
    { path: path.join(" "), node },
    ...node.commands.flatMap((sub) => walk(sub, [...path, sub.name])),
  ];
}

/** Words that may be completed for `values` under `node`. */
function words(values: Values, node: CommandNode, parent: CommandNode | undefined): string[] {
  switch (values.kind) {
    case "choices":
      return values.choices;
    case "commands":
      return (parent ?? node).commands.map((c) => c.name).filter((n) => n !== "help");
    default:
      return [];
  }
}

interface Table {
  path: string;
  node: CommandNode;
  /** Subcommand names. */
  commands: string[];
  /** Every option spelling. */
  options: string[];
  /** Spellings of options that take a value. */
  valued: string[];
  /** What follows an option (key: its spelling) or sits at a position (key: the index). */
  values: { key: string; providers: boolean; words: string[] }[];
}

function tables(root: CommandNode): Table[] {
  const all = walk(root);
  const parentOf = (path: string) => {
    const up = path.split(" ").slice(0, -1).join(" ");
    return all.find((entry) => entry.path === up)?.node;
  };
  return all.map(({ path, node }) => {
    const parent = path === "" ? undefined : parentOf(path);
    const values: Table["values"] = [];
    node.args.forEach((value, i) => {
      const list = words(value, node, parent);
      if (value.kind === "providers" || list.length) {
        values.push({ key: String(i), providers: value.kind === "providers", words: list });
      }
    });
    for (const option of node.options) {
      if (!option.takesValue) continue;
      const list = words(option.values, node, parent);
      if (option.values.kind !== "providers" && !list.length) continue;
      for (const name of option.names) {
        values.push({ key: name, providers: option.values.kind === "providers", words: list });
      }
    }
    return {
      path,
      node,
      commands: node.commands.map((c) => c.name),
      options: node.options.flatMap((o) => o.names),
      valued: node.options.filter((o) => o.takesValue).flatMap((o) => o.names),
      values,
    };
  });
}

/** `'text'` for sh, bash and zsh. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** `'text'` for fish, where `\\` and `\'` are escapes even inside single quotes. */
function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** The `case` tables bash and zsh share (POSIX sh syntax). */
function shTables(program: string, fn: string, root: CommandNode, providers: string[]): string {
  const t = tables(root);
  const arm = (key: string, value: string) => `    ${quote(key)}) echo ${quote(value)} ;;`;
  const lines = [
    `${fn}_providers=${quote(providers.join(" "))}`,
    "",
    `# Subcommands of a command path (\`\` for ${program} itself).`,
    `${fn}_commands() {`,
    `  case "$1" in`,
    ...t.filter((e) => e.commands.length).map((e) => arm(e.path, e.commands.join(" "))),
    "  esac",
    "}",
    "",
    "# Every option of a command path.",
    `${fn}_options() {`,
    `  case "$1" in`,
    ...t.filter((e) => e.options.length).map((e) => arm(e.path, e.options.join(" "))),
    "  esac",
    "}",
    "",
    "# The options of a command path that take a value.",
    `${fn}_valued() {`,
    `  case "$1" in`,
    ...t.filter((e) => e.valued.length).map((e) => arm(e.path, e.valued.join(" "))),
    "  esac",
    "}",
    "",
    "# Values after an option, or at a position (0, 1…), of a command path.",
    `${fn}_values() {`,
    `  case "$1|$2" in`,
    ...t.flatMap((e) =>
      e.values.map((v) =>
        v.providers
          ? `    ${quote(`${e.path}|${v.key}`)}) echo "$${fn}_providers" ;;`
          : arm(`${e.path}|${v.key}`, v.words.join(" "))
      )
    ),
    "  esac",
    "}",
  ];
  return lines.join("\n");
}

/**
 * The walk over the words before the cursor, in sh syntax: sets `cmdpath`
 * (the subcommands followed), `n` (positional arguments seen) and `skip`
 * (the option whose value is being typed, if any). `$first`/`$last` bound
 * the words to walk; `<fn>_word N` reads one. (Not `path`: zsh ties that
 * name to $PATH.)
 */
function shWalk(fn: string, indent: string): string {
  return [
    `cmdpath="" n=0 skip=""`,
    `for ((i = first; i < last; i++)); do`,
    `  word="$(${fn}_word "$i")"`,
    `  if [[ -n "$skip" ]]; then skip=""; continue; fi`,
    `  if [[ "$word" == -* ]]; then`,
    `    [[ " $(${fn}_valued "$cmdpath") " == *" $word "* ]] && skip="$word"`,
    `  elif [[ $n -eq 0 && " $(${fn}_commands "$cmdpath") " == *" $word "* ]]; then`,
    `    cmdpath="\${cmdpath:+$cmdpath }$word"`,
    `  else`,
    `    n=$((n + 1))`,
    `  fi`,
    `done`,
  ].map((line) => indent + line).join("\n");
}

function bashScript(root: CommandNode, providers: string[]): string {
  const program = root.name;
  const fn = "_" + program.replaceAll("-", "_");
  return [
    `# bash completion for ${program}, generated by \`${program} completion bash\``,
    "# from its command tree. Install it with one of:",
    `#   ${program} completion bash > ~/.local/share/bash-completion/completions/${program}`,
    `#   echo 'eval "$(${program} completion bash)"' >> ~/.bashrc`,
    "",
    shTables(program, fn, root, providers),
    "",
    `${fn}_word() { printf '%s\\n' "\${COMP_WORDS[$1]}"; }`,
    "",
    `${fn}() {`,
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath n skip word i first=1 last=$COMP_CWORD`,
    shWalk(fn, "  "),
    "  local candidates",
    `  if [[ -n "$skip" ]]; then`,
    `    candidates="$(${fn}_values "$cmdpath" "$skip")"`,
    `  elif [[ "$cur" == -* ]]; then`,
    `    candidates="$(${fn}_options "$cmdpath")"`,
    `  else`,
    `    [[ $n -eq 0 ]] && candidates="$(${fn}_commands "$cmdpath")"`,
    `    candidates="$candidates $(${fn}_values "$cmdpath" "$n")"`,
    `  fi`,
    `  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))`,
    "}",
    `complete -F ${fn} ${program}`,
    "",
  ].join("\n");
}

function zshScript(root: CommandNode, providers: string[]): string {
  const program = root.name;
  const fn = "_" + program.replaceAll("-", "_");
  const described = (entries: { path: string; items: [string, string][] }[], name: string) => [
    `${fn}_${name}() {`,
    `  case "$1" in`,
    ...entries.filter((e) => e.items.length).map((e) =>
      `    ${quote(e.path)}) print -rl -- ${
        e.items.map(([n, d]) => quote(`${n}:${d}`)).join(" ")
      } ;;`
    ),
    "  esac",
    "}",
  ];
  const all = walk(root);
  return [
    `#compdef ${program}`,
    `# zsh completion for ${program}, generated by \`${program} completion zsh\``,
    "# from its command tree. Install it with one of:",
    `#   ${program} completion zsh > "\${fpath[1]}/_${program}"   # then restart zsh`,
    `#   echo 'eval "$(${program} completion zsh)"' >> ~/.zshrc  # after compinit`,
    "",
    shTables(program, fn, root, providers),
    "",
    ...described(
      all.map(({ path, node }) => ({
        path,
        items: node.commands.map((c): [string, string] => [c.name, c.description]),
      })),
      "described_commands",
    ),
    "",
    ...described(
      all.map(({ path, node }) => ({
        path,
        items: node.options.flatMap((o) =>
          o.names.map((n): [string, string] => [n, o.description])
        ),
      })),
      "described_options",
    ),
    "",
    `${fn}_word() { print -r -- "\${words[$1]}"; }`,
    "",
    `${fn}() {`,
    `  local cur="\${words[CURRENT]}" cmdpath n skip word i first=2 last=$CURRENT`,
    shWalk(fn, "  "),
    "  local -a described values",
    `  if [[ -n "$skip" ]]; then`,
    `    values=(\${=$(${fn}_values "$cmdpath" "$skip")})`,
    `    (( \${#values} )) && compadd -- $values`,
    "    return",
    "  fi",
    `  if [[ "$cur" == -* ]]; then`,
    `    described=(\${(f)"$(${fn}_described_options "$cmdpath")"})`,
    `    (( \${#described} )) && _describe -t options option described`,
    "    return",
    "  fi",
    `  if (( n == 0 )); then`,
    `    described=(\${(f)"$(${fn}_described_commands "$cmdpath")"})`,
    `    (( \${#described} )) && _describe -t commands command described`,
    "  fi",
    `  values=(\${=$(${fn}_values "$cmdpath" "$n")})`,
    `  (( \${#values} )) && compadd -- $values`,
    "  return 0",
    "}",
    "",
    "# Autoloaded from $fpath this file is the function's body: run it. Sourced or eval'ed: register.",
    `if [[ "\${funcstack[1]}" == ${fn} ]]; then`,
    `  ${fn} "$@"`,
    `elif (( $+functions[compdef] )); then`,
    `  compdef ${fn} ${program}`,
    "else",
    `  print -u2 "${program} completion: run 'autoload -Uz compinit && compinit' before this script"`,
    "fi",
    "",
  ].join("\n");
}

function fishScript(root: CommandNode, providers: string[]): string {
  const program = root.name;
  const fn = "__" + program.replaceAll("-", "_");
  const t = tables(root);
  const sw = (name: string, arms: [string, string[]][]) => [
    `function ${fn}_${name}`,
    `    switch "$argv[1]"`,
    ...arms.filter(([, items]) => items.length).flatMap(([key, items]) => [
      `        case ${fishQuote(key)}`,
      `            printf '%s\\n' ${items.map(fishQuote).join(" ")}`,
    ]),
    "    end",
    "end",
  ];
  const all = walk(root);
  const valueArms: [string, string[]][] = t.flatMap((e) =>
    e.values.map((
      v,
    ): [string, string[]] => [`${e.path}|${v.key}`, v.providers ? providers : v.words])
  );
  return [
    `# fish completion for ${program}, generated by \`${program} completion fish\``,
    "# from its command tree. Install it with:",
    `#   ${program} completion fish > ~/.config/fish/completions/${program}.fish`,
    "",
    ...sw("commands", t.map((e) => [e.path, e.commands])),
    ...sw("valued", t.map((e) => [e.path, e.valued])),
    "# name<TAB>description lines",
    ...sw(
      "described_commands",
      all.map(({ path, node }) => [path, node.commands.map((c) => `${c.name}\t${c.description}`)]),
    ),
    ...sw(
      "described_options",
      all.map((
        { path, node },
      ) => [path, node.options.flatMap((o) => o.names.map((n) => `${n}\t${o.description}`))]),
    ),
    `function ${fn}_values`,
    `    switch "$argv[1]|$argv[2]"`,
    ...valueArms.filter(([, items]) => items.length).flatMap(([key, items]) => [
      `        case ${fishQuote(key)}`,
      `            printf '%s\\n' ${items.map(fishQuote).join(" ")}`,
    ]),
    "    end",
    "end",
    "",
    `function ${fn}_complete`,
    "    set -l tokens (commandline -opc)",
    "    set -l cur (commandline -ct)",
    `    set -l cmdpath ""`,
    "    set -l n 0",
    `    set -l skip ""`,
    "    for word in $tokens[2..-1]",
    `        if test -n "$skip"`,
    `            set skip ""`,
    "            continue",
    "        end",
    "        if string match -q -- '-*' $word",
    `            if contains -- $word (${fn}_valued "$cmdpath")`,
    "                set skip $word",
    "            end",
    `        else if test $n -eq 0; and contains -- $word (${fn}_commands "$cmdpath")`,
    `            set cmdpath (string trim -- "$cmdpath $word")`,
    "        else",
    "            set n (math $n + 1)",
    "        end",
    "    end",
    `    if test -n "$skip"`,
    `        ${fn}_values "$cmdpath" $skip`,
    "    else if string match -q -- '-*' $cur",
    `        ${fn}_described_options "$cmdpath"`,
    "    else",
    "        if test $n -eq 0",
    `            ${fn}_described_commands "$cmdpath"`,
    "        end",
    `        ${fn}_values "$cmdpath" $n`,
    "    end",
    "end",
    "",
    `complete -c ${program} -f -a '(${fn}_complete)'`,
    "",
  ].join("\n");
}

/** The completion script for `shell`, for the tree under `root`, completing `providers`. */
export function completionScript(shell: Shell, root: CommandNode, providers: string[]): string {
  switch (shell) {
    case "bash":
      return bashScript(root, providers);
    case "zsh":
      return zshScript(root, providers);
    case "fish":
      return fishScript(root, providers);
  }
}

/** Provider ids and aliases to complete: built-in, then config.yaml's (the usable ones). */
export async function providerWords(ctx: Pick<Context, "env">): Promise<string[]> {
  const { providers } = await knownProvidersChecked(ctx);
  return [...new Set(providers.flatMap((p) => [p.id, ...p.aliases]))];
}

/**
 * Run `completion <shell>`: the script on stdout (also with --json: a
 * script is the data). An unknown shell is a usage error.
 */
export async function completion(ctx: Context, shell: string, program: Command): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw usageError(`no completion for "${shell}"`, `choose one of: ${SHELLS.join(", ")}`);
  }
  let providers: string[];
  try {
    providers = await providerWords(ctx);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    // An unreadable home must not stop completion of the commands themselves.
    providers = [];
  }
  ctx.out.raw(completionScript(shell as Shell, commandTree(program), providers).trimEnd());
  return Exit.OK;
}
