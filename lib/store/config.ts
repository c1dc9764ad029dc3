/**
 * `$HERMES_HOME/config.yaml`, the file Hermes reads its model and options
 * from. It belongs to the user: it has comments, an order and keys this
 * program has never heard of, so an edit changes the lines it must and not
 * a byte more.
 *
 * How an edit works: the yaml Document API is the model of what the file
 * means. Every edit is applied to the parsed document (the reference), and
 * also spliced into the text at the node's source range (the new value after
 * `key: `, a new `key: value` line after the map's last entry, a pair's lines
 * removed). The spliced text is written only when it parses to exactly the
 * data of the reference; otherwise (flow maps like `{a: 1}`, explicit keys,
 * tags, anchors) the reference is printed whole, which keeps the comments and
 * key order but may re-space or re-indent other lines. Nothing is written
 * that does not parse back to the intended data.
 *
 * Hermes reads the file with PyYAML (YAML 1.1), this module with YAML 1.2.
 * Every string this module writes is therefore quoted when YAML 1.1 would
 * read it as something else (`yes`, `on`, `0123`, `2025-01-01`, `1:30`), so
 * both read the same value.
 *
 * @module
 */

import { join } from "./path.ts";
import { isDeepStrictEqual } from "node:util";
import type * as Yaml from "yaml";
import type { Document, Node, ParsedNode } from "yaml";
import { AuthError, Exit, usageError } from "../errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "./atomic.ts";
import { guardWrite, isFsError, readError } from "./fs_errors.ts";
import { type HeldLock, type Interrupt, type LockWait, withLock } from "./lock.ts";
import { lockFilePath } from "./paths.ts";
import { loadYaml } from "./yaml.ts";

// yaml's ES module build (lib/store/yaml.ts); its classes are used as types too.
const {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Pair,
  parse,
  parseDocument,
  Scalar,
  visit,
  YAMLMap,
} = await loadYaml();
type LineCounter = Yaml.LineCounter;
type Pair = Yaml.Pair;
type Scalar = Yaml.Scalar;
type YAMLMap = Yaml.YAMLMap;

/** `<home>/config.yaml`. */
export function configFilePath(home: string): string {
  return join(home, "config.yaml");
}

/**
 * Split a dotted key (`model.default`) into its names. Each name must be
 * non-empty, without leading or trailing blanks or control characters;
 * otherwise a usage error (exit 2) with an example. A name cannot contain a
 * dot: keys with dots inside cannot be addressed.
 */
export function splitConfigKey(key: string): string[] {
  const segments = key.split(".");
  const bad = segments.find((s) => s === "" || s.trim() !== s || /\p{Cc}/u.test(s));
  if (bad !== undefined) {
    const why = bad === "" ? "has an empty name" : "has a name with blanks or control characters";
    throw usageError(
      `invalid config key ${JSON.stringify(key)}: it ${why}`,
      "Use dot-separated names, e.g. `model.default` or `model.base_url`.",
    );
  }
  return segments;
}

const PARSE_OPTIONS = { version: "1.2", prettyErrors: true, logLevel: "silent" } as const;
const PRINT_OPTIONS = { lineWidth: 0, indent: 2 } as const;

/** config.yaml as read from disk. */
interface LoadedConfig {
  /** The text, or undefined when there is no file. */
  text?: string;
  doc: Document.Parsed<ParsedNode>;
  /** Permission bits of the existing file (undefined when missing or unknown). */
  mode?: number;
}

/**
 * Parse `$HERMES_HOME/config.yaml`; a missing file is an empty document.
 * Throws AuthError `config_invalid` (exit 1) for text that is not UTF-8 or
 * not YAML, naming the file, line and column, and `config_unreadable` when
 * the file exists but cannot be read.
 */
export async function readConfig(home: string): Promise<Document> {
  return (await loadConfig(configFilePath(home), home)).doc;
}

/**
 * The value at a dotted key, as plain JS (maps become objects, sequences
 * arrays, aliases are followed); undefined when the key, or a map on the way
 * to it, is absent. A key that is present with an empty value gives null.
 * Throws a usage error for a malformed key (see {@link splitConfigKey}).
 */
