import assert from "node:assert/strict";
import {
  type CallbackServerOptions,
  startCallbackServer,
} from "../../lib/loopback/callback_server.ts";
import { isAuthError } from "../../lib/errors.ts";
import { fetchFromPage } from "../mock/cors_client.ts";

const STATE = "s-0123456789abcdef";
const PAGES = {
  success: "xAI authorization received. You can close this tab.",
  failure: "xAI authorization failed.",
};

function options(overrides: Partial<CallbackServerOptions> = {}): CallbackServerOptions {
  return {
    port: 0,
    portFallback: false,
    path: "/callback",
    expectedState: STATE,
    pages: PAGES,
    ...overrides,
  };
}

async function get(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** Send raw bytes and read the whole response (the request asks the server to close). */
async function raw(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  } finally {
    conn.close();
  }
}

/** Resolve with `p`, or reject when it takes longer than `ms` (so a hang fails instead of stalling). */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a promise has settled, without waiting for it. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol();
  const r = await Promise.race([p.then(() => true, () => true), Promise.resolve(marker)]);
  return r !== marker;
}

Deno.test("binds 127.0.0.1 only and builds the redirect URI from the port actually bound", async () => {
  await using server = await startCallbackServer(options());
  assert.ok(server.port > 0);
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/callback`);
  // Another interface of this machine must not reach the listener.
  const other = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  if (other !== undefined) {
    await assert.rejects(
      Deno.connect({ hostname: other.address, port: server.port }).then((c) => c.close()),
      Deno.errors.ConnectionRefused,
    );
  }
});

Deno.test("busy port without fallback: port_in_use naming the port and the lsof fix", async () => {
  using holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = holder.addr.port;
  const e = await startCallbackServer(options({ port })).then(
    () => assert.fail("expected port_in_use"),
    (e) => e,
  );
  assert.ok(isAuthError(e, "port_in_use"), String(e));
  assert.equal(e.exit, 1);
  assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}\\b`));
  assert.equal(e.fix, `find what holds it: lsof -iTCP:${port} -sTCP:LISTEN`);
});

Deno.test("busy port with fallback: an OS-assigned port, reflected in port and redirectUri", async () => {
  using holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using server = await startCallbackServer(
    options({ port: holder.addr.port, portFallback: true }),
  );
  assert.notEqual(server.port, holder.addr.port);
  assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/callback`);
  const r = await get(`${server.redirectUri}?code=c1&state=${STATE}`);
  assert.equal(r.status, 200);
  assert.equal((await server.result).searchParams.get("code"), "c1");
});

Deno.test("preferred port free: binds exactly that port", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await using server = await startCallbackServer(options({ port, portFallback: true }));
  assert.equal(server.port, port);
});

Deno.test("code with matching state: success page, result is the redirect URI with the query", async () => {
  await using server = await startCallbackServer(options());
  const r = await get(
    `http://localhost:${server.port}/callback?code=SECRET-CODE&state=${STATE}&iss=x`,
  );
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(PAGES.success));
  assert.ok(!r.body.includes("SECRET-CODE"), "the code is never echoed");
  const url = await server.result;
  assert.equal(url.origin + url.pathname, server.redirectUri);
  assert.equal(url.searchParams.get("code"), "SECRET-CODE");
  assert.equal(url.searchParams.get("state"), STATE);
  assert.equal(url.searchParams.get("iss"), "x");
});

Deno.test("pages carry the security headers", async () => {
  await using server = await startCallbackServer(options());
  const r = await get(`${server.redirectUri}?code=c&state=${STATE}`);
  assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.equal(r.headers.get("referrer-policy"), "no-referrer");
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  const csp = r.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /style-src 'unsafe-inline'/);
  assert.doesNotMatch(csp, /script-src/);
  assert.match(r.body, /^<!doctype html>/);
});

Deno.test("error with matching state: failure page with the escaped error, result resolves", async () => {
  await using server = await startCallbackServer(options());
  const q = new URLSearchParams({
    error: "access_denied",
    error_description: "<script>alert(1)</script> & more",
    state: STATE,
  });
  const r = await get(`${server.redirectUri}?${q}`);
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(PAGES.failure));
  assert.ok(r.body.includes("access_denied"));
  assert.ok(r.body.includes("&#60;script&#62;alert(1)&#60;/script&#62; &#38; more"));
  assert.ok(!r.body.includes("<script>"));
  const url = await server.result;
  assert.equal(url.searchParams.get("error"), "access_denied");
});

