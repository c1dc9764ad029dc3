/**
 * `hermes-auth add spotify` and the commands after it, end to end: the real
 * CLI process against the mock accounts.spotify.com, the test playing the
 * browser.
 *
 * Spotify's redirect URI must match the app's registration exactly, so the
 * listener never leaves 127.0.0.1:43827. Tests here log in through
 * `--redirect-uri` on a free port, or through the ways that bind nothing
 * (paste-back, two-step); the two that need 43827 itself check or take it
 * and release it before they end. Deno runs a file's tests in order.
 */
import assert from "node:assert/strict";
import {
  type MockSpotify,
  type MockSpotifyOptions,
  SPOTIFY_DEFAULT_REDIRECT_URI,
  SPOTIFY_TEST_CLIENT_ID,
  startMockSpotify,
} from "../mock/spotify_mock.ts";
import { runCli, spawnCli, tempHome } from "./harness.ts";
import { driver, ENTER, openTerminal, waitFor } from "./pty.ts";

type Json = Record<string, unknown>;

const SPOTIFY_PORT = 43827;
const SSH = { SSH_CONNECTION: "203.0.113.5 51000 198.51.100.7 22", USER: "ada" };
const HERMES_SCOPE = "user-modify-playback-state user-read-playback-state " +
  "user-read-currently-playing user-read-recently-played playlist-read-private " +
  "playlist-read-collaborative playlist-modify-public playlist-modify-private " +
  "user-library-read user-library-modify";
const STORED_FIELDS = [
  "client_id",
  "redirect_uri",
  "scope",
  "granted_scope",
  "token_type",
  "access_token",
  "refresh_token",
  "obtained_at",
  "expires_at",
  "expires_in",
];

function env(home: string, mock: MockSpotify, extra: Record<string, string> = {}) {
  return { HERMES_HOME: home, HERMES_SPOTIFY_ACCOUNTS_BASE_URL: mock.baseUrl, ...extra };
}

async function readAuth(home: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${home}/auth.json`));
}

async function spotifyState(home: string): Promise<Json> {
  return ((await readAuth(home)).providers as Json).spotify as Json;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

function lastJson(stdout: string): Json {
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** A port nothing listens on right now (the OS picks it; it is released before use). */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A mock with one more redirect URI registered: http://127.0.0.1:<free port>/cb. */
async function mockWithOwnRedirect(
  options: MockSpotifyOptions = {},
): Promise<{ mock: MockSpotify; redirectUri: string }> {
  const redirectUri = `http://127.0.0.1:${freePort()}/cb`;
  const mock = await startMockSpotify({
    ...options,
    redirectUris: [SPOTIFY_DEFAULT_REDIRECT_URI, redirectUri],
  });
  return { mock, redirectUri };
}

/** A complete login over the listener on `redirectUri`; returns the CLI's result. */
async function logIn(
  mock: MockSpotify,
  home: string,
  redirectUri: string,
  extra: Record<string, string> = {},
) {
  const cli = spawnCli(
    ["add", "spotify", "--json", "--no-browser", "--redirect-uri", redirectUri],
    { env: env(home, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID, ...extra }) },
  );
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  return result;
}

/** The client_id of the authorize URL a two-step start prints. */
async function clientIdChosen(
  home: string,
  mock: MockSpotify,
  args: string[],
  extra: Record<string, string>,
): Promise<string | null> {
  const result = await runCli(["add", "spotify", "--no-wait", "--json", ...args], {
    env: env(home, mock, extra),
  });
  assert.equal(result.code, 0, result.stderr);
  const authorize = JSON.parse(result.stdout.split("\n")[0]);
  return new URL(authorize.url).searchParams.get("client_id");
}

