import assert from "node:assert/strict";
import { join } from "node:path";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "../e2e/seed_login.ts";
import { jwt } from "../hermes/eras.ts";
import { runCommand } from "./fake_context.ts";

type Json = Record<string, unknown>;

async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-cli-token-" });
  return {
    path: join(dir, "hermes"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function env(home: string, issuer: string): Record<string, string> {
  return { HERMES_HOME: home, HERMES_XAI_ISSUER: issuer };
}

Deno.test("token prints the access token and a newline, nothing else anywhere", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const result = await runCommand(["token", "grok-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `${tokens.access_token}\n`);
  assert.equal(result.stderr, "");
});

Deno.test("token --json is {access_token, expires_at, token_type} and never a refresh token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock, { ageSeconds: 3570 });
  const result = await runCommand(["token", "xai-oauth", "--json"], {
    env: env(home.path, mock.issuer),
  });
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout) as Json;
  assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_at", "token_type"]);
  assert.notEqual(body.access_token, tokens.access_token, "it was refreshed first");
  assert.equal(body.token_type, "Bearer");
  const left = (Date.parse(String(body.expires_at)) - Date.now()) / 1000;
  assert.ok(left > 3500 && left <= 3600);
  const auth = JSON.parse(await Deno.readTextFile(join(home.path, "auth.json")));
  const refresh = auth.providers["xai-oauth"].tokens.refresh_token;
  assert.ok(!result.stdout.includes(refresh) && !result.stdout.includes(tokens.refresh_token!));
  assert.equal(mock.stats.refreshes, 1);
});

Deno.test("token with no login exits 3 and names the add command", async () => {
  await using home = await tempHome();
  const result = await runCommand(["token", "xai-oauth"], { env: { HERMES_HOME: home.path } });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /not logged in/);
  assert.match(result.stderr, /run `hermes-auth add xai-oauth`/);
});

Deno.test("token on a provider outage serves the still-valid token with a warning on stderr", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock, { ageSeconds: 3570 });
  mock.faults.refreshStatus = 502;
  const result = await runCommand(["token", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `${tokens.access_token}\n`);
  assert.match(result.stderr, /could not refresh the xai-oauth token .*HTTP 502.*expires in \d+ s/);
  assert.equal(mock.stats.refreshes, 3, "tried three times");
});

/** Replace the stored access token (state and mirror row) with one whose JWT `exp` is `exp`. */
async function storeAccessTokenExpiring(home: string, exp: number): Promise<string> {
  const path = join(home, "auth.json");
  const auth = JSON.parse(await Deno.readTextFile(path));
  const token = jwt({ iss: "https://auth.x.ai", sub: "xai-user-0001", exp });
  auth.providers["xai-oauth"].tokens.access_token = token;
  auth.credential_pool["xai-oauth"][0].access_token = token;
  await Deno.writeTextFile(path, JSON.stringify(auth));
  return token;
}

Deno.test("token never prints a token whose JWT exp has passed, though last_refresh + expires_in says it is valid: it refreshes first", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock); // last_refresh now, expires_in 3600
  const expired = await storeAccessTokenExpiring(home.path, Math.floor(Date.now() / 1000) - 60);
  const result = await runCommand(["token", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 0, result.stderr);
  assert.notEqual(result.stdout.trim(), expired);
  assert.equal(mock.stats.refreshes, 1);
  const auth = JSON.parse(await Deno.readTextFile(join(home.path, "auth.json")));
  assert.equal(result.stdout.trim(), auth.providers["xai-oauth"].tokens.access_token);
});

Deno.test("token with an expired JWT and the provider down prints nothing and says why (exit 6)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  const expired = await storeAccessTokenExpiring(home.path, Math.floor(Date.now() / 1000) - 60);
  mock.faults.refreshStatus = 502;
  const result = await runCommand(["token", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 6);
  assert.equal(result.stdout, "");
  assert.ok(!result.stderr.includes(expired));
  assert.match(result.stderr, /HTTP 502/);
});

Deno.test("token --json on an outage carries the warning inside the one JSON object", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  mock.faults.refreshStatus = 500;
  const result = await runCommand(["token", "xai-oauth", "--json"], {
    env: env(home.path, mock.issuer),
  });
  assert.equal(result.code, 0);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(String(JSON.parse(lines[0]).warning), /could not refresh/);
});

Deno.test("token on a rejected refresh token exits 3 and prints no token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock, { ageSeconds: 3570 });
  mock.revokeAll();
  const result = await runCommand(["token", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /rejected the stored refresh token/);
  assert.match(result.stderr, /hermes-auth add xai-oauth/);
});