Deno.test("state mismatch: 400 page and a warning, a stale tab does not end the wait", async () => {
  const warnings: string[] = [];
  await using server = await startCallbackServer(
    options({ onWarning: (m) => warnings.push(m) }),
  );
  const stale = await get(`${server.redirectUri}?code=OLD-CODE&state=old-state`);
  assert.equal(stale.status, 400);
  assert.ok(stale.body.includes("state mismatch — this tab is from an old login"));
  assert.ok(!stale.body.includes("OLD-CODE"));
  const missing = await get(`${server.redirectUri}?code=OLD-CODE`);
  assert.equal(missing.status, 400);
  assert.equal(warnings.length, 2);
  assert.ok(warnings.every((w) => !w.includes("OLD-CODE")));
  assert.equal(await isSettled(server.result), false);

  const good = await get(`${server.redirectUri}?code=NEW&state=${STATE}`);
  assert.equal(good.status, 200);
  assert.equal((await server.result).searchParams.get("code"), "NEW");
});

Deno.test("neither code nor error: 400 advising to re-run the login", async () => {
  await using server = await startCallbackServer(options());
  const r = await get(`${server.redirectUri}?state=${STATE}`);
  assert.equal(r.status, 400);
  assert.match(r.body, /Re-run the login/);
  assert.equal(await isSettled(server.result), false);
});

Deno.test("later callbacks after the result: 'already received', no second resolution", async () => {
  await using server = await startCallbackServer(options());
  await get(`${server.redirectUri}?code=first&state=${STATE}`);
  const again = await get(`${server.redirectUri}?code=second&state=${STATE}`);
  assert.equal(again.status, 200);
  assert.match(again.body, /already received/);
  assert.equal((await server.result).searchParams.get("code"), "first");
});

Deno.test("other paths 404, other methods 405, HEAD answered without ending the wait", async () => {
  await using server = await startCallbackServer(options());
  const base = `http://127.0.0.1:${server.port}`;
  const notFound = await get(`${base}/favicon.ico`);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.ok(notFound.body.length < 100);
  const post = await get(`${server.redirectUri}?code=c&state=${STATE}`, {
    method: "POST",
    body: "x",
  });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD, OPTIONS");
  const head = await fetch(`${server.redirectUri}?code=c&state=${STATE}`, { method: "HEAD" });
  await head.body?.cancel();
  assert.equal(head.status, 200);
  assert.equal(await isSettled(server.result), false);
});

Deno.test("foreign Host header: 403 and a DNS-rebinding warning, the wait goes on", async () => {
  const warnings: string[] = [];
  await using server = await startCallbackServer(options({ onWarning: (m) => warnings.push(m) }));
  const res = await raw(
    server.port,
    `GET /callback?code=c&state=${STATE} HTTP/1.1\r\nHost: evil.example:${server.port}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(res, /^HTTP\/1\.1 403/);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /refused a request for host "evil\.example:\d+": possible DNS rebinding/,
  );
  // Right name, wrong port: a different origin too.
  const wrongPort = await raw(
    server.port,
    `GET /callback?code=c&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n`,
  );
  assert.match(wrongPort, /^HTTP\/1\.1 403/);
  // A page retrying in a loop warns once per host.
  await raw(
    server.port,
    `GET /callback HTTP/1.1\r\nHost: evil.example:${server.port}\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(warnings.length, 2);
  assert.equal(await isSettled(server.result), false);
  // Host is case-insensitive.
  const ok = await raw(
    server.port,
    `GET /callback?code=c&state=${STATE} HTTP/1.1\r\nHost: LocalHost:${server.port}\r\nConnection: close\r\n\r\n`,
  );
  assert.match(ok, /^HTTP\/1\.1 200/);
  assert.equal((await server.result).searchParams.get("code"), "c");
});

Deno.test("a stuck connection neither blocks the real callback nor close()", async () => {
  const server = await startCallbackServer(options());
  const enc = new TextEncoder();
  // Half a request line and headers, then silence.
  const half = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await half.write(enc.encode(`GET /callback?code=x&state=${STATE} HTTP/1.1\r\nHost: 127.0.0.1`));
  // A complete head with a body that never arrives: this one makes a graceful
  // shutdown wait forever.
  const body = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await body.write(
    enc.encode(
      `POST /callback HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 100000\r\n\r\nabc`,
    ),
  );
  const r = await get(`${server.redirectUri}?code=real&state=${STATE}`);
  assert.equal(r.status, 200);
  assert.equal((await server.result).searchParams.get("code"), "real");

  const t0 = performance.now();
  await within(2000, server.close());
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1000, `close() took ${elapsed.toFixed(0)} ms`);
  half.close();
  body.close();
});