export function getConfigValue(doc: Document, key: string): unknown {
  let node: unknown = doc.contents;
  for (const segment of splitConfigKey(key)) {
    if (isAlias(node)) node = node.resolve(doc);
    if (!isMap(node)) return undefined;
    const pair = findPair(node, segment);
    if (!pair) return undefined;
    node = pair.value;
  }
  if (node === null || node === undefined) return null;
  return (node as Node).toJS(doc);
}

/** Line positions of the documents {@link readConfig} parsed, for {@link configLine}. */
const lineCounters = new WeakMap<Document, LineCounter>();

/**
 * The 1-based line of config.yaml where the node at `path` (map keys and
 * sequence indexes, e.g. `["oauth_providers", "my-idp", "scopes", 1]`)
 * starts, or of the deepest part of the path that exists; undefined for a
 * document {@link readConfig} did not parse.
 */
export function configLine(doc: Document, path: (string | number)[]): number | undefined {
  const counter = lineCounters.get(doc);
  if (!counter) return undefined;
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (typeof segment === "number" && isSeq(node)) {
      node = node.items[segment];
      offset = (node as Node | undefined)?.range?.[0] ?? offset;
    } else if (typeof segment === "string" && isMap(node)) {
      const pair = findPair(node, segment);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else {
      break;
    }
    if (node === undefined) break;
  }
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

/**
 * Read a command-line value the way YAML 1.2 (core schema) reads a plain
 * scalar: `3`, `-7`, `0x1f`, `0o17` are integers; `1.5`, `1e3`, `.inf`,
 * `.nan` numbers; `true`/`false` (also `True`, `TRUE`…) booleans;
 * `null`, `Null`, `NULL` and `~` null. A single- or double-quoted scalar
 * (`"3"`, `'true'`) is the string inside the quotes. Anything else is the
 * text itself, unchanged (`yes` and `on` are strings in YAML 1.2).
 *
 * Two exceptions to YAML: the empty text is the empty string (not null), and
 * an integer beyond 2^53 stays a string rather than lose digits.
 */
export function parseScalar(text: string): unknown {
  if (/^(?:null|Null|NULL|~)$/.test(text)) return null;
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (/^0o[0-7]+$/.test(text)) return safeInteger(parseInt(text.slice(2), 8), text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return safeInteger(parseInt(text.slice(2), 16), text);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(text)) return NaN;
  if (/^(?:"[^]*"|'[^]*')$/.test(text)) {
    const doc = parseDocument(text, PARSE_OPTIONS);
    const node = doc.contents;
    if (
      doc.errors.length === 0 && isScalar(node) && !node.comment &&
      typeof node.value === "string" &&
      (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE)
    ) {
      return node.value;
    }
  }
  return text;
}

function safeInteger(n: number, text: string): number | string {
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * A value as {@link updateConfig} writes it, on one line: `grok-4.3`,
 * `"3"` (a string that would read as a number), `true`, `null`, `1.5`.
 */
export function formatConfigValue(value: unknown): string {
  return renderFlat(valueNode(value));
}

/** Options of {@link updateConfig}. */
export interface UpdateConfigOptions {
  /** Dotted keys to delete after the edits; absent keys are ignored. */
  remove?: string[];
  /** The auth.lock the caller holds (from {@link withLock}): join it instead of waiting. */
  lock?: HeldLock;
  /** Stop waiting for auth.lock when this aborts (Ctrl-C): AuthError `interrupted`. */
  signal?: Interrupt;
  /** Called once after about a second of waiting for auth.lock (the CLI says who holds it). */
  onLockWait?: (wait: LockWait) => void;
}

/**
 * Set dotted keys (`{"model.default": "grok-4.3"}`) and remove others in one
 * read-modify-write of config.yaml, under the auth store lock
 * (`$HERMES_HOME/auth.lock`, see lib/store/lock.ts) and written atomically.
 * Comments, key order, formatting and keys not named are kept (see the
 * module doc). Maps on the way are created when missing or empty (`model:`
 * with no value); a map emptied by a removal stays as `{}`. Values are
 * scalars, arrays or plain objects.
 *
 * A created file is mode 0600 in a directory created 0700; an existing file
 * keeps its mode. The written file ends with a newline. Nothing is written
 * when nothing changes.
 *
 * Throws AuthError: `usage` (exit 2) for a malformed key; `config_not_a_map`
 * (exit 2) when a key goes through a scalar, a sequence or an alias;
 * `config_invalid` / `config_unreadable` for a file that cannot be used,
 * which is then left byte-identical; `auth_write_failed` (the one error of
 * every write under HERMES_HOME, lib/store/fs_errors.ts) when the file or
 * the lock cannot be written, leaving no partial file behind.
 */
export async function updateConfig(
  home: string,
  edits: Record<string, unknown>,
  options: UpdateConfigOptions = {},
): Promise<void> {
  const path = configFilePath(home);
  const steps: Step[] = [
    ...Object.entries(edits).map(([key, value]): Step => {
      if (value === undefined) throw new TypeError(`updateConfig: no value for "${key}"`);
      return { key, segments: splitConfigKey(key), value, remove: false };
    }),
    ...(options.remove ?? []).map((key): Step => ({
      key,
      segments: splitConfigKey(key),
      remove: true,
    })),
  ];
  await guardWrite(home, lockFilePath(home), () =>
    withLock(lockFilePath(home), async () => {
      const loaded = await loadConfig(path, home);
      const next = editConfig(loaded, steps, path);
      if (next === (loaded.text ?? "")) return;
      await guardWrite(home, path, async () => {
        await ensurePrivateDir(home);
        // Under auth.lock, which every config.yaml writer holds: stale temps are the dead's.
        await writeFileAtomic(path, next, { mode: loaded.mode ?? 0o600, removeStaleTemps: true });
      });
    }, { lock: options.lock, signal: options.signal, onWait: options.onLockWait }));
}

/** One edit: set `value` at `segments`, or remove them. */
interface Step {
  key: string;
  segments: string[];
  value?: unknown;
  remove: boolean;
}

async function loadConfig(path: string, home: string): Promise<LoadedConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { doc: parseDocument("", PARSE_OPTIONS) };
    }
    if (!isFsError(error)) throw error;
    throw await readError("config_unreadable", home, path, error);
  }
  let text: string;
  try {
    // Keep a byte-order mark: it is part of the user's bytes and yaml skips it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new AuthError("config_invalid", `${path} is not UTF-8 text.`, {
      fix: `Convert ${path} to UTF-8 (e.g. iconv -t UTF-8), then retry.`,
      cause: error,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  lineCounters.set(doc, lineCounter);
  const [first] = doc.errors;
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    const reason = first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new AuthError("config_invalid", `Invalid YAML in ${path}${where}: ${reason}`, {
      fix: `Fix ${pos ? `line ${pos.line} of ` : ""}${path} (or move it aside to start afresh), ` +
        "then retry.",
      cause: first,
    });
  }
  let mode: number | undefined;
  try {
    mode = (await Deno.stat(path)).mode ?? undefined;
  } catch {
    // Unknown mode: a rewrite falls back to 0600.
  }
  return { text, doc, mode: mode === undefined ? undefined : mode & 0o777 };
}