Deno.test("a login stores PROVIDERS.md's fields in providers.spotify and leaves active_provider alone", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  await Deno.writeTextFile(
    `${home.path}/auth.json`,
    JSON.stringify({ version: 1, providers: {}, active_provider: "xai-oauth" }),
  );
  const before = Date.now();
  const cli = spawnCli(
    ["add", "spotify", "--json", "--no-browser", "--redirect-uri", redirectUri],
    {
      env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
    },
  );
  const authorize = await cli.event("authorize");
  assert.equal(authorize.provider, "spotify");
  assert.equal(authorize.redirect_uri, redirectUri);
  assert.equal(authorize.port, Number(new URL(redirectUri).port));
  const url = new URL(String(authorize.url));
  assert.equal(url.origin + url.pathname, `${mock.baseUrl}/authorize`);
  assert.equal(url.searchParams.get("response_type"), "code");
  assert.equal(url.searchParams.get("client_id"), SPOTIFY_TEST_CLIENT_ID);
  assert.equal(url.searchParams.get("redirect_uri"), redirectUri);
  assert.equal(url.searchParams.get("scope"), HERMES_SCOPE);
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.ok(url.searchParams.get("state"));

  const callback = await mock.approve(url.href);
  const page = await fetch(callback);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Spotify authorization received\. You can close this tab\./);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(lastJson(result.stdout).event, "success");

  const auth = await readAuth(home.path);
  assert.equal(auth.active_provider, "xai-oauth");
  assert.equal((auth.credential_pool as Json | undefined)?.spotify, undefined);
  const state = (auth.providers as Json).spotify as Json;
  for (const field of STORED_FIELDS) assert.ok(field in state, `providers.spotify.${field}`);
  assert.equal(state.client_id, SPOTIFY_TEST_CLIENT_ID);
  assert.equal(state.redirect_uri, redirectUri);
  assert.equal(state.scope, HERMES_SCOPE);
  assert.equal(state.granted_scope, HERMES_SCOPE);
  // Spotify sends "Bearer"; the scheme is case-insensitive (RFC 6750), see the report.
  assert.equal(String(state.token_type).toLowerCase(), "bearer");
  assert.ok(mock.isValidAccessToken(String(state.access_token)));
  assert.ok(state.refresh_token);
  assert.equal(state.expires_in, 3600);
  const obtained = Date.parse(String(state.obtained_at));
  assert.ok(obtained >= before - 1000 && obtained <= Date.now() + 1000, String(state.obtained_at));
  assert.equal(Date.parse(String(state.expires_at)) - obtained, 3600_000);
  assert.match(String(state.expires_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

  const sent = mock.stats.lastTokenParams!;
  assert.equal(sent.get("grant_type"), "authorization_code");
  assert.equal(sent.get("redirect_uri"), redirectUri);
  assert.equal(sent.get("client_id"), SPOTIFY_TEST_CLIENT_ID);
  assert.ok(sent.get("code_verifier"));
  for (const secret of [state.access_token, state.refresh_token]) {
    assert.ok(!result.stdout.includes(String(secret)) && !result.stderr.includes(String(secret)));
  }
  assert.ok(!result.stdout.includes(new URL(callback).searchParams.get("code")!));
});

Deno.test("granted_scope is what Spotify granted, scope what was asked", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  mock.faults.withholdScopes = ["user-library-modify"];
  await logIn(mock, home.path, redirectUri);
  const state = await spotifyState(home.path);
  assert.equal(state.scope, HERMES_SCOPE);
  assert.equal(state.granted_scope, HERMES_SCOPE.replace(" user-library-modify", ""));
});

Deno.test("no client id anywhere: exit 2 with the dashboard steps and the exact redirect URI", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  const result = await runCli(["add", "spotify"], { env: env(home.path, mock) });
  assert.equal(result.code, 2);
  assert.ok(result.stderr.includes("https://developer.spotify.com/dashboard"), result.stderr);
  assert.ok(result.stderr.includes(SPOTIFY_DEFAULT_REDIRECT_URI), result.stderr);
  assert.match(result.stderr, /--client-id/);
  assert.equal(mock.stats.authorizeRequests, 0);
  assert.equal(await exists(`${home.path}/auth.json`), false);

  const json = await runCli(["add", "spotify", "--json"], { env: env(home.path, mock) });
  assert.equal(json.code, 2);
  assert.equal(lastJson(json.stdout).code, "client_id_missing");
});

