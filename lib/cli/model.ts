/**
 * `hermes-auth model`: choose the provider and model Hermes uses, and write
 * them to config.yaml (`model.provider`, `model.default`, `model.base_url`)
 * as Hermes's own picker does, also marking the provider active in
 * auth.json (Hermes's `_update_config_for_provider`).
 *
 * On a terminal with no flags it asks: first the provider (by display name;
 * only providers with a model catalogue are offered), then — when that
 * provider has no usable credential — whether to log in now (the `add`
 * flow), then the model: the provider's default pinned first, followed by
 * the models.dev catalogue Hermes caches in `$HERMES_HOME/models_dev_cache.json`
 * when there is one (see lib/store/models_dev.ts), else the built-in list.
 * The prompts are @inquirer/prompts on stderr, so stdout stays clean.
 *
 * For scripts: `--provider ID` and/or `--model NAME` never prompt. Without
 * `--provider` the active provider is kept (HERMES_INFERENCE_PROVIDER, then
 * config.yaml, then auth.json); without `--model` the provider's default is
 * taken. A model missing from the catalogue is written anyway, with a
 * warning: new models appear before any list knows them.
 *
 * @module
 */
import process from "node:process";
import { AuthError, Exit, isAuthError, usageError } from "../errors.ts";
import type { ProviderSpec } from "../providers/types.ts";
import { resolveActiveProvider } from "../store/active_provider.ts";
import { type AuthFile, readAuthFile } from "../store/auth_store.ts";
import { configFilePath, getConfigValue, readConfig, updateConfig } from "../store/config.ts";
import { isUsable, pickCredential } from "../store/credentials.ts";
import { modelChoices } from "../store/models_dev.ts";
import { hermesHome } from "../store/paths.ts";
import { writeAuth } from "./auth_write.ts";
import { type Context, lockWaitOptions } from "./context.ts";
import { allKnownProviders, providerNamed } from "./providers.ts";

/** Options of `model`, as commander hands them over. */
export interface ModelOptions {
  provider?: string;
  model?: string;
  json?: boolean;
}

/** One entry of a picker. */
export interface PromptChoice<T extends string> {
  name: string;
  value: T;
  description?: string;
}

