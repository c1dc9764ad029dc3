/**
 * hermes-auth side by side with Hermes's own pool code (issue 12). Each
 * test starts from an auth.json as a Hermes era writes it (tests/hermes/
 * eras.ts builds them from what its code does), lets hermes-auth log in,
 * refresh or remove, and then asks the model of that era's code what it
 * would do with the result: prune, re-seed, relabel, strip tokens, select.
 */
import assert from "node:assert/strict";
import { xai } from "../../lib/providers/xai.ts";
import { spotify } from "../../lib/providers/spotify.ts";
import type { AuthFile, PoolRow } from "../../lib/store/auth_store.ts";
import {
  applyLogin,
  applyRefresh,
  type LoginRecord,
  pickCredential,
  readLogin,
  type TokenSet,
} from "../../lib/store/credentials.ts";
import { moveRow, removeRow } from "../../lib/store/pool.ts";
import {
  accountTokens,
  authRemove,
  ERAS,
  EXTRA_KEYS,
  FIELDS,
  forkedGrants,
  hermesAuthAdd,
  hermesLogin,
  loadPool,
  mirrorSourceOf,
  select,
  xaiAccessTokenIsExpiring,
  xaiAuthStatus,
} from "./eras.ts";

type Json = Record<string, unknown>;

const NOW = new Date("2026-06-20T12:00:00Z");
const LATER = new Date("2026-06-20T12:20:00Z");
const HOUR = new Date(NOW.getTime() + 3600_000);

const WORK = { sub: "xai-user-work", email: "work@example.com" };
const PERSONAL = { sub: "xai-user-personal", email: "me@example.com" };

function tokens(account: { sub: string; email?: string }, serial: string, expiresAt = HOUR) {
  return accountTokens(account, { expiresAt, serial });
}

function login(t: TokenSet, extra: Partial<LoginRecord> = {}): LoginRecord {
  return {
    provider: xai,
    tokens: t,
    authMode: "oauth_device_code",
    discovery: {
      authorization_endpoint: "https://auth.x.ai/oauth2/authorize",
      token_endpoint: "https://auth.x.ai/oauth2/token",
    },
    redirectUri: "",
    clientId: "b1a00492-073a-47ea-816f-4c329264a828",
    now: NOW,
    ...extra,
  };
}

function rows(file: Json): PoolRow[] {
  return ((file.credential_pool as Json | undefined)?.["xai-oauth"] ?? []) as PoolRow[];
}

/** What the era's load_pool does to the file hermes-auth left: nothing, and nothing lost. */
function assertKeptAsWritten(file: Json, era: (typeof ERAS)[number]) {
  const loaded = loadPool(file, era);
  assert.deepEqual(
    {
      sanitized: loaded.sanitized,
      pruned: loaded.pruned,
      seeded: loaded.seeded,
      relabelled: loaded.relabelled,
      updated: loaded.updated,
    },
    { sanitized: [], pruned: [], seeded: [], relabelled: [], updated: {} },
    `${era}-era load_pool would change what hermes-auth wrote`,
  );
  assert.equal(loaded.changed, false, `${era}-era load_pool would rewrite the pool`);
  assert.deepEqual(
    loaded.rows.map((r) => [r.id, r.label, r.refresh_token]),
    rows(file).map((r) => [r.id, r.label, r.refresh_token]),
  );
  // Keys Hermes's from_dict does not know would be dropped at its next write: none may matter.
  const known = new Set([...FIELDS, ...EXTRA_KEYS]);
  for (const row of rows(file)) {
    assert.deepEqual(Object.keys(row).filter((k) => !known.has(k)), [], `row ${row.id}`);
  }
}

// 1. Re-login leaves a stale row.

