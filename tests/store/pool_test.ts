import assert from "node:assert/strict";
import { isAuthError } from "../../lib/errors.ts";
import type { AuthFile, PoolRow } from "../../lib/store/auth_store.ts";
import {
  findRow,
  hasProviderState,
  logoutProvider,
  moveRow,
  pooledProviders,
  poolEntries,
  poolRows,
  removeRow,
  rowHealth,
} from "../../lib/store/pool.ts";

const NOW = new Date("2025-06-01T12:00:00Z");
const XAI = { id: "xai-oauth", storage: "xai" as const };

function row(overrides: Partial<PoolRow> & Pick<PoolRow, "id" | "label" | "priority">): PoolRow {
  return {
    auth_type: "oauth",
    source: "manual:device_code",
    access_token: `access-${overrides.id}`,
    refresh_token: `refresh-${overrides.id}`,
    last_status: "ok",
    ...overrides,
  };
}

/** A store with the xAI login state, its mirror row and two manual rows, stored out of order. */
function store(): AuthFile {
  return {
    version: 1,
    providers: {
      "xai-oauth": {
        tokens: { access_token: "access-aaa111", refresh_token: "refresh-aaa111" },
        last_refresh: "2025-06-01T11:00:00Z",
        auth_mode: "oauth_pkce",
      },
      spotify: { access_token: "s", refresh_token: "r" },
    },
    active_provider: "xai-oauth",
    credential_pool: {
      "xai-oauth": [
        row({ id: "ccc333", label: "work", priority: 2 }),
        row({ id: "aaa111", label: "me@example.com", priority: 0, source: "device_code" }),
        row({ id: "bbb222", label: "Work", priority: 1 }),
      ],
      openrouter: [row({ id: "ddd444", label: "api-key-1", priority: 0, auth_type: "api_key" })],
    },
    suppressed_sources: { nous: ["device_code"] },
    unknown_top_level: { kept: true },
  };
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isAuthError(e, "usage"), `expected a usage error, got ${e}`);
    assert.equal(e.exit, 2);
    return `${e.message}\n${e.fix ?? ""}`;
  }
  assert.fail("expected a usage error");
}

Deno.test("rows are listed by priority, #1 first, whatever the file order", () => {
  assert.deepEqual(poolRows(store(), "xai-oauth").map((r) => r.id), [
    "aaa111",
    "bbb222",
    "ccc333",
  ]);
  assert.deepEqual(poolRows(store(), "nobody"), []);
  assert.deepEqual(pooledProviders(store()), ["xai-oauth", "openrouter"]);
});

Deno.test("the row behind the credential token would use is the one marked in use", () => {
  const entries = poolEntries(store(), XAI, NOW);
  assert.deepEqual(entries.map((e) => [e.index, e.row.id, e.inUse]), [
    [1, "aaa111", true],
    [2, "bbb222", false],
    [3, "ccc333", false],
  ]);
});

Deno.test("a dead or cooling-down row is skipped; the next healthy one is in use", () => {
  const data = store();
  const rows = data.credential_pool!["xai-oauth"];
  // The mirror row dies with the state (Hermes quarantined the login).
  delete (data.providers["xai-oauth"].tokens as Record<string, unknown>).access_token;
  rows[2].last_status = "exhausted"; // bbb222 is in its cooldown until 12:30
  rows[2].last_error_reset_at = NOW.getTime() / 1000 + 1800;
  const entries = poolEntries(data, XAI, NOW);
  assert.deepEqual(entries.map((e) => [e.row.id, e.health, e.inUse]), [
    ["aaa111", "dead", false],
    ["bbb222", "exhausted", false],
    ["ccc333", "ok", true],
  ]);
  assert.equal(entries[1].retryAt?.toISOString(), "2025-06-01T12:30:00.000Z");
});

