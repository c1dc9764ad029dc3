/**
 * `hermes-auth help [topic]`: the guides embedded in the program (see
 * guides.ts), printed for a terminal. Markdown is kept readable rather than
 * rendered: headings lose their `#` and turn bold, code blocks are indented,
 * links show where they lead (another guide becomes `hermes-auth help
 * <topic>`, since a binary on a server has no docs folder), pictures are
 * named. Tables and inline code stay as written.
 *
 * @module
 */
import { usageError } from "../errors.ts";
import type { Styles } from "../output.ts";
import type { Context } from "./context.ts";
import { findGuide, type Guide, GUIDES, topicOfFile } from "./guides.ts";

/** Options of `help`. */
export interface HelpOptions {
  json?: boolean;
}

/**
 * Run `help`: with a topic, print its guide on stdout (`--json`: one object
 * with topic, source and the markdown); without one, list the topics.
 * Command names are answered by commander before this runs.
 */
export function help(ctx: Context, topic: string | undefined, opts: HelpOptions): Promise<number> {
  const out = ctx.out;
  if (topic === undefined) {
    out.result({
      topics: GUIDES.map(({ topic, summary, source }) => ({ topic, summary, source })),
    });
    out.data("Guides (hermes-auth help <topic>):");
    const width = Math.max(...GUIDES.map((g) => g.topic.length));
    for (const g of GUIDES) out.data(`  ${g.topic.padEnd(width)}  ${g.summary}`);
    out.data("");
    out.data("Commands: hermes-auth <command> --help");
    return Promise.resolve(0);
  }
  const guide = findGuide(topic);
  if (!guide) {
    throw usageError(
      `no help topic "${topic}"`,
      `the topics are ${GUIDES.map((g) => g.topic).join(", ")}; for a command use ` +
        "hermes-auth <command> --help",
    );
  }
  if (opts.json) {
    out.result({ topic: guide.topic, source: guide.source, markdown: guide.markdown });
  } else {
    for (const line of renderGuide(guide, out.dataStyle)) out.data(line);
  }
  return Promise.resolve(0);
}

/** The guide as lines for a terminal. */
export function renderGuide(guide: Guide, style: Styles): string[] {
  const base = guide.source.replace(/#.*$/, "");
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of guide.markdown.split("\n")) {
    const fenceMark = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (fence !== null) {
      if (
        fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length
      ) {
        fence = null;
      } else lines.push(line === "" ? "" : `    ${line}`);
      continue;
    }
    if (fenceMark !== undefined) {
      fence = fenceMark;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const text = inline(heading[2], base, style);
      lines.push(heading[1].length === 1 ? style.bold(text.toUpperCase()) : style.bold(text));
      continue;
    }
    lines.push(inline(line, base, style));
  }
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

/** Pictures, links and emphasis in one line of prose. */
function inline(text: string, base: string, style: Styles): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, (_, alt: string) => `[picture: ${alt}]`)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, target: string) => {
      const where = linkTarget(target, base);
      return where ? `${label} (${where})` : label;
    })
    .replace(/\*\*([^*]+)\*\*/g, (_, strong: string) => style.bold(strong));
}

/**
 * Where a link leads, said so that it works from a terminal: a web address
 * as it is, another guide as `hermes-auth help <topic>`; nothing for a
 * section of the same page or a file only a source checkout has.
 */
function linkTarget(target: string, base: string): string | undefined {
  if (/^https?:\/\//i.test(target)) return target;
  if (target.startsWith("#")) return undefined;
  const file = new URL(target.replace(/#.*$/, ""), `file:///${base}`).pathname.slice(1);
  const topic = topicOfFile(file);
  return topic === undefined ? undefined : `hermes-auth help ${topic}`;
}