for (const era of ERAS) {
  Deno.test(
    `${era} era: a re-login of the account Hermes mirrors updates the state and its ${
      mirrorSourceOf(era)
    } row in place, leaving no stale refresh token`,
    () => {
      const first = tokens(WORK, "1");
      const file = hermesLogin(era, first, { now: NOW }) as AuthFile;
      const [mirror] = structuredClone(rows(file));
      assert.equal(mirror.source, mirrorSourceOf(era));

      const again = tokens(WORK, "2");
      const stored = applyLogin(file, login(again, { now: LATER }))!;

      assert.equal(stored.outcome, "updated");
      assert.deepEqual([stored.index, stored.id, stored.label], [1, mirror.id, mirror.label]);
      assert.deepEqual(rows(file).map((r) => [r.id, r.source, r.refresh_token]), [
        [mirror.id, mirrorSourceOf(era), again.refresh_token],
      ]);
      const state = file.providers["xai-oauth"].tokens as Json;
      assert.equal(state.refresh_token, again.refresh_token);
      assert.ok(
        !JSON.stringify(file).includes(first.refresh_token),
        "the rotated-away token is gone",
      );
      assertKeptAsWritten(file, era);
      assert.deepEqual(forkedGrants(file), []);
    },
  );

  Deno.test(`${era} era: a refresh updates the state and its mirror row together`, () => {
    const file = hermesLogin(era, tokens(WORK, "1"), { now: NOW }) as AuthFile;
    const fresh = tokens(WORK, "2");
    applyRefresh(file, { provider: xai, ref: { kind: "state" }, tokens: fresh, now: LATER });
    assert.equal((file.providers["xai-oauth"].tokens as Json).refresh_token, fresh.refresh_token);
    assert.deepEqual(rows(file).map((r) => r.refresh_token), [fresh.refresh_token]);
    assertKeptAsWritten(file, era);
  });
}

Deno.test("a file both eras touched: a re-login updates both mirror rows, so neither holds a dead token", () => {
  const first = tokens(WORK, "1");
  const loopback = hermesLogin("loopback", first, { now: NOW });
  // An older hermes-auth (or today's Hermes before the loopback one pruned it) left a device_code row.
  const both = structuredClone(loopback) as AuthFile;
  rows(both).push({ ...rows(both)[0], id: "d0d0d0", priority: 1, source: "device_code" });
  applyLogin(both, login(tokens(WORK, "2"), { now: LATER }));
  const live = (both.providers["xai-oauth"].tokens as Json).refresh_token;
  assert.deepEqual(rows(both).map((r) => r.refresh_token), [live, live]);
  assert.ok(!JSON.stringify(both).includes(first.refresh_token));
  // Each era drops the other's mirror and keeps its own, holding the live token.
  for (const era of ERAS) {
    const loaded = loadPool(both, era);
    assert.deepEqual(loaded.rows.map((r) => [r.source, r.refresh_token]), [
      [mirrorSourceOf(era), live],
    ]);
  }
});

// 2. Hermes undoes a removal.

for (const era of ERAS) {
  Deno.test(
    `${era} era: removing Hermes's ${
      mirrorSourceOf(era)
    } row clears the login state and suppresses the source, so load_pool does not bring it back`,
    () => {
      const file = hermesLogin(era, tokens(WORK, "1"), { now: NOW }) as AuthFile;
      const removed = removeRow(file, "xai-oauth", "1");
      assert.equal(removed.clearedLogin, true);
      assert.deepEqual(removed.suppressed, [mirrorSourceOf(era)]);
      assert.equal(file.providers["xai-oauth"], undefined);
      assert.deepEqual(file.suppressed_sources, { "xai-oauth": [mirrorSourceOf(era)] });
      const loaded = loadPool(file, era);
      assert.deepEqual([loaded.rows, loaded.seeded], [[], []]);
      assert.deepEqual(xaiAuthStatus(loaded.file, era, NOW), { loggedIn: false });
      // The same as Hermes's own `auth remove` leaves.
      const hermes = authRemove(hermesLogin(era, tokens(WORK, "1"), { now: NOW }), era, "1");
      assert.equal((hermes.providers as Json)["xai-oauth"], undefined);
      assert.deepEqual(hermes.suppressed_sources, file.suppressed_sources);
    },
  );
}

Deno.test("removing one mirror row of a file both eras touched removes both and suppresses both sources", () => {
  const file = hermesLogin("loopback", tokens(WORK, "1"), { now: NOW }) as AuthFile;
  rows(file).push({ ...rows(file)[0], id: "d0d0d0", priority: 1, source: "device_code" });
  const removed = removeRow(file, "xai-oauth", "d0d0d0");
  assert.deepEqual(removed.alsoRemoved.map((r) => r.row.source), ["loopback_pkce"]);
  assert.deepEqual(removed.suppressed, ["device_code", "loopback_pkce"]);
  assert.deepEqual(rows(file), []);
  for (const era of ERAS) assert.deepEqual(loadPool(file, era).rows, []);
});

