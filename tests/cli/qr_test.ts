/**
 * The terminal QR code, read back the way a phone would: the printed
 * characters are turned into pixels and decoded with jsQR, an independent
 * decoder, so a drawing mistake (a swapped half block, a lost row, the wrong
 * polarity) fails here rather than on someone's phone.
 */
import assert from "node:assert/strict";
import jsQRModule from "jsqr";
import { qrLines, qrMatrix } from "../../lib/cli/qr.ts";

type Decode = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
  options: { inversionAttempts: "dontInvert" },
) => { data: string } | null;
const decoder = ((jsQRModule as unknown as { default?: Decode }).default ??
  jsQRModule) as unknown as Decode;
/** Decode as a phone sees the screen: dark modules dark, no second try with colours inverted. */
const jsQR = (data: Uint8ClampedArray, width: number, height: number) =>
  decoder(data, width, height, { inversionAttempts: "dontInvert" });

const LINK = "https://accounts.x.ai/device?user_code=BCDF-GHJK";

/** Pixels of printed QR lines: each character cell is two modules, each module `scale` px. */
function pixels(lines: string[], darkIsInk: boolean, scale = 4) {
  // deno-lint-ignore no-control-regex -- the SGR codes around each line
  const cells = lines.map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, "")]);
  const width = cells[0].length * scale;
  const height = cells.length * 2 * scale;
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  cells.forEach((row, cy) =>
    row.forEach((ch, cx) => {
      const halves =
        { "█": [true, true], "▀": [true, false], "▄": [false, true], " ": [false, false] }[
          ch
        ];
      assert.ok(halves, `unexpected character ${JSON.stringify(ch)} in the QR code`);
      halves.forEach((ink, half) => {
        const dark = darkIsInk ? ink : !ink;
        if (!dark) return;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const p = ((cy * 2 + half) * scale + dy) * width + cx * scale + dx;
            data.fill(0, p * 4, p * 4 + 3);
          }
        }
      });
    })
  );
  return { data, width, height };
}

Deno.test("the QR code drawn in colour (black on white) decodes to the verification link", () => {
  const lines = qrLines(LINK, { color: true });
  assert.ok(lines.every((l) => l.startsWith("\x1b[30;107m") && l.endsWith("\x1b[0m")));
  const { data, width, height } = pixels(lines, true);
  assert.equal(jsQR(data, width, height)?.data, LINK);
});

Deno.test("the QR code drawn without colour (light modules as blocks) decodes to the link", () => {
  const lines = qrLines(LINK, { color: false });
  assert.ok(lines.every((l) => !l.includes("\x1b")), "no escape codes without colour");
  const { data, width, height } = pixels(lines, false);
  assert.equal(jsQR(data, width, height)?.data, LINK);
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
  const { data, width, height } = pixels(qrLines(other, { color: true }), true);
  assert.equal(jsQR(data, width, height)?.data, other);
  assert.notDeepEqual(qrMatrix(other), qrMatrix(LINK));
});