/** Apply the steps; returns the new text (which may equal the old one). */
function editConfig(loaded: LoadedConfig, steps: Step[], path: string): string {
  const original = loaded.text ?? "";
  const reference = loaded.doc;
  if (reference.contents !== null && !isMap(reference.contents)) {
    if (steps.length === 0) return original;
    throw new AuthError(
      "config_invalid",
      `${path} holds ${describe(reference.contents)} at the top level, not a map of settings.`,
      { fix: `Make ${path} a map of keys (e.g. \`model:\`), or move it aside, then retry.` },
    );
  }

  let text: string | undefined = original;
  for (const step of steps) {
    if (step.remove) removeFromDocument(reference, step);
    else setInDocument(reference, step, path);
    text = text === undefined ? undefined : splice(text, step);
  }

  let expected: unknown;
  try {
    expected = dataOf(reference);
  } catch (error) {
    // e.g. a removed `&anchor` that an `*alias` elsewhere still names.
    throw new AuthError(
      "config_edit_refused",
      `Cannot make this change to ${path}: ${(error as Error).message}`,
      {
        exit: Exit.USAGE,
        fix: `Make the change by hand in ${path}.`,
        cause: error,
      },
    );
  }
  if (text !== undefined) {
    // Nothing to change (a value set to what it was, a key already absent).
    if (text === original && parsesTo(text, expected)) return original;
    text = withFinalNewline(text);
    if (parsesTo(text, expected)) return text;
  }
  // The splice could not express this edit; print the edited document whole.
  const whole = reference.contents === null ? "" : reference.toString(PRINT_OPTIONS);
  if (parsesTo(whole, expected)) return whole;
  throw new Error(`editing ${path} produced YAML that does not read back as intended`);
}

