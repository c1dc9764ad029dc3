// deno-lint-ignore-file no-console
/**
 * The demo's stand-in for a person at a browser: the CLI opens it through
 * $BROWSER with the URL to approve. For the device login (a server) that is
 * the verification link with the code filled in: it presses Approve there,
 * as a phone that scanned the QR code would. For the browser login (a
 * laptop) it is the authorize URL: it loads the mock's consent page and
 * presses Approve. Like accounts.x.ai, the page then calls the CLI's
 * 127.0.0.1 listener from its script (a cross-origin request with a CORS
 * preflight), which this stand-in plays as a browser would; it reports what
 * each page said, as a person would see it.
 */
import { fetchFromPage } from "../tests/mock/cors_client.ts";

// The CLI starts browsers with no terminal attached, so this one reports to
// the log file the demo names in DEMO_BROWSER_LOG (and prints it afterwards).
const url = Deno.args[0];
const log = Deno.env.get("DEMO_BROWSER_LOG");
const say = (text: string) => {
  if (log) Deno.writeTextFileSync(log, `  [browser] ${text}\n`, { append: true });
  else console.error(`  [browser] ${text}`);
};
const title = (html: string) => /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() ?? "";
const text = (html: string) =>
  html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, "").replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ").trim();

await new Promise((r) => setTimeout(r, 800)); // a person takes a moment
if (new URL(url).pathname === "/oauth2/device") {
  // The device login: the link carries the code; a phone that scanned the QR code lands here.
  const page = await (await fetch(url)).text();
  const userCode = /name="user_code" value="([^"]*)"/.exec(page)?.[1] ?? "";
  say(
    `opened ${new URL(url).origin}/oauth2/device -> "${title(page)}", code ${userCode} filled in`,
  );
  await new Promise((r) => setTimeout(r, 600));
  say('clicked "Approve"');
  const answer = await fetch(new URL("/oauth2/device", url), {
    method: "POST",
    body: new URLSearchParams({ user_code: userCode, decision: "approve" }),
  });
  say(`page says: "${text(await answer.text())}"`);
  Deno.exit(answer.ok ? 0 : 1);
}
const consent = await fetch(url, { redirect: "manual" });
const page = await consent.text();
say(`opened ${new URL(url).origin}${new URL(url).pathname} -> "${title(page)}"`);
const transaction = /name="transaction_id" value="([^"]+)"/.exec(page)?.[1];
if (!transaction) {
  say(`no consent form (HTTP ${consent.status}): ${text(page).slice(0, 200)}`);
  Deno.exit(1);
}
await new Promise((r) => setTimeout(r, 600));
say('clicked "Approve"');
const decision = await fetch(new URL("/oauth2/authorize/decision", url), {
  method: "POST",
  body: new URLSearchParams({ transaction_id: transaction, decision: "approve" }),
  redirect: "manual",
});
const answer = await decision.text();
const location = decision.headers.get("location");
const called = /data-callback="([^"]+)"/.exec(answer)?.[1]?.replaceAll("&amp;", "&");
if (location) {
  // A provider that redirects (the mock with --approval redirect).
  const callback = new URL(location);
  say(`redirected to ${callback.origin}${callback.pathname}?code=…&state=…`);
  const landing = await fetch(callback);
  say(`page says: "${text(await landing.text())}"`);
} else if (called) {
  const callback = new URL(called);
  say(
    `the page calls ${callback.origin}${callback.pathname}?code=…&state=…&iss=… from its script`,
  );
  const result = await fetchFromPage(callback.href, {
    origin: new URL(url).origin,
    headers: { "Content-Type": "application/json" },
  });
  if (result.ok && result.status === 200) {
    say("the listener answered the CORS preflight and the call");
    say('page says: "Done. You can close this tab and return to Hermes Agent."');
  } else {
    say(
      `page says: "Could not establish connection. We couldn't reach your app." and shows the code`,
    );
    Deno.exit(1);
  }
} else {
  say(`the server did not answer the decision (HTTP ${decision.status})`);
  Deno.exit(1);
}