Deno.test("token --account picks the named credential; a dead one is exit 3 naming it, no token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const path = join(home.path, "auth.json");
  const auth = JSON.parse(await Deno.readTextFile(path));
  const other = jwt({ sub: "other", email: "other@example.com", exp: 4102444800 });
  auth.credential_pool["xai-oauth"].push(
    {
      id: "b0b0b0",
      label: "other",
      auth_type: "oauth",
      priority: 1,
      source: "manual:device_code",
      access_token: other,
      refresh_token: "other-refresh",
    },
    {
      id: "dead00",
      label: "gone",
      auth_type: "oauth",
      priority: 2,
      source: "manual:device_code",
      access_token: "",
      last_status: "dead",
      last_error_message: "refresh token rejected",
    },
  );
  await Deno.writeTextFile(path, JSON.stringify(auth));
  const e = env(home.path, mock.issuer);
  assert.equal(
    (await runCommand(["token", "xai-oauth"], { env: e })).stdout,
    `${tokens.access_token}\n`,
  );
  for (const target of ["other", "b0b0b0", "#2", "2"]) {
    const picked = await runCommand(["token", "xai-oauth", "--account", target], { env: e });
    assert.equal(picked.stdout, `${other}\n`, target);
  }
  const json = await runCommand(["token", "--json", "xai-oauth", "--account=OTHER"], { env: e });
  assert.equal(JSON.parse(json.stdout).access_token, other);
  const dead = await runCommand(["token", "xai-oauth", "--account", "gone"], { env: e });
  assert.equal(dead.code, 3);
  assert.equal(dead.stdout, "");
  assert.match(dead.stderr, /#3 "gone" \(id=dead00\) no longer works: refresh token rejected/);
  const none = await runCommand(["token", "xai-oauth", "--account", "nobody"], { env: e });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /#2 "other" \(id=b0b0b0\)/, "the candidates are listed");
  assert.equal(mock.stats.refreshes, 0);
});

Deno.test("refresh forces a new token and prints its expiry, never the token", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const tokens = await seedLogin(home.path, mock);
  const result = await runCommand(["refresh", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /Refreshed the xAI Grok OAuth .* it expires (?:tomorrow )?\d\d:\d\d \(in 60 min\)/,
  );
  assert.equal(mock.stats.refreshes, 1);
  const json = await runCommand(["refresh", "xai-oauth", "--json"], {
    env: env(home.path, mock.issuer),
  });
  const body = JSON.parse(json.stdout);
  assert.equal(body.provider, "xai-oauth");
  assert.equal(body.refreshed, true);
  assert.ok(!json.stdout.includes("eyJ"), "no token in refresh's output");
  assert.ok(!json.stdout.includes(tokens.access_token));
  assert.equal(mock.stats.refreshes, 2);
});

Deno.test("refresh does not fall back to the old token when the provider is down (exit 6)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  mock.faults.refreshStatus = 500;
  const result = await runCommand(["refresh", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 6);
  assert.match(
    result.stderr,
    /could not refresh the login right now \(HTTP 500 Internal Server Error/,
  );
});

Deno.test("403 on refresh explains the subscription tier (exit 5)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  mock.faults.refreshStatus = 403;
  const result = await runCommand(["refresh", "xai-oauth"], { env: env(home.path, mock.issuer) });
  assert.equal(result.code, 5);
  assert.match(result.stderr, /subscription tier/);
  assert.match(result.stderr, /API key/);
});

Deno.test("the token command statically loads no listener, browser opener or OAuth library", async () => {
  const entry = new URL("../../lib/cli/token.ts", import.meta.url).href;
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success);
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string; dependencies?: Json[] }[];
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      const code = (dep.code as Json | undefined)?.specifier;
      if (typeof code === "string" && dep.isDynamic !== true) visit(code);
    }
  };
  visit(entry);
  assert.ok(loaded.has(new URL("../../lib/oauth/access_token.ts", import.meta.url).href));
  // A fresh token needs no lock, no writer and no refresh: they load when a refresh is due.
  const unwanted = [...loaded].filter((s) =>
    /\/lib\/(loopback|remote)\//.test(s) || /oauth4webapi|commander|yaml/.test(s) ||
    /\/lib\/oauth\/(authcode|device|server|refresh|refresh_grant)\.ts$/.test(s) ||
    /\/lib\/store\/(lock|atomic|auth_store|credentials|pool)\.ts$/.test(s)
  );
  assert.deepEqual(unwanted, []);
});