Deno.test("client id order: --client-id, then HERMES_SPOTIFY_CLIENT_ID, then SPOTIFY_CLIENT_ID, then the stored one", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  await Deno.writeTextFile(
    `${home.path}/auth.json`,
    JSON.stringify({ version: 1, providers: { spotify: { client_id: "stored-app" } } }),
  );
  const both = { HERMES_SPOTIFY_CLIENT_ID: "hermes-env-app", SPOTIFY_CLIENT_ID: "plain-env-app" };
  assert.equal(
    await clientIdChosen(home.path, mock, ["--client-id", "flag-app"], both),
    "flag-app",
  );
  assert.equal(await clientIdChosen(home.path, mock, [], both), "hermes-env-app");
  assert.equal(
    await clientIdChosen(home.path, mock, [], {
      HERMES_SPOTIFY_CLIENT_ID: "",
      SPOTIFY_CLIENT_ID: "plain-env-app",
    }),
    "plain-env-app",
  );
  assert.equal(await clientIdChosen(home.path, mock, [], {}), "stored-app");
});

Deno.test("the client id of a login is stored and used by the next one", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect({
    clientIds: [SPOTIFY_TEST_CLIENT_ID, "second-app"],
  });
  await using _mock = mock;
  await using home = await tempHome();
  const cli = spawnCli(
    ["add", "spotify", "--json", "--redirect-uri", redirectUri, "--client-id", "second-app"],
    { env: env(home.path, mock) },
  );
  const authorize = await cli.event("authorize");
  await fetch(await mock.approve(String(authorize.url))).then((r) => r.body?.cancel());
  assert.equal((await cli.done()).code, 0);
  assert.equal((await spotifyState(home.path)).client_id, "second-app");
  assert.equal(await clientIdChosen(home.path, mock, [], {}), "second-app");
});

Deno.test({
  name: "without --redirect-uri the listener binds exactly 127.0.0.1:43827/spotify/callback",
  // Something else on this machine holds the port: the busy-port test below covers that case.
  ignore: !isFree(SPOTIFY_PORT),
  async fn() {
    await using mock = await startMockSpotify();
    await using home = await tempHome();
    const cli = spawnCli(["add", "spotify", "--json", "--no-browser"], {
      env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
    });
    const authorize = await cli.event("authorize");
    assert.equal(authorize.redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
    assert.equal(authorize.port, SPOTIFY_PORT);
    const page = await fetch(await mock.approve(String(authorize.url)));
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const result = await cli.done();
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await spotifyState(home.path)).redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
    assert.ok(isFree(SPOTIFY_PORT), "the CLI released 43827");
  },
});

Deno.test("43827 busy: a clear error naming the port, lsof and --redirect-uri; the listener does not move and nothing is written", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  let blocker: Deno.Listener | undefined;
  try {
    blocker = Deno.listen({ hostname: "127.0.0.1", port: SPOTIFY_PORT });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e; // already busy: just as good
  }
  try {
    const spotifyEnv = env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID, ...SSH });
    const result = await runCli(["add", "spotify", "--no-browser", "--timeout", "5"], {
      env: spotifyEnv,
    });
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(`port ${SPOTIFY_PORT}`), result.stderr);
    assert.ok(result.stderr.includes(`lsof -iTCP:${SPOTIFY_PORT} -sTCP:LISTEN`), result.stderr);
    assert.match(result.stderr, /--redirect-uri/);
    assert.doesNotMatch(result.stderr, /listening on \d+ instead/);
    assert.doesNotMatch(result.stderr, /ssh -N -L/, "no tunnel to a port that is not ours");

    const json = await runCli(["add", "spotify", "--json", "--timeout", "5"], { env: spotifyEnv });
    assert.equal(json.code, result.code);
    const error = lastJson(json.stdout);
    assert.equal(error.event, "error");
    assert.equal(error.code, "port_in_use");
    assert.ok(
      !json.stdout.includes('"event":"authorize"'),
      "no URL for a login that cannot finish",
    );
    assert.equal(mock.stats.authorizeRequests, 0);
    assert.equal(await exists(`${home.path}/auth.json`), false);
    assert.equal(await exists(`${home.path}/pending`), false);
  } finally {
    blocker?.close();
  }
});