Deno.test("row health: cooldowns from the error code, dead, no token, never used", () => {
  const base = row({ id: "x", label: "x", priority: 0 });
  const at = NOW.getTime() / 1000;
  assert.equal(rowHealth({ ...base, last_status: null }, NOW).health, "unknown");
  assert.equal(rowHealth({ ...base, last_status: "dead" }, NOW).health, "dead");
  assert.equal(rowHealth({ ...base, access_token: "" }, NOW).health, "no_token");
  // 401: five minutes; anything else: an hour. Hermes stores the HTTP status as a number.
  const exhausted = (code: number) =>
    ({
      ...base,
      last_status: "exhausted",
      last_status_at: at - 400,
      last_error_code: code,
    }) as unknown as PoolRow;
  assert.equal(rowHealth(exhausted(401), NOW).health, "ok");
  assert.equal(rowHealth(exhausted(429), NOW).health, "exhausted");
});

Deno.test("a target is found by #index, index, id or label (any case)", () => {
  const data = store();
  assert.equal(findRow(data, "xai-oauth", "#2").row.id, "bbb222");
  assert.equal(findRow(data, "xai-oauth", "3").row.id, "ccc333");
  assert.equal(findRow(data, "xai-oauth", "AAA111").index, 1);
  assert.equal(findRow(data, "xai-oauth", "ME@example.com").row.id, "aaa111");
});