Deno.test("many concurrent connections: stale tabs and stuck sockets, one result", async () => {
  const warnings: string[] = [];
  const server = await startCallbackServer(options({ onWarning: (m) => warnings.push(m) }));
  const stuck = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await c.write(new TextEncoder().encode("GET /callback?code=x HTTP/1.1\r\n"));
      return c;
    }),
  );
  const stale = Array.from(
    { length: 10 },
    (_, i) => get(`${server.redirectUri}?code=old${i}&state=old${i}`),
  );
  const good = Array.from(
    { length: 3 },
    () => get(`${server.redirectUri}?code=good&state=${STATE}`),
  );
  const answers = await Promise.all([...stale, ...good]);
  assert.deepEqual(answers.slice(0, 10).map((a) => a.status), Array(10).fill(400));
  const goodBodies = answers.slice(10).map((a) => a.body);
  assert.equal(goodBodies.filter((b) => b.includes(PAGES.success)).length, 1);
  assert.equal(goodBodies.filter((b) => /already received/.test(b)).length, 2);
  assert.equal(warnings.length, 10);
  assert.equal((await server.result).searchParams.get("code"), "good");

  const t0 = performance.now();
  await within(2000, server.close());
  assert.ok(performance.now() - t0 < 1000);
  for (const c of stuck) c.close();
});

Deno.test("close() right after the result still delivers the page to the browser", async () => {
  const server = await startCallbackServer(options());
  const pending = get(`${server.redirectUri}?code=c&state=${STATE}`);
  await server.result;
  await server.close();
  const r = await pending;
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(PAGES.success));
});

Deno.test("close() is idempotent; result rejects listener_closed when nothing arrived", async () => {
  const server = await startCallbackServer(options());
  await Promise.all([server.close(), server.close()]);
  await server.close();
  await assert.rejects(server.result, (e) => isAuthError(e, "listener_closed"));
  await assert.rejects(fetch(server.redirectUri));
});

const PROVIDER_PAGE = "https://accounts.x.ai";
/** What accounts.x.ai's script sends: a header that is not CORS-safelisted, so it is preflighted. */
const PAGE_HEADERS = { "Content-Type": "application/json" };

async function preflight(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers }> {
  const res = await fetch(url, { method: "OPTIONS", headers });
  await res.body?.cancel();
  return { status: res.status, headers: res.headers };
}

function corsHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((k) => k.startsWith("access-control-"));
}

Deno.test("the provider's page reaches the listener by script: preflight 204, then a readable answer", async () => {
  await using server = await startCallbackServer(options({ allowedOrigins: [PROVIDER_PAGE] }));
  const url = `${server.redirectUri}?code=c&state=${STATE}&iss=https%3A%2F%2Fauth.x.ai`;
  const answer = await preflight(url, {
    origin: PROVIDER_PAGE,
    "access-control-request-method": "GET",
    "access-control-request-headers": "content-type",
  });
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get("access-control-allow-origin"), PROVIDER_PAGE);
  assert.equal(answer.headers.get("access-control-allow-methods"), "GET, OPTIONS");
  assert.equal(answer.headers.get("access-control-allow-headers"), "Content-Type");
  assert.equal(answer.headers.get("vary"), "Origin");
  // Without the Private Network Access question there is no private-network grant.
  assert.equal(answer.headers.get("access-control-allow-private-network"), null);
  assert.equal(await isSettled(server.result), false, "a preflight is not the callback");

  const page = await fetchFromPage(url, { origin: PROVIDER_PAGE, headers: PAGE_HEADERS });
  assert.ok(page.ok, JSON.stringify(page));
  assert.equal(page.status, 200);
  assert.match(page.body, /xAI authorization received/);
  assert.equal((await server.result).searchParams.get("code"), "c");
});