/** The questions `model` asks on a terminal; tests pass a scripted one. */
export interface Prompter {
  select<T extends string>(
    message: string,
    choices: PromptChoice<T>[],
    defaultValue?: T,
  ): Promise<T>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

/** Run `model` with the real terminal picker; returns the exit code. */
export function model(ctx: Context, opts: ModelOptions): Promise<number> {
  return modelWith(ctx, opts, inquirerPrompter(ctx));
}

/**
 * `model` with the given {@link Prompter} (used only on a terminal without
 * flags). Exit codes: 0 saved; 2 unknown provider or alias, a provider
 * without models, or no terminal and no flags; 130 when the picker is
 * cancelled (Ctrl-C); a login's own codes when one was started and
 * failed. With `--json`: `{"provider", "model", "base_url", "path",
 * "logged_in", "overridden_by"}`.
 */
export async function modelWith(
  ctx: Context,
  opts: ModelOptions,
  prompter: Prompter,
): Promise<number> {
  const home = hermesHome(ctx.env);
  const scripted = opts.provider !== undefined || opts.model !== undefined;
  if (!scripted && !ctx.stdinIsTerminal) {
    throw usageError(
      "`model` needs a terminal to ask, or --provider and --model to be told.",
      "e.g. hermes-auth model --provider xai-oauth --model grok-4.3",
    );
  }
  const known = await allKnownProviders(ctx);
  const offered = known.filter((p) => p.models !== undefined);
  const current = await currentChoice(ctx, home, known);
  let provider: ProviderSpec;
  let chosen: string;
  let loggedIn: boolean;
  if (scripted) {
    provider = opts.provider !== undefined
      ? inferenceProvider(await providerNamed(ctx, opts.provider), offered)
      : providerFromCurrent(current.provider, offered);
    const { models } = await modelChoices(home, provider);
    chosen = opts.model?.trim() || provider.models!.defaultModel;
    if (!models.includes(chosen)) {
      ctx.out.warn(`${chosen} is not among the known ${provider.id} models; writing it anyway.`);
    }
    loggedIn = await hasUsableLogin(ctx, home, provider);
    if (!loggedIn) {
      ctx.out.warn(
        `Not logged in to ${provider.displayName}: run \`hermes-auth add ${provider.id}\` before using it.`,
      );
    }
  } else {
    ({ provider, model: chosen, loggedIn } = await pick(ctx, home, prompter, current, offered));
  }
  return await save(ctx, home, provider, chosen, loggedIn);
}

/** What config.yaml and the environment select today. */
interface CurrentChoice {
  provider: string | null;
  model: string | null;
}

async function currentChoice(
  ctx: Context,
  home: string,
  known: ProviderSpec[],
): Promise<CurrentChoice> {
  const doc = await readConfig(home);
  const { data } = await readAuthFile(home);
  const active = resolveActiveProvider({
    env: ctx.env,
    configProvider: getConfigValue(doc, "model.provider"),
    authActive: data.active_provider,
    extra: known,
  });
  const model = getConfigValue(doc, "model.default");
  return { provider: active.id, model: typeof model === "string" ? model : null };
}

function inferenceProvider(provider: ProviderSpec, offered: ProviderSpec[]): ProviderSpec {
  if (provider.models) return provider;
  throw usageError(
    `${provider.displayName} is not a model provider: Hermes does not send prompts to it.`,
    `Choose one of: ${offered.map((p) => p.id).join(", ")}`,
  );
}

function providerFromCurrent(id: string | null, offered: ProviderSpec[]): ProviderSpec {
  const provider = offered.find((p) => p.id === id);
  if (provider) return provider;
  throw usageError(
    id
      ? `The active provider "${id}" is not one this program configures; say which to use.`
      : "No provider is selected yet; say which to use.",
    `Pass --provider, one of: ${offered.map((p) => p.id).join(", ")}`,
  );
}

async function pick(
  ctx: Context,
  home: string,
  prompter: Prompter,
  current: CurrentChoice,
  providers: ProviderSpec[],
): Promise<{ provider: ProviderSpec; model: string; loggedIn: boolean }> {
  const { data } = await readAuthFile(home);
  const providerId = await prompter.select(
    "Which provider should Hermes use?",
    providers.map((p) => ({
      name: p.displayName + (p.id === current.provider ? " (current)" : ""),
      value: p.id,
      description: usable(data, p, ctx.now()) ? `${p.id}: logged in` : `${p.id}: not logged in`,
    })),
    providers.some((p) => p.id === current.provider) ? current.provider! : undefined,
  );
  const provider = providers.find((p) => p.id === providerId)!;

  let loggedIn = usable(data, provider, ctx.now());
  let loggedInNow = false;
  if (!loggedIn) {
    const login = await prompter.confirm(
      `You are not logged in to ${provider.displayName}. Log in now?`,
      true,
    );
    if (login) {
      // The picker reads the terminal through node's process.stdin. A Deno.stdin read that the
      // login's paste prompt leaves pending cannot be cancelled and would swallow the next key
      // press, so the login reads the same process.stdin and lets go of it cleanly.
      const loginCtx: Context = { ...ctx, stdin: processStdin };
      const code = await (await import("./add.ts")).add(loginCtx, provider.id, {});
      if (code !== Exit.OK) throw new AuthError("login_failed", "The login did not finish.");
      loggedIn = true;
      loggedInNow = true;
    } else {
      ctx.out.warn(`Run \`hermes-auth add ${provider.id}\` before using it.`);
    }
  }

  const { models, source } = await modelChoices(home, provider);
  const pinned = provider.models!.defaultModel;
  const model = await keptOnCancel(provider, loggedInNow, () =>
    prompter.select(
      `Which ${provider.displayName} model?` +
        (source === "models.dev" ? " (from the models.dev cache)" : ""),
      models.map((m) => ({
        name: m + (m === pinned ? " (default)" : "") +
          (m === current.model && provider.id === current.provider ? " (current)" : ""),
        value: m,
      })),
      provider.id === current.provider && current.model && models.includes(current.model)
        ? current.model
        : pinned,
    ));
  return { provider, model, loggedIn };
}

/**
 * Ask, and when a login was just stored and the question is cancelled, say
 * so: "nothing was changed" would be untrue, the new credential is kept.
 */
async function keptOnCancel<T>(
  provider: ProviderSpec,
  loggedInNow: boolean,
  ask: () => Promise<T>,
): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if (!loggedInNow || !isAuthError(error, "interrupted")) throw error;
    throw new AuthError(
      "interrupted",
      `Cancelled: the new ${provider.displayName} login is stored in auth.json, ` +
        "but config.yaml was not changed.",
      {
        exit: Exit.INTERRUPTED,
        fix: `Run \`hermes-auth model\` again to choose the model (no new login needed), or ` +
          `\`hermes-auth logout ${provider.id}\` to drop the login.`,
      },
    );
  }
}

