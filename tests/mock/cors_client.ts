/**
 * What a browser does when a page calls another origin from script with a
 * request that is not "simple": the CORS preflight, the checks on its answer,
 * then the request itself and the check on its answer (Fetch standard §4.8
 * "CORS-preflight fetch", §4.9 "CORS check"; Private Network Access for a public
 * page calling a loopback address). The mock's consent page makes exactly
 * such a call; tests use this to play it without a browser, and the real-
 * browser e2e test proves the same with Chromium.
 *
 * @module
 */

/** Options of {@link fetchFromPage}. */
export interface PageFetchOptions {
  /** The calling page's origin, e.g. `https://accounts.x.ai`. */
  origin: string;
  /**
   * Request headers the page sets. `Content-Type: application/json` is not a
   * CORS-safelisted request header, so it forces the preflight.
   */
  headers?: Record<string, string>;
  /** The page is public and the target private (loopback): ask Private Network Access. */
  privateNetwork?: boolean;
}

/** What the page's script ends up with. */
export type PageFetchResult =
  | { ok: true; status: number; body: string }
  | {
    ok: false;
    /** Where the browser stopped: it would report only "Failed to fetch" to the page. */
    failedAt: "preflight" | "request";
    reason: string;
  };

/** Header list check of §4.9/§4.8: `value` (comma list or `*`) names `wanted` (case-insensitive). */
function lists(value: string | null, wanted: string): boolean {
  if (value === null) return false;
  const items = value.split(",").map((s) => s.trim().toLowerCase());
  return items.includes("*") || items.includes(wanted.toLowerCase());
}

/** The CORS check (§4.9) for a request without credentials. */
function corsCheck(response: Response, origin: string): string | undefined {
  const allowed = response.headers.get("access-control-allow-origin");
  if (allowed === null) return "no Access-Control-Allow-Origin";
  if (allowed !== "*" && allowed !== origin) {
    return `Access-Control-Allow-Origin is ${allowed}, not ${origin}`;
  }
  return undefined;
}

/**
 * GET `url` as a page on `origin` would with `fetch(url, { headers })`:
 * preflight when a header is not safelisted (or Private Network Access asks),
 * then the request. Network errors and failed checks come back as
 * `{ ok: false }`, never as a thrown error, like the opaque "Failed to fetch"
 * a page gets.
 */
export async function fetchFromPage(
  url: string,
  options: PageFetchOptions,
): Promise<PageFetchResult> {
  const headers = options.headers ?? {};
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const needsPreflight = names.some((n) => !isSafelisted(n, headers)) ||
    options.privateNetwork === true;
  if (needsPreflight) {
    const ask: Record<string, string> = {
      origin: options.origin,
      "access-control-request-method": "GET",
    };
    const unsafe = names.filter((n) => !isSafelisted(n, headers));
    if (unsafe.length > 0) ask["access-control-request-headers"] = unsafe.join(",");
    if (options.privateNetwork) ask["access-control-request-private-network"] = "true";
    let answer: Response;
    try {
      answer = await fetch(url, { method: "OPTIONS", headers: ask });
    } catch (e) {
      return { ok: false, failedAt: "preflight", reason: `network error: ${e}` };
    }
    await answer.body?.cancel();
    if (answer.status < 200 || answer.status > 299) {
      return { ok: false, failedAt: "preflight", reason: `preflight answered ${answer.status}` };
    }
    const refused = corsCheck(answer, options.origin);
    if (refused) return { ok: false, failedAt: "preflight", reason: refused };
    for (const name of unsafe) {
      if (!lists(answer.headers.get("access-control-allow-headers"), name)) {
        return { ok: false, failedAt: "preflight", reason: `header ${name} not allowed` };
      }
    }
    if (
      options.privateNetwork &&
      answer.headers.get("access-control-allow-private-network") !== "true"
    ) {
      return { ok: false, failedAt: "preflight", reason: "private network access not allowed" };
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...headers, origin: options.origin } });
  } catch (e) {
    return { ok: false, failedAt: "request", reason: `network error: ${e}` };
  }
  const body = await response.text();
  const refused = corsCheck(response, options.origin);
  if (refused) return { ok: false, failedAt: "request", reason: refused };
  return { ok: true, status: response.status, body };
}

/** CORS-safelisted request headers (Fetch §2.2.2), as far as a page's fetch can set them. */
function isSafelisted(name: string, headers: Record<string, string>): boolean {
  if (["accept", "accept-language", "content-language"].includes(name)) return true;
  if (name !== "content-type") return false;
  const value = Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? "";
  const essence = value.split(";")[0].trim().toLowerCase();
  return ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"].includes(
    essence,
  );
}
