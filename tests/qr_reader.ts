/**
 * Reading a QR code drawn with half blocks back the way a phone's camera
 * would: each character cell becomes two modules of pixels, and jsQR (an
 * independent decoder) reads them without trying the inverted colours, so a
 * drawing mistake (a swapped half block, a lost row, the wrong polarity)
 * fails the test instead of someone's login.
 *
 * @module
 */
import jsQRModule from "jsqr";

type Decode = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
  options: { inversionAttempts: "dontInvert" },
) => { data: string } | null;
const jsQR = ((jsQRModule as unknown as { default?: Decode }).default ??
  jsQRModule) as unknown as Decode;

const HALVES: Record<string, [boolean, boolean]> = {
  "█": [true, true],
  "▀": [true, false],
  "▄": [false, true],
  " ": [false, false],
};

/**
 * The text of the QR code in `lines` (escape codes are ignored), or null
 * when it does not decode. `inkIsDark`: the characters' ink is a dark
 * module (black on white); false when the ink is the light modules (a light
 * font on a dark terminal). Throws on a character that is no half block.
 */
export function readQr(lines: string[], inkIsDark: boolean, scale = 4): string | null {
  // deno-lint-ignore no-control-regex -- the SGR codes around each line
  const cells = lines.map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, "")]);
  const width = Math.max(...cells.map((r) => r.length)) * scale;
  const height = cells.length * 2 * scale;
  // What is not printed is the terminal's background: light under dark ink, dark under light.
  const data = new Uint8ClampedArray(width * height * 4).fill(inkIsDark ? 255 : 0);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  cells.forEach((row, cy) =>
    row.forEach((ch, cx) => {
      const halves = HALVES[ch];
      if (!halves) throw new Error(`unexpected character ${JSON.stringify(ch)} in the QR code`);
      halves.forEach((ink, half) => {
        const dark = inkIsDark ? ink : !ink;
        for (let dy = 0; dy < scale; dy++) {
          const start = (((cy * 2 + half) * scale + dy) * width + cx * scale) * 4;
          for (let p = start; p < start + scale * 4; p += 4) data.fill(dark ? 0 : 255, p, p + 3);
        }
      });
    })
  );
  return jsQR(data, width, height, { inversionAttempts: "dontInvert" })?.data ?? null;
}
