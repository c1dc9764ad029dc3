/**
 * HTML pages and redirects shared by the mock accounts servers.
 *
 * @module
 */

/** An HTML page with the security headers a real accounts server sends. */
export function html(title: string, body: string, status = 200): Response {
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main>
${body}
</main></body>
</html>
`;
  return new Response(page, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-frame-options": "DENY",
      "content-security-policy": "frame-ancestors 'none'",
    },
  });
}

/** A 302 to `uri` with `params` added to its query. */
export function redirect(uri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(name, value);
  }
  return new Response(null, {
    status: 302,
    headers: { location: url.href, "cache-control": "no-store" },
  });
}

/** The Location of a redirect response (its body discarded). */
export async function locationOf(response: Response): Promise<string> {
  await response.body?.cancel();
  const location = response.headers.get("location");
  if (!location) throw new Error("redirect without a Location header");
  return location;
}

/** The error message of a mock error page, or the page itself, unescaped. */
export function textOfPage(page: string): string {
  const error = /<p id="error">([^<]*)<\/p>/.exec(page)?.[1];
  return (error ?? page).replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

/** Escape text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}
