// deno-lint-ignore-file no-console
/**
 * `deno task demo`: the main job, offline. Starts the mock accounts.x.ai and
 * runs `hermes-auth add xai-oauth` against it twice with HERMES_HOME in a
 * temp directory: as on a server over SSH (the device code login) and as on
 * a laptop (the browser login). It plays the person's part in the browser
 * and shows what was stored (tokens shortened, never printed).
 */
import { startMockXai } from "../tests/mock/xai_mock.ts";

const root = new URL("../", import.meta.url);
const deno = Deno.execPath();
const dir = await Deno.makeTempDir({ prefix: "hermes-auth-demo-" });
const home = `${dir}/.hermes`;
const bold = (s: string) =>
  Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR") ? `\x1b[1m${s}\x1b[22m` : s;

// Polls every second (the real service names its own interval), so the demo does not dawdle.
await using mock = await startMockXai({ deviceInterval: 1 });
console.log(bold("hermes-auth demo: an xAI Grok login against a local mock of accounts.x.ai"));
console.log(`  mock issuer:  ${mock.issuer}`);
console.log(`  HERMES_HOME:  ${home}`);
const browser = `"${deno}" run --quiet --allow-net --allow-env --allow-write "${
  new URL("scripts/demo_browser.ts", root).pathname
}"`;
const base: Record<string, string> = {
  ...Deno.env.toObject(),
  HERMES_HOME: home,
  HERMES_XAI_ISSUER: mock.issuer,
  BROWSER: browser,
  DEMO_BROWSER_LOG: `${dir}/browser.log`,
};
for (const v of ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "DISPLAY", "WAYLAND_DISPLAY"]) {
  delete base[v];
}
// Two places the same person logs in from. A server over SSH (documentation addresses):
// the device code, approved on a "phone". A laptop with a display: the browser login, whose
// page calls the listener by script. The second login of the same account updates its row.
const places = [
  {
    title: "1. On a server you reached over SSH",
    env: { ...base, SSH_CONNECTION: "203.0.113.5 51234 198.51.100.7 22", USER: "ada" },
    browser: "a phone that scanned the QR code",
  },
  { title: "2. On your laptop", env: { ...base, DISPLAY: ":0" }, browser: "the laptop's browser" },
];
let env = base;
for (const place of places) {
  env = place.env;
  console.log(bold(`\n${place.title}`) + ": hermes-auth add xai-oauth\n");
  await Deno.remove(`${dir}/browser.log`).catch(() => {});
  const child = new Deno.Command(deno, {
    args: ["run", "--quiet", "-A", new URL("main.ts", root).pathname, "add", "xai-oauth"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const { code } = await child.status;
  const browserLog = await Deno.readTextFile(`${dir}/browser.log`).catch(() => "");
  if (browserLog) {
    console.log(
      `\nMeanwhile, ${place.browser} (played by scripts/demo_browser.ts):\n${browserLog}`,
    );
  }
  console.log(`exit code: ${code}`);
  if (code !== 0) {
    await Deno.remove(dir, { recursive: true });
    Deno.exit(code);
  }
}

const shorten = (_k: string, v: unknown) =>
  typeof v === "string" && /^(access_token|refresh_token|id_token)$/.test(_k)
    ? `<${v.length} chars, not shown>`
    : v;
const raw = await Deno.readTextFile(`${home}/auth.json`);
const stat = await Deno.stat(`${home}/auth.json`);
const dstat = await Deno.stat(home);
console.log(
  bold(`\n${home}/auth.json`) +
    ` (mode ${(stat.mode! & 0o777).toString(8)}, directory ${(dstat.mode! & 0o777).toString(8)}):`,
);
console.log(JSON.stringify(JSON.parse(raw), shorten, 2));
console.log(bold("\nhermes-auth status") + " (what scripts and Hermes will find):");
await new Deno.Command(deno, {
  args: ["run", "--quiet", "-A", new URL("main.ts", root).pathname, "status", "xai-oauth"],
  env,
  clearEnv: true,
  stdin: "null",
}).spawn().status;
console.log(
  `\nThe mock saw ${mock.stats.deviceAuthorizations} device code login(s), ` +
    `${mock.stats.authorizeRequests} authorize request(s) and ` +
    `${mock.stats.codeExchanges} code exchange(s).`,
);
console.log("Next: `deno task test` runs the test suite; README.md explains a real login.");
await Deno.remove(dir, { recursive: true });