Deno.test("removing a manual row leaves the login state, the mirror and the other accounts alone", () => {
  let file = hermesLogin("device_code", tokens(WORK, "1"), { now: NOW });
  file = hermesAuthAdd(file, tokens(PERSONAL, "1"), { now: NOW });
  const data = file as AuthFile;
  applyLogin(data, login(tokens({ sub: "third", email: "third@example.com" }, "1")));
  const before = structuredClone(data);
  const removed = removeRow(data, "xai-oauth", "me@example.com");
  assert.equal(removed.clearedLogin, false);
  assert.deepEqual(removed.suppressed, []);
  assert.deepEqual(data.providers, before.providers);
  assert.deepEqual(rows(data).map((r) => [r.label, r.priority]), [
    ["work@example.com", 0],
    ["third@example.com", 1],
  ]);
  assert.equal(data.suppressed_sources, undefined);
});

Deno.test("a later add lifts the suppression, as Hermes's auth add does", () => {
  for (const era of ERAS) {
    const file = hermesLogin(era, tokens(WORK, "1"), { now: NOW }) as AuthFile;
    removeRow(file, "xai-oauth", "1");
    (file.suppressed_sources as Json).openrouter = ["env:OPENROUTER_API_KEY"];
    const stored = applyLogin(file, login(tokens(WORK, "2"), { now: LATER }))!;
    assert.equal(stored.outcome, "added", "the removed login is gone: a new row");
    assert.deepEqual(file.suppressed_sources, { openrouter: ["env:OPENROUTER_API_KEY"] });
    assertKeptAsWritten(file, era);
    assert.equal(xaiAuthStatus(file, era, LATER).loggedIn, true);
  }
});

// 3. An expired token is handed out.

Deno.test("the earliest known expiry wins: a JWT exp in the past beats last_refresh + expires_in", () => {
  const expired = new Date(NOW.getTime() - 60_000);
  const file = hermesLogin("device_code", tokens(WORK, "1", expired), { now: NOW }) as AuthFile;
  const state = readLogin(file, "xai-oauth", "xai")!;
  // last_refresh (now) + expires_in (3600) says an hour; the token itself says a minute ago.
  assert.deepEqual(state.expiresAt, expired);
  assert.ok(xaiAccessTokenIsExpiring(rows(file)[0].access_token, 0, NOW), "Hermes agrees");
  // And the other way round: expires_in says sooner than the JWT.
  const short = hermesLogin("device_code", { ...tokens(WORK, "2"), expires_in: 60 }, {
    now: NOW,
  }) as AuthFile;
  assert.deepEqual(
    readLogin(short, "xai-oauth", "xai")!.expiresAt,
    new Date(NOW.getTime() + 60_000),
  );
  // A pool row's expires_at older than its last_refresh belongs to the token before.
  const data = { version: 1, providers: {}, credential_pool: {} } as AuthFile;
  applyLogin(data, login({ ...tokens(PERSONAL, "1"), access_token: "opaque-token" }));
  Object.assign(rows(data)[0], {
    expires_at: "2026-06-20T11:00:00+00:00",
    last_refresh: "2026-06-20T11:59:00Z",
  });
  assert.deepEqual(
    pickCredential(data, xai, NOW)!.login.expiresAt,
    new Date("2026-06-20T12:59:00Z"),
    "expires_at predates the refresh: last_refresh + expires_in (3600) decides",
  );
});

// 4. Spotify lacks api_base_url.