Deno.test("a label two rows share is ambiguous, and the error lists both", () => {
  const message = usageMessage(() => findRow(store(), "xai-oauth", "work"));
  assert.match(message, /"work" matches more than one xai-oauth credential/);
  assert.match(message, /#2 "Work" \(id=bbb222\)/);
  assert.match(message, /#3 "work" \(id=ccc333\)/);
  assert.doesNotMatch(message, /aaa111/);
});

Deno.test("a number that is both a position and another row's label is ambiguous", () => {
  const data = store();
  data.credential_pool!["xai-oauth"][0].label = "1"; // ccc333 is #3, labelled "1"
  const message = usageMessage(() => findRow(data, "xai-oauth", "1"));
  assert.match(message, /#1 .*aaa111/);
  assert.match(message, /#3 "1" \(id=ccc333\)/);
  assert.match(message, /Use #1 for the position/);
  assert.equal(findRow(data, "xai-oauth", "#1").row.id, "aaa111");
});

Deno.test("an unknown target lists every stored credential", () => {
  for (const target of ["nobody", "#4", "0", "9"]) {
    const message = usageMessage(() => findRow(store(), "xai-oauth", target));
    assert.match(message, new RegExp(`No xai-oauth credential matches "${target}"`));
    for (const id of ["aaa111", "bbb222", "ccc333"]) assert.match(message, new RegExp(id));
  }
  assert.match(
    usageMessage(() => findRow(store(), "spotify", "1")),
    /No spotify credentials are stored/,
  );
});

Deno.test("removing a manual row renumbers the rest and leaves the login state alone", () => {
  const data = store();
  const removed = removeRow(data, "xai-oauth", "bbb222");
  assert.equal(removed.index, 2);
  assert.equal(removed.clearedLogin, false);
  assert.deepEqual(removed.suppressed, []);
  assert.deepEqual(removed.alsoRemoved, []);
  assert.equal(removed.remaining, 2);
  assert.deepEqual(
    data.credential_pool!["xai-oauth"].map((r) => [r.id, r.priority]),
    [["aaa111", 0], ["ccc333", 1]],
  );
  assert.ok(data.providers["xai-oauth"]);
  assert.deepEqual(data.suppressed_sources, { nous: ["device_code"] });
});

Deno.test("removing the row that mirrors the login state clears it and suppresses device_code", () => {
  const data = store();
  const removed = removeRow(data, "xai-oauth", "#1");
  assert.equal(removed.row.id, "aaa111");
  assert.equal(removed.clearedLogin, true);
  assert.deepEqual(removed.suppressed, ["device_code"]);
  assert.equal(data.providers["xai-oauth"], undefined);
  assert.ok(data.providers.spotify, "other providers are untouched");
  assert.deepEqual(data.suppressed_sources, {
    nous: ["device_code"],
    "xai-oauth": ["device_code"],
  });
  assert.deepEqual(data.credential_pool!["xai-oauth"].map((r) => r.priority), [0, 1]);
  assert.deepEqual(data.credential_pool!.openrouter.length, 1);
  assert.deepEqual(data.unknown_top_level, { kept: true });
  // Hermes's legacy dict form of suppressed_sources becomes a list.
  const legacy = store();
  legacy.suppressed_sources = { "xai-oauth": { claude_code: true } };
  removeRow(legacy, "xai-oauth", "aaa111");
  assert.deepEqual(legacy.suppressed_sources, { "xai-oauth": ["claude_code", "device_code"] });
});

Deno.test("removing the loopback era's mirror row clears the login and suppresses loopback_pkce", () => {
  const data = store();
  data.credential_pool!["xai-oauth"][1].source = "loopback_pkce";
  const removed = removeRow(data, "xai-oauth", "aaa111");
  assert.equal(removed.clearedLogin, true);
  assert.deepEqual(removed.suppressed, ["loopback_pkce"]);
  assert.equal(data.providers["xai-oauth"], undefined);
  assert.deepEqual(data.suppressed_sources, {
    nous: ["device_code"],
    "xai-oauth": ["loopback_pkce"],
  });
});

Deno.test("moveRow puts a row at the position asked for and renumbers, as Hermes's auth priority does", () => {
  const data = store();
  const moved = moveRow(data, "xai-oauth", "ccc333", 1);
  assert.deepEqual([moved.from, moved.to, moved.row.id], [3, 1, "ccc333"]);
  assert.deepEqual(
    data.credential_pool!["xai-oauth"].map((r) => [r.id, r.priority]),
    [["ccc333", 0], ["aaa111", 1], ["bbb222", 2]],
  );
  // Past the end is clamped to the last place.
  assert.equal(moveRow(data, "xai-oauth", "ccc333", 9).to, 3);
  assert.deepEqual(poolRows(data, "xai-oauth").map((r) => r.id), ["aaa111", "bbb222", "ccc333"]);
  assert.throws(() => moveRow(data, "xai-oauth", "nobody", 1), (e) => isAuthError(e, "usage"));
});

Deno.test("each row names its account: its own token's, or for the mirror the login state's", () => {
  const b64 = (v: unknown) => btoa(JSON.stringify(v)).replaceAll("=", "");
  const data = store();
  (data.providers["xai-oauth"].tokens as Record<string, unknown>).id_token = `${
    b64({ alg: "none" })
  }.${b64({ sub: "u-1", email: "state@example.com" })}.x`;
  data.credential_pool!["xai-oauth"][0].access_token = `${b64({ alg: "none" })}.${
    b64({ sub: "u-3" })
  }.x`;
  assert.deepEqual(poolEntries(data, XAI, NOW).map((e) => [e.row.id, e.account]), [
    ["aaa111", "state@example.com"],
    ["bbb222", null],
    ["ccc333", "u-3"],
  ]);
});

Deno.test("a failed removal changes nothing", () => {
  const data = store();
  const before = structuredClone(data);
  assert.throws(() => removeRow(data, "xai-oauth", "work"), (e) => isAuthError(e, "usage"));
  assert.deepEqual(data, before);
});

Deno.test("logout drops the state, every row and the active provider, nothing else", () => {
  const data = store();
  assert.ok(hasProviderState(data, "xai-oauth"));
  const result = logoutProvider(data, "xai-oauth");
  assert.equal(result.login, true);
  assert.equal(result.wasActive, true);
  assert.deepEqual(result.rows.map((r) => [r.index, r.row.id]), [
    [1, "aaa111"],
    [2, "bbb222"],
    [3, "ccc333"],
  ]);
  assert.equal(data.providers["xai-oauth"], undefined);
  assert.equal(data.credential_pool!["xai-oauth"], undefined);
  assert.equal(data.active_provider, null);
  assert.ok(data.providers.spotify);
  assert.equal(data.credential_pool!.openrouter.length, 1);
  assert.deepEqual(data.suppressed_sources, { nous: ["device_code"] });
  assert.equal(hasProviderState(data, "xai-oauth"), false);
  // A second logout finds nothing.
  assert.deepEqual(logoutProvider(data, "xai-oauth"), { login: false, rows: [], wasActive: false });
});

Deno.test("logout of a provider that is not active keeps active_provider", () => {
  const data = store();
  const result = logoutProvider(data, "spotify");
  assert.equal(result.login, true);
  assert.equal(result.wasActive, false);
  assert.equal(data.active_provider, "xai-oauth");
});
