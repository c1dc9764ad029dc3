import assert from "node:assert/strict";
import { isoUtc, isoUtcZ, parseTimestamp } from "../../lib/store/timestamps.ts";

Deno.test("isoUtc matches Python's isoformat with six fraction digits and +00:00", () => {
  assert.equal(isoUtc(new Date("2025-03-04T05:06:07.089Z")), "2025-03-04T05:06:07.089000+00:00");
});

Deno.test("isoUtc leaves out the fraction on a whole second, as Python does", () => {
  assert.equal(isoUtc(new Date("2025-03-04T05:06:07Z")), "2025-03-04T05:06:07+00:00");
});

Deno.test("isoUtcZ is Hermes's _utc_now_z form", () => {
  assert.equal(isoUtcZ(new Date("2025-03-04T05:06:07.5Z")), "2025-03-04T05:06:07.500000Z");
});

Deno.test("parseTimestamp reads both ISO forms, epoch seconds and epoch milliseconds", () => {
  const at = Date.UTC(2025, 2, 4, 5, 6, 7, 89);
  assert.equal(parseTimestamp("2025-03-04T05:06:07.089000+00:00")?.getTime(), at);
  assert.equal(parseTimestamp("2025-03-04T05:06:07.089Z")?.getTime(), at);
  assert.equal(parseTimestamp(at / 1000)?.getTime(), at);
  assert.equal(parseTimestamp(at)?.getTime(), at);
  assert.equal(parseTimestamp(String(at / 1000))?.getTime(), at);
});

Deno.test("parseTimestamp gives null for what is not a time", () => {
  for (const value of [null, undefined, "", "soon", 0, -5, {}, true]) {
    assert.equal(parseTimestamp(value), null);
  }
});