Deno.test("a Spotify login stores api_base_url as Hermes's _spotify_token_payload_to_state does", () => {
  const record = (extra: Partial<LoginRecord> = {}): LoginRecord => ({
    provider: spotify,
    tokens: { access_token: "s-access", refresh_token: "s-refresh", expires_in: 3600 },
    authMode: "oauth_pkce",
    discovery: {
      authorization_endpoint: "https://accounts.spotify.com/authorize",
      token_endpoint: "https://accounts.spotify.com/api/token",
    },
    redirectUri: "http://127.0.0.1:43827/spotify/callback",
    clientId: "app",
    now: NOW,
    ...extra,
  });
  const data = { version: 1, providers: {} } as AuthFile;
  applyLogin(data, record());
  const state = data.providers.spotify;
  assert.equal(state.api_base_url, "https://api.spotify.com/v1");
  // Every field Hermes's runtime and status read (resolve_spotify_runtime_credentials, get_spotify_auth_status).
  for (
    const key of [
      "access_token",
      "refresh_token",
      "token_type",
      "api_base_url",
      "accounts_base_url",
      "granted_scope",
      "scope",
      "client_id",
      "redirect_uri",
      "expires_at",
      "auth_type",
    ]
  ) {
    assert.ok(typeof state[key] === "string" && state[key] !== "", key);
  }
  // HERMES_SPOTIFY_API_BASE_URL wins (trailing slash dropped), a stored value comes next.
  applyLogin(data, record({ apiBaseUrl: "https://spotify-proxy.test/v1/" }));
  assert.equal(data.providers.spotify.api_base_url, "https://spotify-proxy.test/v1");
  applyLogin(data, record());
  assert.equal(data.providers.spotify.api_base_url, "https://spotify-proxy.test/v1");
  // A refresh of a state written without it fills it in, as Hermes's refresh rewrites the state.
  delete data.providers.spotify.api_base_url;
  applyRefresh(data, {
    provider: spotify,
    ref: { kind: "state" },
    tokens: { access_token: "s2", expires_in: 3600 },
    now: LATER,
  });
  assert.equal(data.providers.spotify.api_base_url, "https://api.spotify.com/v1");
});

// 5. A second account replaces the first.

Deno.test("two accounts are two rows: --label work, then --label personal, keeps both", () => {
  const data = { version: 1, providers: {} } as AuthFile;
  const work = tokens(WORK, "1");
  const personal = tokens(PERSONAL, "1");
  const first = applyLogin(data, login(work, { label: "work" }))!;
  const second = applyLogin(data, login(personal, { label: "personal" }))!;
  assert.deepEqual(
    [first.outcome, first.index, first.label, first.account],
    ["added", 1, "work", "work@example.com"],
  );
  assert.deepEqual(
    [second.outcome, second.index, second.label, second.account],
    ["added", 2, "personal", "me@example.com"],
  );
  assert.deepEqual(rows(data).map((r) => [r.label, r.source, r.refresh_token, r.priority]), [
    ["work", "manual:device_code", work.refresh_token, 0],
    ["personal", "manual:device_code", personal.refresh_token, 1],
  ]);
  assert.equal(data.providers["xai-oauth"], undefined, "no login state: nothing to fork");
  assert.equal(data.active_provider, "xai-oauth");
  for (const era of ERAS) assertKeptAsWritten(data as Json, era);
});

Deno.test("the same account again updates its own row in place and says so", () => {
  const data = { version: 1, providers: {} } as AuthFile;
  applyLogin(data, login(tokens(WORK, "1"), { label: "work" }));
  const personal = applyLogin(data, login(tokens(PERSONAL, "1")))!;
  const renewed = tokens(PERSONAL, "2");
  const again = applyLogin(data, login(renewed, { now: LATER }))!;
  assert.deepEqual(
    [again.outcome, again.index, again.id, again.label],
    ["updated", 2, personal.id, "me@example.com"],
  );
  assert.equal(rows(data).length, 2);
  assert.equal(rows(data)[1].refresh_token, renewed.refresh_token);
  assert.equal(rows(data)[1].last_refresh, "2026-06-20T12:20:00Z");
  // --label renames it; without it the label stays.
  applyLogin(data, login(tokens(PERSONAL, "3"), { label: "personal" }));
  applyLogin(data, login(tokens(PERSONAL, "4")));
  assert.deepEqual(rows(data).map((r) => r.label), ["work", "personal"]);
});

Deno.test("the label defaults to the account: the e-mail, else the ID token's sub", () => {
  const data = { version: 1, providers: {} } as AuthFile;
  assert.equal(applyLogin(data, login(tokens(WORK, "1")))!.label, "work@example.com");
  assert.equal(applyLogin(data, login(tokens({ sub: "only-a-sub" }, "1")))!.label, "only-a-sub");
  const opaque = { access_token: "opaque-a", refresh_token: "opaque-r" };
  const third = applyLogin(data, login(opaque))!;
  assert.equal(third.label, "xai-oauth-oauth-3");
  // Its tokens name no account, so it may be either of the others: a row of its own, and a warning.
  assert.equal(third.outcome, "added");
  assert.deepEqual(third.unsure.map((u) => u.index), [1, 2]);
  const known = applyLogin(data, login(tokens({ sub: "fourth" }, "1")))!;
  assert.deepEqual(known.unsure.map((u) => u.index), [3], "only the row naming no account");
});

