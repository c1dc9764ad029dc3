/**
 * A custom provider whose config.yaml entry is invalid is shown as broken,
 * with the file, line and key, in `status` and in `doctor` — not left out
 * in silence — and does not hide the entries that are fine.
 */
import assert from "node:assert/strict";
import { doctorWith } from "../../lib/cli/doctor.ts";
import { status } from "../../lib/cli/status.ts";
import { configFilePath } from "../../lib/store/config.ts";
import { fakeContext, QUIET_DOCTOR, run, withHome } from "./command_context.ts";

const CONFIG = `# custom logins
oauth_providers:
  good-idp:
    issuer: https://idp.example.com
    scopes: [openid, offline_access]
  my-idp:
    issuer: https://idp2.example.com
    scopes: [openid]
    redirect:
      port: 99999
`;

async function homeWith(home: string, config: string): Promise<void> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(configFilePath(home), config);
}

Deno.test("status shows an invalid custom provider as broken, with its line, next to the good one", async () => {
  await withHome(async (home) => {
    await homeWith(home, CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => status(ctx, undefined, {})), 3);
    const out = fake.stdout.text;
    assert.match(out, /⚠ good-idp +not logged in/);
    assert.match(out, /⚠ my-idp +broken: its entry in config\.yaml is invalid\n/);
    assert.match(
      out,
      /\n {4}\S+config\.yaml line 10: oauth_providers\.my-idp\.redirect\.port: expected a whole number from 1 to 65535 \(found 99999\)\n/,
    );
    assert.match(out, /→ fix oauth_providers\.my-idp\.redirect\.port on line 10 of /);
  });
});

Deno.test("status --json carries the broken entry's error and line", async () => {
  await withHome(async (home) => {
    await homeWith(home, CONFIG);
    const fake = fakeContext(home, { json: true });
    await run(fake, (ctx) => status(ctx, undefined, {}));
    const broken = JSON.parse(fake.stdout.text).providers.find(
      (p: { provider: string }) => p.provider === "my-idp",
    );
    assert.equal(broken.usable, false);
    assert.equal(broken.configError.line, 10);
    assert.match(broken.configError.message, /redirect\.port/);
  });
});

Deno.test("a config.yaml that is not YAML at all is said in status, before the built-in providers", async () => {
  await withHome(async (home) => {
    await homeWith(home, "oauth_providers:\n  my-idp: [x\n");
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => status(ctx, undefined, {})), 3);
    const lines = fake.stdout.text.split("\n");
    assert.match(lines[0], /^⚠ Invalid YAML in \S+config\.yaml at line \d+, column \d+/);
    assert.match(lines[1], /no custom provider from config\.yaml can be shown/);
    assert.match(fake.stdout.text, /⚠ xai-oauth +not logged in/);
  });
});

Deno.test("one bad entry does not stand in the way of another: status good-idp works", async () => {
  await withHome(async (home) => {
    await homeWith(home, CONFIG);
    const good = fakeContext(home);
    assert.equal(await run(good, (ctx) => status(ctx, "good-idp", {})), 3);
    assert.match(good.stdout.text, /⚠ good-idp +not logged in/);
    const bad = fakeContext(home);
    assert.equal(await run(bad, (ctx) => status(ctx, "my-idp", {})), 2);
    assert.match(bad.stderr.text, /config\.yaml line 10: oauth_providers\.my-idp\.redirect\.port/);
  });
});

Deno.test("doctor fails on an invalid custom provider, naming the line, although the YAML is valid", async () => {
  await withHome(async (home) => {
    await homeWith(home, CONFIG);
    const fake = fakeContext(home);
    assert.equal(await run(fake, (ctx) => doctorWith(ctx, {}, QUIET_DOCTOR)), 1);
    const out = fake.stdout.text;
    assert.match(out, /✓ config\.yaml: \S+ is valid YAML/);
    assert.match(
      out,
      /✗ config\.yaml my-idp: \S+config\.yaml line 10: oauth_providers\.my-idp\.redirect\.port: expected/,
    );
    assert.match(out, /⚠ my-idp +broken: its entry in config\.yaml is invalid/);
    assert.match(out, /✗ 1 problem to fix/);
  });
});
