/**
 * `hermes-auth completion bash|zsh|fish`: scripts generated from the command
 * tree, completing commands, subcommands, options, provider ids and aliases
 * (custom ones from config.yaml too) and `choices`. Each script is loaded in
 * its real shell where that shell is installed, and asked what it completes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Command } from "commander";
import { commandTree, completionScript } from "../../lib/cli/completion.ts";
import { runCommand } from "./fake_context.ts";

function installed(shell: string): boolean {
  try {
    return new Deno.Command(shell, { args: ["-c", "exit 0"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const has = { bash: installed("bash"), zsh: installed("zsh"), fish: installed("fish") };
for (const [shell, ok] of Object.entries(has)) {
  // deno-lint-ignore no-console -- the reason a test is skipped must be visible
  if (!ok) console.log(`completion_test: ${shell} is not installed, its tests are skipped`);
}

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-completion-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `hermes-auth completion <shell>` in `home`, saved to a file; returns its path. */
async function script(home: string, shell: string): Promise<string> {
  const result = await runCommand(["completion", shell], { env: { HERMES_HOME: home } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const path = join(home, `completion.${shell}`);
  await Deno.writeTextFile(path, result.stdout);
  return path;
}

async function sh(shell: string, code: string): Promise<string> {
  const out = await new Deno.Command(shell, {
    args: ["-c", code],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `${shell} failed: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

/** What bash completes for the words (the last one is the word under the cursor). */
async function bashComplete(path: string, words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const out = await sh(
    "bash",
    `source '${path}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; ` +
      `_hermes_auth; printf '%s\\n' "\${COMPREPLY[@]}"`,
  );
  return out.split("\n").filter(Boolean);
}

const CONFIG = `oauth_providers:
  my-idp:
    issuer: https://idp.example.com
    scopes: [openid]
    aliases: [idp]
`;

Deno.test({
  name: "bash: the script loads, registers itself, and completes commands and subcommands",
  ignore: !has.bash,
  async fn() {
    await withHome(async (home) => {
      const path = await script(home, "bash");
      await sh("bash", `bash -n '${path}'`);
      assert.equal(
        (await sh("bash", `source '${path}'; complete -p hermes-auth`)).trim(),
        "complete -F _hermes_auth hermes-auth",
      );
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "lo"]), ["logout"]);
      assert.ok((await bashComplete(path, ["hermes-auth", ""])).includes("completion"));
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "config", ""]), [
        "get",
        "set",
        "help",
      ]);
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "completion", ""]), [
        "bash",
        "zsh",
        "fish",
      ]);
    });
  },
});

Deno.test({
  name:
    "bash: provider ids and aliases, custom ones from config.yaml included, where a provider goes",
  ignore: !has.bash,
  async fn() {
    await withHome(async (home) => {
      await Deno.writeTextFile(join(home, "config.yaml"), CONFIG);
      const path = await script(home, "bash");
      const providers = await bashComplete(path, ["hermes-auth", "token", ""]);
      for (const name of ["xai-oauth", "grok-oauth", "x-ai-oauth", "xai-grok-oauth", "spotify"]) {
        assert.ok(providers.includes(name), name);
      }
      assert.ok(providers.includes("my-idp") && providers.includes("idp"), providers.join(" "));
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "add", "gr"]), ["grok-oauth"]);
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "model", "--provider", "sp"]), [
        "spotify",
      ]);
      // A provider already given: `remove`'s second argument is not a provider.
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "remove", "spotify", ""]), []);
      // An option's value is skipped when counting arguments.
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "add", "--port", "80", "sp"]), [
        "spotify",
      ]);
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "add", "--port", ""]), []);
    });
  },
});

Deno.test({
  name: "bash: options of the command being typed, not of another",
  ignore: !has.bash,
  async fn() {
    await withHome(async (home) => {
      const path = await script(home, "bash");
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "add", "--man"]), [
        "--manual-paste",
      ]);
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "token", "--"]), [
        "--account",
        "--json",
        "--help",
      ]);
      assert.deepEqual(await bashComplete(path, ["hermes-auth", "token", "--man"]), []);
    });
  },
});

Deno.test("the script follows the command tree: a command added there completes with no other change", () => {
  const program = new Command("hermes-auth");
  program.command("frobnicate").description("a new command")
    .argument("<provider>", "provider").option("--level <n>", "how much");
  const text = completionScript("bash", commandTree(program), ["xai-oauth"]);
  assert.match(text, /\n {4}''\) echo 'frobnicate help' ;;\n/);
  assert.match(text, /'frobnicate\|0'\) echo "\$_hermes_auth_providers" ;;/);
  assert.match(text, /'frobnicate'\) echo '--level' ;;/);
});

Deno.test({
  name: "zsh: the script parses, and its function offers commands, options and providers",
  ignore: !has.zsh,
  async fn() {
    await withHome(async (home) => {
      const path = await script(home, "zsh");
      await sh("zsh", `zsh -n '${path}'`);
      // The completion system's builtins stubbed to print what they are given.
      const ask = (words: string[]) =>
        sh(
          "zsh",
          `source '${path}' 2>/dev/null; ` +
            `_describe() { local -a a; a=("\${(@P)\${@[-1]}}"); print -rl -- "\${a[@]}"; }; ` +
            `compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }; ` +
            `words=(${
              words.map((w) => `'${w}'`).join(" ")
            }); CURRENT=${words.length}; _hermes_auth`,
        );
      const top = await ask(["hermes-auth", ""]);
      assert.match(top, /^add:log in to a provider and store the credential$/m);
      assert.match(top, /^completion:print a shell completion script/m);
      assert.match(await ask(["hermes-auth", "add", "--"]), /^--device-code:use the device/m);
      const providers = (await ask(["hermes-auth", "logout", ""])).split("\n");
      assert.ok(providers.includes("spotify") && providers.includes("grok-oauth"));
      assert.equal(
        (await sh(
          "zsh",
          `autoload -Uz compinit && compinit -u -d '${home}/zcd'; ` +
            `source '${path}'; print -r -- \${_comps[hermes-auth]}`,
        )).trim(),
        "_hermes_auth",
      );
    });
  },
});

Deno.test({
  name: "fish: the script parses, and `complete -C` completes commands, options and providers",
  ignore: !has.fish,
  async fn() {
    await withHome(async (home) => {
      await Deno.writeTextFile(join(home, "config.yaml"), CONFIG);
      const path = await script(home, "fish");
      await sh("fish", `fish -n '${path}'`);
      const ask = async (line: string) =>
        (await sh("fish", `source '${path}'; complete -C '${line}'`)).split("\n").filter(Boolean);
      assert.ok(
        (await ask("hermes-auth ")).includes("add\tlog in to a provider and store the credential"),
      );
      assert.deepEqual(await ask("hermes-auth config s"), [
        "set\tset a value, keeping comments and order, e.g. `config set model.default grok-4.3`",
      ]);
      assert.deepEqual(await ask("hermes-auth add --dev"), [
        "--device-code\tuse the device authorization grant (RFC 8628); the default on a remote session",
      ]);
      const providers = await ask("hermes-auth refresh ");
      assert.ok(providers.includes("xai-oauth") && providers.includes("idp"), providers.join(" "));
      assert.deepEqual(await ask("hermes-auth completion z"), ["zsh"]);
    });
  },
});