function dataOf(doc: Document): unknown {
  return doc.contents === null ? {} : doc.toJS();
}

function parsesTo(text: string, expected: unknown): boolean {
  const doc = parseDocument(text, PARSE_OPTIONS);
  return doc.errors.length === 0 && isDeepStrictEqual(dataOf(doc), expected);
}

function withFinalNewline(text: string): string {
  if (text === "" || text.endsWith("\n")) return text;
  return text + eolOf(text);
}

// ---- the reference: the edit on the Document ----

function setInDocument(doc: Document, step: Step, path: string): void {
  if (doc.contents === null) doc.contents = new YAMLMap();
  let map = doc.contents as YAMLMap;
  const { segments } = step;
  for (let i = 0; i < segments.length; i++) {
    const pair = findPair(map, segments[i]);
    if (!pair) {
      map.items.push(
        new Pair(keyNode(segments[i]), valueNode(nest(segments.slice(i + 1), step.value))),
      );
      return;
    }
    if (i === segments.length - 1) {
      pair.value = keepAnchor(pair.value, valueNode(step.value));
      return;
    }
    if (isMap(pair.value)) {
      map = pair.value;
    } else if (isEmpty(pair.value)) {
      pair.value = keepAnchor(pair.value, valueNode(nest(segments.slice(i + 1), step.value)));
      return;
    } else {
      throw notAMap(step.key, segments.slice(0, i + 1).join("."), pair.value, path);
    }
  }
}

/** A new value for an anchored node (`&x`) keeps the anchor, so aliases (`*x`) follow it. */
function keepAnchor(old: unknown, node: Node): Node {
  const anchor = (old as { anchor?: string } | null)?.anchor;
  if (anchor && (isScalar(node) || isMap(node) || isSeq(node))) node.anchor = anchor;
  return node;
}

function removeFromDocument(doc: Document, step: Step): void {
  let node: unknown = doc.contents;
  const { segments } = step;
  for (let i = 0; i < segments.length; i++) {
    if (!isMap(node)) return;
    const pair = findPair(node, segments[i]);
    if (!pair) return;
    if (i === segments.length - 1) {
      node.items.splice(node.items.indexOf(pair), 1);
      return;
    }
    node = pair.value;
  }
}

function notAMap(key: string, prefix: string, node: unknown, path: string): AuthError {
  return new AuthError(
    "config_not_a_map",
    `Cannot set "${key}": "${prefix}" is ${describe(node)} in ${path}, not a map.`,
    {
      exit: Exit.USAGE,
      fix:
        `Choose a key that does not go through "${prefix}", or change "${prefix}" by hand in ${path}.`,
    },
  );
}

function describe(node: unknown): string {
  if (isSeq(node)) return "a list";
  if (isAlias(node)) return `an alias (*${node.source})`;
  if (isScalar(node)) {
    const v = node.value;
    return typeof v === "string"
      ? "a string"
      : typeof v === "number"
      ? "a number"
      : typeof v === "boolean"
      ? "a boolean"
      : "a scalar";
  }
  return "not a map";
}

/** `["a", "b"], v` -> `{a: {b: v}}`. */
function nest(segments: string[], value: unknown): unknown {
  return segments.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value);
}

function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** The pair whose key reads as `segment` (`1.50:` is found as "1.50", `~:` as "~"). */
function findPair(map: YAMLMap, segment: string): Pair | undefined {
  return map.items.find((pair) => {
    const key = pair.key;
    if (!isScalar(key)) return false;
    if (typeof key.value === "string") return key.value === segment;
    return (key.source ?? String(key.value)) === segment || String(key.value) === segment;
  }) as Pair | undefined;
}

// ---- nodes as they will be written ----

function keyNode(segment: string): Node {
  return valueNode(segment);
}