Deno.test("a Private Network Access preflight gets Access-Control-Allow-Private-Network: true", async () => {
  await using server = await startCallbackServer(options({ allowedOrigins: [PROVIDER_PAGE] }));
  const url = `${server.redirectUri}?code=c&state=${STATE}`;
  const answer = await preflight(url, {
    origin: PROVIDER_PAGE,
    "access-control-request-method": "GET",
    "access-control-request-private-network": "true",
  });
  assert.equal(answer.status, 204);
  assert.equal(answer.headers.get("access-control-allow-private-network"), "true");
  const page = await fetchFromPage(url, {
    origin: PROVIDER_PAGE,
    headers: PAGE_HEADERS,
    privateNetwork: true,
  });
  assert.ok(page.ok, JSON.stringify(page));
});

Deno.test("another origin's preflight is refused with no Access-Control-Allow-* header, and the wait goes on", async () => {
  const warnings: string[] = [];
  await using server = await startCallbackServer(options({
    allowedOrigins: [PROVIDER_PAGE],
    onWarning: (m) => warnings.push(m),
  }));
  const url = `${server.redirectUri}?code=c&state=${STATE}`;
  for (const origin of ["https://evil.example", "https://accounts.x.ai.evil.example", "null"]) {
    const answer = await preflight(url, {
      origin,
      "access-control-request-method": "GET",
      "access-control-request-headers": "content-type",
      "access-control-request-private-network": "true",
    });
    assert.equal(answer.status, 403, origin);
    assert.deepEqual(corsHeaders(answer.headers), [], origin);
    assert.equal(answer.headers.get("vary"), "Origin");
    const page = await fetchFromPage(url, { origin, headers: PAGE_HEADERS });
    assert.deepEqual(page.ok ? "read" : page.failedAt, "preflight", origin);
  }
  // The same origin retrying is one warning, not one per attempt.
  await preflight(url, { origin: "https://evil.example", "access-control-request-method": "GET" });
  assert.equal(warnings.length, 3);
  assert.match(warnings[0], /refused a cross-origin request from "https:\/\/evil\.example"/);
  assert.equal(await isSettled(server.result), false);
  assert.equal((await get(url)).status, 200, "the browser's own redirect still completes");
});

Deno.test("a foreign origin's simple GET gets no CORS grant: the page cannot read the answer", async () => {
  await using server = await startCallbackServer(options({ allowedOrigins: [PROVIDER_PAGE] }));
  // No custom header: no preflight, the request is sent, but the answer stays opaque to the page.
  const page = await fetchFromPage(`${server.redirectUri}?code=c&state=wrong`, {
    origin: "https://evil.example",
  });
  assert.equal(page.ok, false);
  assert.equal(!page.ok && page.failedAt, "request");
  const direct = await get(`${server.redirectUri}?code=c&state=${STATE}`, {
    headers: { origin: "https://evil.example" },
  });
  assert.deepEqual(corsHeaders(direct.headers), []);
  assert.equal(direct.headers.get("vary"), "Origin");
});

Deno.test("with no allowed origins every preflight is refused (the default)", async () => {
  await using server = await startCallbackServer(options());
  const answer = await preflight(`${server.redirectUri}?code=c&state=${STATE}`, {
    origin: PROVIDER_PAGE,
    "access-control-request-method": "GET",
  });
  assert.equal(answer.status, 403);
  assert.deepEqual(corsHeaders(answer.headers), []);
});

Deno.test("an OPTIONS that is not a preflight lists the methods; other paths stay 404", async () => {
  await using server = await startCallbackServer(options({ allowedOrigins: [PROVIDER_PAGE] }));
  const plainOptions = await preflight(server.redirectUri, {});
  assert.equal(plainOptions.status, 204);
  assert.equal(plainOptions.headers.get("allow"), "GET, HEAD, OPTIONS");
  const elsewhere = await preflight(`http://127.0.0.1:${server.port}/other`, {
    origin: PROVIDER_PAGE,
    "access-control-request-method": "GET",
  });
  assert.equal(elsewhere.status, 404);
  assert.deepEqual(corsHeaders(elsewhere.headers), []);
});

Deno.test("the Host check comes first: an allowed origin with a foreign Host gets 403 and no grant", async () => {
  await using server = await startCallbackServer(options({ allowedOrigins: [PROVIDER_PAGE] }));
  const res = await raw(
    server.port,
    `OPTIONS /callback HTTP/1.1\r\nHost: rebind.example:${server.port}\r\nOrigin: ${PROVIDER_PAGE}\r\n` +
      "Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n",
  );
  assert.match(res, /^HTTP\/1\.1 403/);
  assert.doesNotMatch(res.toLowerCase(), /access-control-allow/);
});
