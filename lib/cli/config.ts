/**
 * `hermes-auth config get <key>` and `hermes-auth config set <key> <value>`:
 * read and edit `$HERMES_HOME/config.yaml` by dotted key, keeping the file's
 * comments, order and formatting (see lib/store/config.ts).
 *
 * @module
 */
import { AuthError, Exit } from "../errors.ts";
import {
  configFilePath,
  formatConfigValue,
  getConfigValue,
  parseScalar,
  readConfig,
  splitConfigKey,
  updateConfig,
} from "../store/config.ts";
import { hermesHome } from "../store/paths.ts";
import { loadYaml } from "../store/yaml.ts";
import { type Context, lockWaitOptions } from "./context.ts";

const { stringify } = await loadYaml();

/** Options of `config get` and `config set`, as commander hands them over. */
export interface ConfigOptions {
  json?: boolean;
}

/**
 * `config get <key>`: the value on stdout. Strings print as they are (no
 * quotes), other scalars as YAML writes them (`3`, `true`, `.inf`), maps and
 * sequences as a YAML block. With `--json`: `{"key": …, "value": …}`.
 *
 * Like `gh config get`, a key that is set but empty (`key:` or `key: ""`)
 * prints nothing and exits 0, while a key that is not in the file at all is
 * an error: AuthError `config_key_missing`, exit 1, so that
 * `value=$(hermes-auth config get model.default) || …` can tell the two apart.
 * A malformed key is a usage error (exit 2).
 */
export async function configGet(ctx: Context, key: string, _opts: ConfigOptions): Promise<number> {
  splitConfigKey(key);
  const home = hermesHome(ctx.env);
  const value = getConfigValue(await readConfig(home), key);
  if (value === undefined) {
    throw new AuthError("config_key_missing", `config key "${key}" is not set`, {
      exit: Exit.FAILURE,
      fix: `Set it with \`hermes-auth config set ${key} <value>\` (file: ${configFilePath(home)}).`,
    });
  }
  if (ctx.out.json) {
    ctx.out.result({ key, value });
  } else if (value !== null && value !== "") {
    ctx.out.data(humanValue(value));
  }
  return Exit.OK;
}

/**
 * `config set <key> <value>`: the value is read as a YAML 1.2 scalar
 * (`3` a number, `true` a boolean, `null` null, `"3"` the string 3, anything
 * else text; see {@link parseScalar}) and written under the store lock,
 * creating the maps on the way. Human output `✓ Set model.default to
 * grok-4.3 in <path>`; with `--json` `{"key", "value", "path"}`.
 */
export async function configSet(
  ctx: Context,
  key: string,
  value: string,
  _opts: ConfigOptions,
): Promise<number> {
  splitConfigKey(key);
  const parsed = parseScalar(value);
  const home = hermesHome(ctx.env);
  await updateConfig(home, { [key]: parsed }, lockWaitOptions(ctx));
  const path = configFilePath(home);
  if (ctx.out.json) ctx.out.result({ key, value: parsed, path });
  else ctx.out.success(`Set ${key} to ${formatConfigValue(parsed)} in ${path}`);
  return Exit.OK;
}

function humanValue(value: unknown): string {
  if (typeof value === "string") return value;
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, "");
}