Deno.test("--redirect-uri with a free port registered in the app works, while 43827 is taken", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  let blocker: Deno.Listener | undefined;
  try {
    blocker = Deno.listen({ hostname: "127.0.0.1", port: SPOTIFY_PORT });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
  }
  try {
    await logIn(mock, home.path, redirectUri);
    assert.equal((await spotifyState(home.path)).redirect_uri, redirectUri);
    assert.equal(mock.stats.lastAuthorizeParams?.get("redirect_uri"), redirectUri);
  } finally {
    blocker?.close();
  }
});

Deno.test("a --redirect-uri that is not http://127.0.0.1:<port>/… is refused with exit 2", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  for (
    const uri of [
      "https://example.com/callback",
      "http://example.com/callback",
      "http://localhost:43827/spotify/callback",
      "http://192.168.1.5:43827/spotify/callback",
    ]
  ) {
    const result = await runCli(["add", "spotify", "--redirect-uri", uri], {
      env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
    });
    assert.equal(result.code, 2, `${uri}: ${result.stderr}`);
    assert.match(result.stderr, /--redirect-uri/);
  }
  assert.equal(mock.stats.authorizeRequests, 0);
  assert.equal(await exists(`${home.path}/auth.json`), false);
});

Deno.test("an app registered with a portless loopback URI takes --redirect-uri on any port", async () => {
  await using mock = await startMockSpotify({
    redirectUris: ["http://127.0.0.1/spotify/callback"],
  });
  await using home = await tempHome();
  const redirectUri = `http://127.0.0.1:${freePort()}/spotify/callback`;
  await logIn(mock, home.path, redirectUri);
  assert.equal((await spotifyState(home.path)).redirect_uri, redirectUri);
});

Deno.test("HERMES_SPOTIFY_ACCOUNTS_BASE_URL off spotify.com, or plain http off loopback, is refused before any request", async () => {
  await using home = await tempHome();
  for (
    const base of [
      "https://accounts.spotify.com.evil.example",
      "https://evilspotify.com",
      "http://accounts.spotify.com",
    ]
  ) {
    const result = await runCli(["add", "spotify", "--no-wait", "--json"], {
      env: {
        HERMES_HOME: home.path,
        HERMES_SPOTIFY_ACCOUNTS_BASE_URL: base,
        SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID,
      },
    });
    assert.equal(result.code, 6, `${base}: ${result.stdout}${result.stderr}`);
    assert.equal(lastJson(result.stdout).code, "endpoint_refused", base);
    assert.ok(!result.stdout.includes('"event":"authorize"'), base);
  }
  assert.equal(await exists(`${home.path}/pending`), false);
});

Deno.test("--device-code is refused for Spotify (exit 2), pointing at the browser login", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  const result = await runCli(["add", "spotify", "--device-code"], {
    env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /add spotify/);
});

Deno.test("denied consent exits 5 and writes nothing", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  const cli = spawnCli(["add", "spotify", "--json", "--redirect-uri", redirectUri], {
    env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
  });
  const authorize = await cli.event("authorize");
  const page = await fetch(await mock.deny(String(authorize.url)));
  assert.match(await page.text(), /Spotify authorization failed/);
  const result = await cli.done();
  assert.equal(result.code, 5);
  assert.equal(lastJson(result.stdout).code, "access_denied");
  assert.equal(await exists(`${home.path}/auth.json`), false);
});

