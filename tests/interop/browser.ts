/**
 * Playing the browser through a real authorization server's own pages:
 * a cookie jar, redirects followed one by one, HTML forms read and
 * submitted as a person would (type any login and password, press
 * "Continue" on the consent page, or "Cancel" to deny), until the server
 * sends the browser to the CLI's loopback redirect URI.
 *
 * Generic on purpose: it knows HTML forms and cookies, not oidc-provider's
 * routes, so a change in the server's pages shows up as a failed step with
 * the page's text rather than a silently skipped one.
 *
 * @module
 */

/** A minimal cookie jar: name and path per origin, expiry by Max-Age/Expires in the past. */
class CookieJar {
  #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = "/";
      let expired = value === "";
      for (const attr of attrs) {
        const [k, v = ""] = attr.split("=");
        const key = k.toLowerCase();
        if (key === "path") path = v || "/";
        if (key === "max-age" && Number(v) <= 0) expired = true;
        if (key === "expires" && Date.parse(v) < Date.now()) expired = true;
      }
      const id = `${url.origin} ${name} ${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url: URL): string {
    return [...this.#cookies.entries()]
      .filter(([id, c]) => id.startsWith(`${url.origin} `) && url.pathname.startsWith(c.path))
      .map(([, c]) => `${c.name}=${c.value}`)
      .join("; ");
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27|#x2F|#x3D);/g, (_, e: string) =>
    ({
      amp: "&",
      lt: "<",
      gt: ">",
      quot: '"',
      "#39": "'",
      "#x27": "'",
      "#x2F": "/",
      "#x3D": "=",
    })[e]!);
}

function attribute(tag: string, name: string): string | undefined {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, "i"));
  return m ? decodeEntities(m[1]) : undefined;
}

/** One HTML form of a page. */
interface Form {
  action: string;
  method: string;
  inputs: { name: string; type: string; value: string }[];
}

function formsOf(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([^]*?)<\/form>/gi)].map(([, attrs, body]) => ({
    action: attribute(` ${attrs}`, "action") ?? "",
    method: (attribute(` ${attrs}`, "method") ?? "get").toLowerCase(),
    inputs: [...body.matchAll(/<input\b[^>]*>/gi)].map(([tag]) => ({
      name: attribute(tag, "name") ?? "",
      type: (attribute(tag, "type") ?? "text").toLowerCase(),
      value: attribute(tag, "value") ?? "",
    })).filter((i) => i.name),
  }));
}

/** The page's heading (oidc-provider's pages all share one `<title>`). */
function titleOf(html: string): string {
  const heading = html.match(/<h1\b[^>]*>([^<]*)<\/h1>/i) ?? html.match(/<title>([^<]*)<\/title>/i);
  return decodeEntities(heading?.[1]?.trim() ?? "");
}

/** How the person at the browser behaves. */
export interface PersonOptions {
  /** Approve on the consent page (default), or press its Cancel link. */
  approve?: boolean;
  /** Typed into the login form. */
  login?: string;
  password?: string;
  /** Safety net against a redirect loop. */
  maxSteps?: number;
}

/** Options of {@link playBrowser}. */
export interface PlayOptions extends PersonOptions {
  /** Where the login ends: the redirect URI the CLI registered (any port, query ignored). */
  redirectUri: string;
}

/** What the browser went through. */
export interface PlayResult {
  /** The URL the server finally sent the browser to (the CLI's callback). */
  callback: URL;
  /** Heading of each HTML page shown, in order (e.g. `Sign-in`, `Authorize`). */
  pages: string[];
}

/**
 * Open `authorizeUrl` and click through the server's pages until it
 * redirects to `redirectUri`. The callback URL is returned, not visited:
 * the caller delivers it to the CLI's listener (or pastes it).
 */
export async function playBrowser(authorizeUrl: string, options: PlayOptions): Promise<PlayResult> {
  const target = new URL(options.redirectUri);
  const { callback, pages } = await browse(authorizeUrl, options, {
    redirect: (to) =>
      to.protocol === target.protocol && to.hostname === target.hostname &&
      to.pathname === target.pathname,
  });
  if (!callback) throw new Error(`the server never redirected to ${options.redirectUri}`);
  return { callback, pages };
}

/** Options of {@link playDeviceVerification}. */
export interface DeviceOptions extends PersonOptions {
  /** The heading of the page that says the device is approved. */
  donePage: RegExp;
}

/**
 * Open a device login's `verification_uri_complete` (RFC 8628 §3.3.1) and
 * click through until a page whose heading matches `donePage`. Returns the
 * headings of the pages shown.
 */
export async function playDeviceVerification(
  verificationUri: string,
  options: DeviceOptions,
): Promise<string[]> {
  return (await browse(verificationUri, options, {
    page: (heading) => options.donePage.test(heading),
  }))
    .pages;
}

/** Where browsing ends: a redirect to the CLI, or a page that needs nothing more. */
interface Stop {
  redirect?: (to: URL) => boolean;
  page?: (heading: string) => boolean;
}

async function browse(
  start: string,
  options: PersonOptions,
  stop: Stop,
): Promise<{ callback?: URL; pages: string[] }> {
  const jar = new CookieJar();
  const pages: string[] = [];
  let next: { url: URL; method: string; body?: URLSearchParams } = {
    url: new URL(start),
    method: "GET",
  };
  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    const { url, method, body } = next;
    const headers = new Headers({ accept: "text/html" });
    const cookie = jar.header(url);
    if (cookie) headers.set("cookie", cookie);
    if (body) headers.set("content-type", "application/x-www-form-urlencoded");
    const response = await fetch(url, { method, headers, body, redirect: "manual" });
    jar.store(url, response.headers);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const to = new URL(location, url);
      if (stop.redirect?.(to)) return { callback: to, pages };
      next = { url: to, method: "GET" };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(
        `${method} ${url.pathname} answered ${response.status}: ${html.slice(0, 500)}`,
      );
    }
    const heading = titleOf(html);
    pages.push(heading);
    if (stop.page?.(heading)) return { pages };
    const [form] = formsOf(html);
    if (!form) throw new Error(`no form on the page "${heading}" at ${url.pathname}`);
    const hasLogin = form.inputs.some((i) => i.type === "password");
    if (!hasLogin && options.approve === false) {
      const cancel = html.match(/<a\s+href="([^"]*)"[^>]*>\s*\[\s*Cancel\s*\]/i);
      if (!cancel) throw new Error(`no Cancel link on "${heading}"`);
      next = { url: new URL(decodeEntities(cancel[1]), url), method: "GET" };
      continue;
    }
    const fields = new URLSearchParams();
    for (const input of form.inputs) {
      if (input.type === "password") fields.set(input.name, options.password ?? "any-password");
      else if (input.type === "text" || input.type === "email") {
        fields.set(input.name, input.value || (options.login ?? "ada@example.com"));
      } else fields.set(input.name, input.value);
    }
    const action = new URL(form.action || url.href, url);
    next = form.method === "post"
      ? { url: action, method: "POST", body: fields }
      : { url: new URL(`${action.origin}${action.pathname}?${fields}`), method: "GET" };
  }
  throw new Error(`browsing never finished; pages: ${pages.join(", ")}`);
}