Deno.test("an account Hermes's own auth add stored is updated in place, not added twice", () => {
  const file = hermesAuthAdd({ version: 1, providers: {} }, tokens(PERSONAL, "1"), {
    now: NOW,
    label: "mine",
  }) as AuthFile;
  const [row] = structuredClone(rows(file));
  const stored = applyLogin(file, login(tokens(PERSONAL, "2")))!;
  assert.deepEqual([stored.outcome, stored.id, stored.label], ["updated", row.id, "mine"]);
  assert.equal(rows(file).length, 1);
  for (const era of ERAS) assertKeptAsWritten(file as Json, era);
});

// 6. Two different pool files for one login.

for (const era of ERAS) {
  Deno.test(`${era} era: what hermes-auth adds is kept with its id and label, selected by Hermes and shown as logged in`, () => {
    // A Hermes login of one account (state + mirror), then hermes-auth adds a second account.
    const file = hermesLogin(era, tokens(WORK, "1"), { now: NOW }) as AuthFile;
    const stored = applyLogin(file, login(tokens(PERSONAL, "1"), { label: "personal" }))!;
    assert.equal(stored.outcome, "added");
    const added = rows(file).find((r) => r.id === stored.id)!;
    assert.match(String(added.source), /^manual:/);
    // Both eras keep it exactly: the one that wrote the file and the other.
    for (const reader of ERAS) {
      const loaded = loadPool(file, reader);
      const kept = loaded.rows.find((r) => r.id === stored.id);
      assert.deepEqual([kept?.label, kept?.refresh_token, kept?.access_token], [
        "personal",
        added.refresh_token,
        added.access_token,
      ], `${reader}-era load_pool`);
      assert.ok(!loaded.sanitized.includes(stored.id!) && !loaded.pruned.includes(stored.id!));
    }
    assertKeptAsWritten(file, era);
    assert.deepEqual(forkedGrants(file), []);

    // `use` puts it first; Hermes's fill_first select and hermes-auth's token then both take it.
    moveRow(file, "xai-oauth", "personal", 1);
    assertKeptAsWritten(file, era);
    assert.equal(select(file, era, NOW)?.row.id, stored.id);
    assert.deepEqual(pickCredential(file, xai, NOW)!.ref, { kind: "row", id: stored.id });
    assert.deepEqual(xaiAuthStatus(file, era, NOW), { loggedIn: true, source: "pool:personal" });
  });
}

Deno.test("a first login on an empty file: one manual row, no login state, shown by both eras", () => {
  const data = { version: 1, providers: {} } as AuthFile;
  applyLogin(data, login(tokens(WORK, "1"), { authMode: "oauth_pkce", redirectUri: "x" }));
  assert.deepEqual(rows(data).map((r) => r.source), ["manual:loopback_pkce"]);
  for (const era of ERAS) {
    assertKeptAsWritten(data as Json, era);
    assert.deepEqual(xaiAuthStatus(data as Json, era, NOW), {
      loggedIn: true,
      source: "pool:work@example.com",
    });
  }
});

Deno.test("no sequence of logins, refreshes and removals leaves one refresh token in two grants", () => {
  for (const era of ERAS) {
    let file = hermesLogin(era, tokens(WORK, "1"), { now: NOW }) as AuthFile;
    const check = (step: string) => assert.deepEqual(forkedGrants(file), [], `${era}: ${step}`);
    applyLogin(file, login(tokens(PERSONAL, "1")));
    check("second account");
    applyLogin(file, login(tokens(WORK, "2")));
    check("re-login of the mirrored account");
    applyLogin(file, login(tokens(PERSONAL, "2")));
    check("re-login of the added account");
    const personal = rows(file).find((r) => r.label === "me@example.com")!;
    applyRefresh(file, {
      provider: xai,
      ref: { kind: "row", id: personal.id },
      tokens: tokens(PERSONAL, "3"),
      now: LATER,
    });
    check("refresh of the added row");
    applyRefresh(file, {
      provider: xai,
      ref: { kind: "state" },
      tokens: tokens(WORK, "3"),
      now: LATER,
    });
    check("refresh of the state");
    file = loadPool(file, era).file as AuthFile;
    assertKeptAsWritten(file, era);
    removeRow(file, "xai-oauth", "1");
    check("removal of the mirror");
    assert.deepEqual(rows(file).map((r) => r.label), ["me@example.com"]);
  }
});