Deno.test({
  name:
    "over SSH the hint gives the tunnel for the bound port and offers paste-back, never --device-code; pasting completes the login",
  ignore: driver === null,
  async fn() {
    const { mock, redirectUri } = await mockWithOwnRedirect();
    await using _mock = mock;
    await using home = await tempHome();
    const port = new URL(redirectUri).port;
    // A real pseudo-terminal (tests/e2e/pty.ts), so it offers the paste prompt.
    await using term = await openTerminal(
      ["add", "spotify", "--no-browser", "--redirect-uri", redirectUri],
      { env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID, ...SSH }) },
    );
    await waitFor(term, /Waiting up to/);
    const shown = await term.screen();
    assert.ok(
      shown.includes(`ssh -N -L 127.0.0.1:${port}:127.0.0.1:${port} ada@198.51.100.7`),
      shown,
    );
    assert.match(shown, /paste it here/);
    assert.doesNotMatch(shown, /--device-code/);
    const url = await waitFor(term, /http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+/);
    const callback = await mock.approve(url);
    // Typed into the terminal, as a person would after the browser failed to load it.
    await term.type(`${callback}${ENTER}`);
    const code = await term.exitCode();
    const screen = await term.screen();
    assert.equal(code, 0, screen);
    assert.match(screen, /Logged in to Spotify/);
    assert.ok(mock.isValidAccessToken(String((await spotifyState(home.path)).access_token)));
    assert.equal(mock.stats.codeExchanges, 1);
  },
});

Deno.test("--manual-paste binds nothing and takes the redirect URL on a piped stdin", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  const cli = spawnCli(["add", "spotify", "--manual-paste", "--json", "--no-browser"], {
    env: env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID }),
    stdin: true,
  });
  const authorize = await cli.event("authorize");
  assert.equal(authorize.listening, false);
  assert.equal(authorize.redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
  assert.equal(authorize.tunnel, null);
  const callback = await mock.approve(String(authorize.url));
  await cli.write(`${callback}\n`);
  const result = await cli.done();
  assert.equal(result.code, 0, result.stderr);
  const state = await spotifyState(home.path);
  assert.equal(state.redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
  assert.ok(mock.isValidAccessToken(String(state.access_token)));
});

Deno.test("two-step: --no-wait then --callback-url logs in, once", async () => {
  await using mock = await startMockSpotify();
  await using home = await tempHome();
  const spotifyEnv = env(home.path, mock, { SPOTIFY_CLIENT_ID: SPOTIFY_TEST_CLIENT_ID });
  const first = await runCli(["add", "spotify", "--no-wait", "--json"], { env: spotifyEnv });
  assert.equal(first.code, 0, first.stderr);
  const authorize = JSON.parse(first.stdout.split("\n")[0]);
  assert.equal(authorize.event, "authorize");
  assert.equal(authorize.redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
  const pendingFile = `${home.path}/pending/spotify.json`;
  assert.equal((await Deno.stat(pendingFile)).mode! & 0o777, 0o600);

  const callback = await mock.approve(authorize.url);
  const second = await runCli(["add", "spotify", "--callback-url", callback, "--json"], {
    env: spotifyEnv,
  });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(lastJson(second.stdout).event, "success");
  assert.equal(await exists(pendingFile), false);
  const state = await spotifyState(home.path);
  assert.equal(state.redirect_uri, SPOTIFY_DEFAULT_REDIRECT_URI);
  assert.equal(state.client_id, SPOTIFY_TEST_CLIENT_ID);

  const replay = await runCli(["add", "spotify", "--callback-url", callback], { env: spotifyEnv });
  assert.equal(replay.code, 3);
  assert.equal(mock.stats.codeExchanges, 1);
});

Deno.test({
  name: "two-step: the second step needs no client id again; the pending login has it",
  async fn() {
    await using mock = await startMockSpotify();
    await using home = await tempHome();
    const first = await runCli(
      ["add", "spotify", "--no-wait", "--json", "--client-id", SPOTIFY_TEST_CLIENT_ID],
      { env: env(home.path, mock) },
    );
    assert.equal(first.code, 0, first.stderr);
    const callback = await mock.approve(JSON.parse(first.stdout.split("\n")[0]).url);
    const second = await runCli(["add", "spotify", "--callback-url", callback], {
      env: env(home.path, mock),
    });
    assert.equal(second.code, 0, second.stderr);
  },
});

Deno.test("token spotify prints the stored access token and nothing else", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  await logIn(mock, home.path, redirectUri);
  const result = await runCli(["token", "spotify"], { env: env(home.path, mock) });
  assert.equal(result.code, 0, result.stderr);
  const accessToken = result.stdout.trim();
  assert.equal(result.stdout, `${accessToken}\n`);
  assert.equal(accessToken, (await spotifyState(home.path)).access_token);
  assert.ok(mock.isValidAccessToken(accessToken));
  assert.equal(mock.stats.refreshes, 0);
});

