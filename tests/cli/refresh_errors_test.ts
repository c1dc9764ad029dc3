/**
 * A refresh that fails for a reason of the provider's or the network's is
 * told in a person's terms — the provider is unavailable, the connection was
 * refused — with the library's own words kept for HERMES_AUTH_DEBUG.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { httpStatusText } from "../../lib/oauth/failures.ts";
import { startMockXai } from "../mock/xai_mock.ts";
import { seedLogin } from "../e2e/seed_login.ts";
import { runCommand } from "./fake_context.ts";

async function tempHome(): Promise<AsyncDisposable & { path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-cli-refresh-errors-" });
  return {
    path: join(dir, "hermes"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("a 503 on refresh says the provider is unavailable, not oauth4webapi's words (exit 6)", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  mock.faults.refreshStatus = 503;
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const result = await runCommand(["refresh", "xai-oauth"], { env });
  assert.equal(result.code, 6);
  const [message, fix, ...rest] = result.stderr.trimEnd().split("\n");
  assert.equal(
    message,
    "✗ xAI Grok OAuth (SuperGrok Subscription) could not refresh the login right now " +
      "(HTTP 503 Service Unavailable: the server is down or overloaded); the stored login is unchanged",
  );
  assert.equal(fix, "  → This is usually temporary: try again in a few minutes.");
  assert.deepEqual(rest, []);
  assert.doesNotMatch(result.stderr, /conform|Token Endpoint response/);
});

Deno.test("HERMES_AUTH_DEBUG=1 keeps the library's detail, under the same message", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  await seedLogin(home.path, mock);
  mock.faults.refreshStatus = 503;
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer, HERMES_AUTH_DEBUG: "1" };
  const human = await runCommand(["refresh", "xai-oauth"], { env });
  assert.match(human.stderr, /could not refresh the login right now \(HTTP 503/);
  assert.match(
    human.stderr,
    /\n {2}cause: OperationProcessingError \(OAUTH_RESPONSE_IS_NOT_CONFORM\): "response" is not a conform Token Endpoint response/,
  );
  assert.match(
    human.stderr,
    /\n {2}cause: HTTP 503 .*from http:\/\/127\.0\.0\.1:\d+\/oauth2\/token/,
  );
  const json = await runCommand(["refresh", "xai-oauth", "--json"], { env });
  const event = JSON.parse(json.stdout.trim());
  assert.equal(event.code, "provider_error");
  assert.match(event.causes[0], /is not a conform Token Endpoint response/);
  const quiet = await runCommand(["refresh", "xai-oauth", "--json"], {
    env: { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer },
  });
  assert.equal(JSON.parse(quiet.stdout.trim()).causes, undefined, "no detail without the flag");
});

Deno.test("an unreachable token endpoint says the connection was refused, and to where", async () => {
  await using mock = await startMockXai();
  await using home = await tempHome();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await seedLogin(home.path, mock, { tokenEndpoint: `http://127.0.0.1:${port}/oauth2/token` });
  const env = { HERMES_HOME: home.path, HERMES_XAI_ISSUER: mock.issuer };
  const result = await runCommand(["refresh", "xai-oauth"], { env });
  assert.equal(result.code, 6);
  assert.match(
    result.stderr,
    new RegExp(
      `^✗ could not reach xAI .*: the connection to 127\\.0\\.0\\.1:${port} was refused\\n`,
    ),
  );
  assert.doesNotMatch(result.stderr, /fetch failed/);
});

Deno.test("HTTP statuses are named with what they mean for the person waiting", () => {
  assert.equal(
    httpStatusText(503),
    "HTTP 503 Service Unavailable: the server is down or overloaded",
  );
  assert.equal(
    httpStatusText(429),
    "HTTP 429 Too Many Requests: the server is turning requests away for now",
  );
  assert.equal(httpStatusText(500), "HTTP 500 Internal Server Error: the server failed");
  assert.equal(httpStatusText(504), "HTTP 504 Gateway Timeout: the server did not answer in time");
  assert.equal(httpStatusText(418), "HTTP 418");
});
