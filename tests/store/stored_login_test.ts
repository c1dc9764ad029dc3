/**
 * The read side of a stored login (lib/store/stored_login.ts): which
 * credential `token` uses, read no further than it must, in the order
 * Hermes's pool reads them.
 */
import assert from "node:assert/strict";
import { emptyAuthFile, type PoolRow } from "../../lib/store/auth_file.ts";
import { pickCredential, poolRows } from "../../lib/store/stored_login.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const XAI = { id: "xai-oauth", storage: "xai" as const };

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) =>
    new TextEncoder().encode(JSON.stringify(o)).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    });
  return `${part({ alg: "RS256" })}.${part(claims)}.sig`;
}

function row(id: string, priority: number, extra: Partial<PoolRow> = {}): PoolRow {
  return {
    id,
    label: id,
    auth_type: "oauth",
    priority,
    source: "manual:device_code",
    access_token: jwt({ sub: id, exp: NOW.getTime() / 1000 + 3600 }),
    refresh_token: `rt-${id}`,
    last_status: "ok",
    ...extra,
  };
}

/** A row that fails the test if anything reads its tokens. */
function untouchable(id: string, priority: number): PoolRow {
  const base = row(id, priority);
  return new Proxy(base, {
    get(target, key) {
      if (key === "access_token" || key === "refresh_token") {
        throw new Error(`row ${id} was read although an earlier row could give a token`);
      }
      return target[key as string];
    },
  });
}

function file(rows: PoolRow[]) {
  const data = emptyAuthFile();
  data.credential_pool = { "xai-oauth": rows };
  return data;
}

Deno.test("pickCredential stops at the first usable row: the thousand after it are never read", () => {
  const rows = [
    row("first0", 0),
    ...Array.from({ length: 1000 }, (_, i) => untouchable(`r${i}`, i + 1)),
  ];
  const picked = pickCredential(file(rows), XAI, NOW);
  assert.deepEqual(picked?.ref, { kind: "row", id: "first0" });
});

Deno.test("an exhausted first row gives way to the next usable one, as Hermes's pool does", () => {
  const rows = [row("tired", 0, { last_status: "exhausted" }), row("fresh", 1)];
  assert.deepEqual(pickCredential(file(rows), XAI, NOW)?.ref, { kind: "row", id: "fresh" });
});

Deno.test("with every row exhausted the first usable one is used; with none usable, the first", () => {
  const tired = [
    row("a", 0, { last_status: "exhausted" }),
    row("b", 1, { last_status: "exhausted" }),
  ];
  assert.deepEqual(pickCredential(file(tired), XAI, NOW)?.ref, { kind: "row", id: "a" });
  const expired = (id: string, priority: number) =>
    row(id, priority, {
      access_token: jwt({ sub: id, exp: NOW.getTime() / 1000 - 60 }),
      refresh_token: undefined,
    });
  assert.deepEqual(pickCredential(file([expired("x", 0), expired("y", 1)]), XAI, NOW)?.ref, {
    kind: "row",
    id: "x",
  });
});

Deno.test("rows stored out of priority order are taken in priority order, ties in file order", () => {
  const rows = [row("late", 5), row("tieA", 1), row("tieB", 1), row("early", 0)];
  assert.deepEqual(poolRows(file(rows), "xai-oauth").map((r) => r.id), [
    "early",
    "tieA",
    "tieB",
    "late",
  ]);
  assert.deepEqual(pickCredential(file(rows), XAI, NOW)?.ref, { kind: "row", id: "early" });
});

Deno.test("entries that are not credentials are skipped, wherever they stand", () => {
  const data = file([row("ok", 1)]);
  (data.credential_pool!["xai-oauth"] as unknown[]).unshift(null, 1, "s");
  assert.deepEqual(poolRows(data, "xai-oauth").map((r) => r.id), ["ok"]);
  assert.deepEqual(pickCredential(data, XAI, NOW)?.ref, { kind: "row", id: "ok" });
});