/**
 * Make the stored hour-long token look old: obtained 3600 - `secondsLeft` s ago, expiring in
 * `secondsLeft` s. (The CLI shortens the skew for tokens that live less than twice as long, so
 * a short-lived token from the mock would not show the 120 s rule.)
 */
async function ageToken(home: string, secondsLeft: number): Promise<void> {
  const auth = await readAuth(home);
  const state = (auth.providers as Json).spotify as Json;
  const now = Date.now();
  state.obtained_at = new Date(now - (3600 - secondsLeft) * 1000).toISOString();
  state.expires_at = new Date(now + secondsLeft * 1000).toISOString();
  await Deno.writeTextFile(`${home}/auth.json`, JSON.stringify(auth));
}

Deno.test("token spotify refreshes within 120 s of expiry, not before; without rotation the refresh token is kept", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  await logIn(mock, home.path, redirectUri);
  await ageToken(home.path, 180);
  const early = await runCli(["token", "spotify"], { env: env(home.path, mock) });
  assert.equal(early.code, 0, early.stderr);
  assert.equal(mock.stats.refreshes, 0);

  await ageToken(home.path, 100);
  const before = await spotifyState(home.path);
  const result = await runCli(["token", "spotify"], { env: env(home.path, mock) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(mock.stats.refreshes, 1);
  const sent = mock.stats.lastTokenParams!;
  assert.equal(sent.get("grant_type"), "refresh_token");
  assert.equal(sent.get("client_id"), SPOTIFY_TEST_CLIENT_ID);
  assert.equal(sent.get("refresh_token"), before.refresh_token);
  const after = await spotifyState(home.path);
  assert.equal(result.stdout, `${after.access_token}\n`);
  assert.notEqual(after.access_token, before.access_token);
  assert.ok(mock.isValidAccessToken(String(after.access_token)));
  assert.equal(after.refresh_token, before.refresh_token);
  assert.equal(after.expires_in, 3600);
  assert.ok(Date.parse(String(after.expires_at)) - Date.now() > 3500_000);
});

Deno.test("a rotated refresh token is stored and the next refresh uses it", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect({ rotateRefreshTokens: true });
  await using _mock = mock;
  await using home = await tempHome();
  await logIn(mock, home.path, redirectUri);
  const before = await spotifyState(home.path);
  const first = await runCli(["refresh", "spotify"], { env: env(home.path, mock) });
  assert.equal(first.code, 0, first.stderr);
  const after = await spotifyState(home.path);
  assert.notEqual(after.refresh_token, before.refresh_token);
  const again = await runCli(["refresh", "spotify"], { env: env(home.path, mock) });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(mock.stats.lastTokenParams?.get("refresh_token"), after.refresh_token);
  assert.equal(mock.stats.refreshes, 2);
});

