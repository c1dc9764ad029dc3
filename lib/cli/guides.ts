/**
 * The guides, inside the program: the markdown files under docs/ imported as
 * text, so `deno compile` bakes them into the binary and a server that has
 * only the binary can still read them with `hermes-auth help <topic>`. The
 * files in docs/ are the one source; nothing here is a copy.
 *
 * @module
 */
import sshGuide from "../../docs/guides/oauth-over-ssh.md" with { type: "text" };
import xaiGuide from "../../docs/guides/xai-grok-oauth.md" with { type: "text" };
import spotifyGuide from "../../docs/guides/spotify.md" with { type: "text" };
import customGuide from "../../docs/guides/custom-providers.md" with { type: "text" };
import reference from "../../docs/reference/cli.md" with { type: "text" };

/** One guide `hermes-auth help <topic>` prints. */
export interface Guide {
  /** What to type after `help`. */
  topic: string;
  /** One line for the topic list. */
  summary: string;
  /** The file in the repository the text comes from (a `#section` of it, for a part). */
  source: string;
  /** The markdown, exactly as in `source`. */
  markdown: string;
}

/** The `## Exit codes` section of the CLI reference, up to the next `## ` heading. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/reference/cli.md has no "${heading}" heading`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith("## "));
  return lines.slice(start, end < 0 ? undefined : end).join("\n").trimEnd() + "\n";
}

/** Every topic, in the order `help` lists them. */
export const GUIDES: readonly Guide[] = [
  {
    topic: "ssh",
    summary: "logging in on a server over SSH, in a cloud console or a container",
    source: "docs/guides/oauth-over-ssh.md",
    markdown: sshGuide,
  },
  {
    topic: "xai",
    summary: "xAI Grok OAuth (SuperGrok subscription)",
    source: "docs/guides/xai-grok-oauth.md",
    markdown: xaiGuide,
  },
  {
    topic: "spotify",
    summary: "Spotify: your own app, its redirect URI, the login",
    source: "docs/guides/spotify.md",
    markdown: spotifyGuide,
  },
  {
    topic: "custom",
    summary: "your own OIDC providers in config.yaml",
    source: "docs/guides/custom-providers.md",
    markdown: customGuide,
  },
  {
    topic: "exit-codes",
    summary: "what each exit code and error code means",
    source: "docs/reference/cli.md#exit-codes",
    markdown: section(reference, "## Exit codes"),
  },
];

/** The guide for `topic`, or undefined. */
export function findGuide(topic: string): Guide | undefined {
  const wanted = topic.trim().toLowerCase();
  return GUIDES.find((g) => g.topic === wanted);
}

/** The topic whose whole file is `path` (repository-relative, e.g. `docs/guides/spotify.md`). */
export function topicOfFile(path: string): string | undefined {
  return GUIDES.find((g) => g.source === path)?.topic;
}