async function hasUsableLogin(ctx: Context, home: string, provider: ProviderSpec) {
  return usable((await readAuthFile(home)).data, provider, ctx.now());
}

/** A credential `token` could use now (valid, or refreshable), as `status` judges it. */
function usable(data: AuthFile, provider: ProviderSpec, now: Date): boolean {
  const picked = pickCredential(data, provider, now);
  return picked !== null && isUsable(picked.login, now);
}

/** The inference base URL: `XAI_BASE_URL` (the provider's variable) when set, else the default. */
export function baseUrlFor(provider: ProviderSpec, env: Context["env"]): string {
  const models = provider.models!;
  const override = models.baseUrlEnv ? env(models.baseUrlEnv)?.trim() : undefined;
  return override || models.baseUrl;
}

async function save(
  ctx: Context,
  home: string,
  provider: ProviderSpec,
  chosen: string,
  loggedIn: boolean,
): Promise<number> {
  const baseUrl = baseUrlFor(provider, ctx.env);
  await updateConfig(home, {
    "model.provider": provider.id,
    "model.default": chosen,
    "model.base_url": baseUrl,
  }, lockWaitOptions(ctx));
  if ((await readAuthFile(home)).data.active_provider !== provider.id) {
    await writeAuth(ctx, home, (data) => {
      data.active_provider = provider.id;
    });
  }
  const forcedRaw = ctx.env("HERMES_INFERENCE_PROVIDER");
  const forced = resolveActiveProvider({
    env: ctx.env,
    configProvider: provider.id,
    authActive: null,
  });
  const overriddenBy = forced.overridesConfig ? forced.id : null;

  const out = ctx.out;
  const path = configFilePath(home);
  out.success(`Hermes will use ${chosen} from ${provider.displayName}`);
  out.info(out.style.dim(`model.provider: ${provider.id}`));
  out.info(out.style.dim(`model.default:  ${chosen}`));
  out.info(out.style.dim(`model.base_url: ${baseUrl}`));
  out.info(out.style.dim(`Saved to ${path}`));
  if (overriddenBy) {
    out.warn(
      `HERMES_INFERENCE_PROVIDER=${forcedRaw} is set and overrides this at run time ` +
        `(Hermes will use ${overriddenBy}); unset it to use ${provider.id}.`,
    );
  }
  out.result({
    provider: provider.id,
    model: chosen,
    base_url: baseUrl,
    path,
    logged_in: loggedIn,
    overridden_by: overriddenBy,
  });
  return Exit.OK;
}

/** @inquirer/prompts on stderr; Ctrl-C (or an abort of `ctx.signal`) becomes AuthError `interrupted` (exit 130). */
export function inquirerPrompter(ctx: Context): Prompter {
  const context = { output: process.stderr, signal: ctx.signal, clearPromptOnDone: false };
  async function guarded<T>(ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch (error) {
      const name = (error as Error)?.name;
      if (name === "ExitPromptError" || name === "AbortPromptError") {
        throw new AuthError("interrupted", "Cancelled: nothing was changed.", {
          exit: Exit.INTERRUPTED,
        });
      }
      throw error;
    }
  }
  return {
    async select(message, choices, defaultValue) {
      const { select } = await import("@inquirer/prompts");
      return await guarded(() =>
        select({ message, choices, default: defaultValue, pageSize: 12 }, context)
      );
    },
    async confirm(message, defaultValue) {
      const { confirm } = await import("@inquirer/prompts");
      return await guarded(() => confirm({ message, default: defaultValue }, context));
    },
  };
}

/**
 * node's process.stdin as a byte stream for the login's paste prompt;
 * cancelling it detaches and pauses, leaving unread input to the picker.
 */
function processStdin(): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let onData: (chunk: Uint8Array | string) => void = () => {};
  let onEnd: () => void = () => {};
  const detach = () => {
    process.stdin.off("data", onData);
    process.stdin.off("end", onEnd);
    process.stdin.pause();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onData = (chunk) =>
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk.slice());
      onEnd = () => {
        detach();
        controller.close();
      };
      process.stdin.on("data", onData);
      process.stdin.on("end", onEnd);
      process.stdin.resume();
    },
    cancel() {
      detach();
    },
  });
}