/** A node for `value`; strings YAML 1.1 would misread, or that span lines, get double quotes. */
function valueNode(value: unknown): Node {
  const holder = parseDocument("", PARSE_OPTIONS);
  const node = holder.createNode(value) as Node;
  visit(node, {
    Scalar(_, scalar) {
      if (typeof scalar.value === "string" && !safeAsPlain(scalar.value)) {
        scalar.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
  return node;
}

function safeAsPlain(text: string): boolean {
  if (/[\r\n]/.test(text)) return false;
  try {
    return parse(text, { version: "1.1", logLevel: "silent" }) === text;
  } catch {
    return false;
  }
}

/** A scalar node on one line, as after `key: `. */
function renderFlat(node: Node): string {
  const holder = parseDocument("", PARSE_OPTIONS);
  holder.contents = node as ParsedNode;
  return holder.toString(PRINT_OPTIONS).replace(/\n$/, "");
}

/** `key: value` as block lines indented by `column`, each ending in the file's line break. */
function renderEntry(key: Node, value: unknown, column: number, text: string): string {
  const map = new YAMLMap();
  map.items.push(new Pair(key, valueNode(value)));
  const holder = parseDocument("", PARSE_OPTIONS);
  holder.contents = map as unknown as ParsedNode;
  // Follow the file's sequence style: PyYAML writes `key:\n- item`, yaml indents it.
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- /m.test(text);
  const lines = holder.toString({ ...PRINT_OPTIONS, indentSeq }).replace(/\n$/, "").split("\n");
  const pad = " ".repeat(column);
  const eol = eolOf(text);
  return lines.map((line) => (line === "" ? "" : pad + line) + eol).join("");
}

/** An existing key as it was written (`1.50`, `'on'`), without the comments around it. */
function bareKey(key: Scalar): Scalar {
  const copy = key.clone() as Scalar;
  copy.comment = undefined;
  copy.commentBefore = undefined;
  copy.spaceBefore = undefined;
  return copy;
}

// ---- the splice: the same edit on the text ----

/** Apply one step to `text` by splicing; undefined when the layout is beyond a splice. */
function splice(text: string, step: Step): string | undefined {
  const doc = parseDocument(text, PARSE_OPTIONS);
  if (doc.errors.length > 0) return undefined;
  const root = doc.contents;
  if (root === null) {
    if (step.remove) return text;
    const prefix = text === "" ? "" : withFinalNewline(text);
    const [head, ...rest] = step.segments;
    return prefix + renderEntry(keyNode(head), nest(rest, step.value), 0, text);
  }
  if (!isMap(root)) return undefined;
  return step.remove
    ? spliceRemove(text, doc, root, step.segments)
    : spliceSet(text, doc, root, step);
}

function spliceSet(
  text: string,
  doc: Document,
  root: YAMLMap,
  step: Step,
): string | undefined {
  const { segments, value } = step;
  if (root.flow) return undefined;
  let map = root;
  for (let i = 0; i < segments.length; i++) {
    const pair = findPair(map, segments[i]);
    if (!pair) return insertPairs(text, map, segments.slice(i), value);
    const last = i === segments.length - 1;
    if (last && isScalarValue(value) && isScalar(pair.value)) {
      const done = replaceScalar(text, pair, value);
      if (done !== undefined) return done;
    }
    if (last || !isMap(pair.value)) {
      return replacePair(text, pair, nest(segments.slice(i + 1), value));
    }
    if (pair.value.flow) {
      // `key: {a: 1}` has no lines to add to: rewrite the entry as a block map.
      const inner = pair.value.toJS(doc) as Record<string, unknown>;
      setPlain(inner, segments.slice(i + 1), value);
      return replacePair(text, pair, inner);
    }
    map = pair.value;
  }
  return undefined;
}

function spliceRemove(
  text: string,
  doc: Document,
  root: YAMLMap,
  segments: string[],
): string | undefined {
  if (root.flow) return undefined;
  let map = root;
  let parent: Pair | undefined;
  for (let i = 0; i < segments.length; i++) {
    const pair = findPair(map, segments[i]);
    if (!pair) return text;
    if (i < segments.length - 1) {
      if (!isMap(pair.value)) return text;
      if (pair.value.flow) {
        const inner = pair.value.toJS(doc) as Record<string, unknown>;
        return deletePlain(inner, segments.slice(i + 1)) ? replacePair(text, pair, inner) : text;
      }
      parent = pair;
      map = pair.value;
      continue;
    }
    // Removing the last key of a nested map leaves `key: {}`, as the Document does.
    if (map.items.length === 1 && parent) return replacePair(text, parent, {});
    const lines = pairLines(text, pair);
    return lines && text.slice(0, lines.start) + text.slice(lines.end);
  }
  return text;
}

/** Set `segments` in a plain object tree, creating maps on the way. */
function setPlain(target: Record<string, unknown>, segments: string[], value: unknown): void {
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (!isPlainObject(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments[segments.length - 1]] = value;
}

/** Delete `segments` from a plain object tree; false when they are absent. */
function deletePlain(target: Record<string, unknown>, segments: string[]): boolean {
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (!isPlainObject(next)) return false;
    node = next;
  }
  const last = segments[segments.length - 1];
  if (!Object.hasOwn(node, last)) return false;
  delete node[last];
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalarValue(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** `key: old   # comment` -> `key: new   # comment`; undefined when the old value is not a plain or quoted scalar. */
function replaceScalar(text: string, pair: Pair, value: unknown): string | undefined {
  const old = pair.value as Scalar;
  const range = old.range;
  const key = pair.key as Scalar;
  // An anchor (`&x 1`) sits before the range and stays; a tag (`!!str 1`) would retype the value.
  if (!range || !key.range || old.tag) return undefined;
  const rendered = renderFlat(valueNode(value));
  if (range[0] === range[1]) {
    // An empty value (`key:` or `key:   # comment`): write right after the colon.
    const colon = text.indexOf(":", key.range[1]);
    if (colon < 0 || colon > range[0]) return undefined;
    return text.slice(0, colon + 1) + " " + rendered + text.slice(colon + 1);
  }
  const flat = [Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE] as string[];
  if (!old.type || !flat.includes(old.type)) return undefined;
  return text.slice(0, range[0]) + rendered + text.slice(range[1]);
}

/** Replace a whole `key: value` entry (all its lines) by `key: value`, keeping the key as written. */
function replacePair(text: string, pair: Pair, value: unknown): string | undefined {
  const lines = pairLines(text, pair);
  if (!lines) return undefined;
  const rendered = renderEntry(bareKey(pair.key as Scalar), value, lines.column, text);
  return text.slice(0, lines.start) + rendered + text.slice(lines.end);
}

/** Append `segments` -> value as a new entry after the last entry of a block map. */
function insertPairs(
  text: string,
  map: YAMLMap,
  segments: string[],
  value: unknown,
): string | undefined {
  const first = map.items[0];
  const lastPair = map.items[map.items.length - 1];
  if (!first || !lastPair || !isScalar(first.key) || !first.key.range) return undefined;
  const end = ((lastPair.value ?? lastPair.key) as Node | null)?.range?.[1];
  if (end === undefined) return undefined;
  const column = columnOf(text, first.key.range[0]);
  let at = lineAfter(text, end);
  let prefix = "";
  if (at === text.length && text !== "" && !text.endsWith("\n")) prefix = eolOf(text);
  if (at > text.length) at = text.length;
  const [head, ...rest] = segments;
  const rendered = renderEntry(keyNode(head), nest(rest, value), column, text);
  return text.slice(0, at) + prefix + rendered + text.slice(at);
}

/** The lines an entry occupies, when its key starts its line. */
function pairLines(
  text: string,
  pair: Pair,
): { start: number; end: number; column: number } | undefined {
  const key = pair.key;
  if (!isScalar(key) || !key.range) return undefined;
  const start = text.lastIndexOf("\n", key.range[0] - 1) + 1;
  if (text.slice(start, key.range[0]).trim() !== "") return undefined;
  const end = ((pair.value ?? key) as Node).range?.[1];
  if (end === undefined) return undefined;
  return { start, end: lineAfter(text, end), column: key.range[0] - start };
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

/** Offset of the start of the line after the one `offset` is on (or the end of the text). */
function lineAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === "\n") return offset;
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline + 1;
}

function eolOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}