Deno.test("a 4xx on refresh means log in again: exit 3 naming `add spotify`", async () => {
  const cases: [string, (mock: MockSpotify) => void][] = [
    ["400", (mock) => mock.faults.refreshStatus = 400],
    ["401", (mock) => mock.faults.refreshStatus = 401],
    ["revoked", (mock) => mock.revokeAll()],
  ];
  for (const [name, breakIt] of cases) {
    const { mock, redirectUri } = await mockWithOwnRedirect();
    await using _mock = mock;
    await using home = await tempHome();
    await logIn(mock, home.path, redirectUri);
    await ageToken(home.path, 100);
    breakIt(mock);
    const result = await runCli(["token", "spotify", "--json"], { env: env(home.path, mock) });
    assert.equal(result.code, 3, `${name}: ${result.stderr}`);
    const error = lastJson(result.stdout);
    assert.equal(error.code, "refresh_rejected", name);
    assert.match(String(error.fix), /hermes-auth add spotify/);
    assert.equal(mock.stats.refreshes, 1, name);
    const status = await runCli(["status", "spotify"], { env: env(home.path, mock) });
    assert.equal(status.code, 3, `${name}: ${status.stdout}`);
    assert.match(status.stdout, /add spotify/);
  }
});

Deno.test("a 5xx on refresh keeps the login; token hands out the still-valid token with a warning", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  await logIn(mock, home.path, redirectUri);
  await ageToken(home.path, 100);
  const before = await spotifyState(home.path);
  mock.faults.refreshStatus = 503;
  const result = await runCli(["token", "spotify"], { env: env(home.path, mock) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${before.access_token}\n`);
  assert.match(result.stderr, /could not refresh/);
  assert.ok(mock.stats.refreshes >= 1);
  assert.deepEqual(await spotifyState(home.path), before);
});

Deno.test("status spotify reports the login; logout spotify removes it and keeps everything else", async () => {
  const { mock, redirectUri } = await mockWithOwnRedirect();
  await using _mock = mock;
  await using home = await tempHome();
  await Deno.mkdir(home.path, { recursive: true });
  const row = { id: "abcdef", label: "mine", auth_type: "api_key", priority: 0, source: "manual" };
  await Deno.writeTextFile(
    `${home.path}/auth.json`,
    JSON.stringify({
      version: 1,
      providers: { other: { a: 1 } },
      credential_pool: { openrouter: [row] },
      active_provider: "openrouter",
      future_field: { nested: true },
    }),
  );
  await logIn(mock, home.path, redirectUri);

  const status = await runCli(["status", "spotify", "--json"], { env: env(home.path, mock) });
  assert.equal(status.code, 0, status.stderr);
  const entry = (JSON.parse(status.stdout).providers as Json[])[0];
  assert.equal(entry.provider, "spotify");
  assert.equal(entry.loggedIn, true);
  assert.equal(entry.active, false);
  const text = await runCli(["status", "spotify"], { env: env(home.path, mock) });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /spotify\s+logged in/);
  const secret = String((await spotifyState(home.path)).access_token);
  assert.ok(!status.stdout.includes(secret) && !text.stdout.includes(secret));

  const logout = await runCli(["logout", "spotify"], { env: env(home.path, mock) });
  assert.equal(logout.code, 0, logout.stderr);
  const auth = await readAuth(home.path);
  assert.equal((auth.providers as Json).spotify, undefined);
  assert.deepEqual((auth.providers as Json).other, { a: 1 });
  assert.deepEqual((auth.credential_pool as Json).openrouter, [row]);
  assert.equal(auth.active_provider, "openrouter");
  assert.deepEqual(auth.future_field, { nested: true });

  const after = await runCli(["status", "spotify"], { env: env(home.path, mock) });
  assert.equal(after.code, 3);
  assert.match(after.stdout, /not logged in/);
  const token = await runCli(["token", "spotify"], { env: env(home.path, mock) });
  assert.equal(token.code, 3);
  assert.equal(token.stdout, "");
});
