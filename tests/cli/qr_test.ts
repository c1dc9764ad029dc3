/**
 * The terminal QR code, read back the way a phone would: the printed
 * characters are turned into pixels and decoded with jsQR, an independent
 * decoder, so a drawing mistake (a swapped half block, a lost row, the wrong
 * polarity) fails here rather than on someone's phone.
 */
import assert from "node:assert/strict";
import { qrLines, qrMatrix } from "../../lib/cli/qr.ts";
import { readQr } from "../qr_reader.ts";

const LINK = "https://accounts.x.ai/device?user_code=BCDF-GHJK";

Deno.test("the QR code drawn in colour (black on white) decodes to the verification link", () => {
  const lines = qrLines(LINK, { color: true });
  assert.ok(lines.every((l) => l.startsWith("\x1b[30;107m") && l.endsWith("\x1b[0m")));
  assert.equal(readQr(lines, true), LINK);
});

Deno.test("the QR code drawn without colour (light modules as blocks) decodes to the link", () => {
  const lines = qrLines(LINK, { color: false });
  assert.ok(lines.every((l) => !l.includes("\x1b")), "no escape codes without colour");
  assert.equal(readQr(lines, false), LINK);
});

Deno.test("the QR code keeps a four-module quiet zone and square modules (two rows a line)", () => {
  const matrix = qrMatrix(LINK);
  const size = matrix.length;
  for (let i = 0; i < size; i++) {
    for (const k of [0, 1, 2, 3, size - 4, size - 3, size - 2, size - 1]) {
      assert.equal(matrix[k][i], false);
      assert.equal(matrix[i][k], false);
    }
  }
  // Finder pattern corner: the symbol starts right after the quiet zone.
  assert.equal(matrix[4][4], true);
  const lines = qrLines(LINK, { color: false });
  assert.equal(lines.length, Math.ceil(size / 2));
  assert.ok(lines.every((l) => [...l].length === size));
});

Deno.test("a different link gives a different code (the drawing is not a constant)", () => {
  const other = "https://accounts.x.ai/device?user_code=ZZZZ-ZZZZ";
  assert.equal(readQr(qrLines(other, { color: true }), true), other);
  assert.notDeepEqual(qrMatrix(other), qrMatrix(LINK));
});
