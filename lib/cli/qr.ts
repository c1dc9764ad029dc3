/**
 * A QR code of the device login's verification link, drawn in the terminal
 * so a phone can scan it and approve without typing anything. The symbol
 * comes from the `qrcode` package (its encoder only: the renderers would
 * pull in a PNG library); drawing it takes half-block characters, two
 * modules to a character cell, which keeps modules square in a terminal.
 *
 * @module
 */
import { create } from "qrcode/lib/core/qrcode.js";

/** The parts of qrcode's `create()` result used here (the package ships no types). */
interface QrSymbol {
  modules: { size: number; get(row: number, col: number): number | boolean };
}

/** Light modules around the symbol; the QR specification asks for four. */
const QUIET_ZONE = 4;

/** How {@link qrLines} draws. */
export interface QrDrawOptions {
  /**
   * Colour allowed: paint dark modules black on white with SGR codes, which
   * is right on light and dark terminals alike. Without colour the symbol is
   * drawn for the usual light-on-dark terminal: light modules as blocks.
   */
  color: boolean;
}

/** The dark/light matrix of the QR code for `text` (true = dark), quiet zone included. */
export function qrMatrix(text: string): boolean[][] {
  const symbol = create(text, { errorCorrectionLevel: "M" }) as QrSymbol;
  const { size } = symbol.modules;
  const full = size + 2 * QUIET_ZONE;
  return Array.from({ length: full }, (_, y) =>
    Array.from({ length: full }, (_, x) => {
      const row = y - QUIET_ZONE;
      const col = x - QUIET_ZONE;
      return row >= 0 && row < size && col >= 0 && col < size &&
        Boolean(symbol.modules.get(row, col));
    }));
}

/** The QR code for `text` as terminal lines, two module rows per line. */
export function qrLines(text: string, options: QrDrawOptions): string[] {
  const matrix = qrMatrix(text);
  // A character cell shows its upper half in the foreground colour with "▀",
  // its lower half with "▄", both with "█", neither with " ".
  const inked = (dark: boolean) => options.color ? dark : !dark;
  const lines: string[] = [];
  for (let y = 0; y < matrix.length; y += 2) {
    let line = "";
    for (let x = 0; x < matrix[y].length; x++) {
      const top = inked(matrix[y][x]);
      const bottom = inked(matrix[y + 1]?.[x] ?? false);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    // Black ink on a white ground, reset at the end of every line.
    lines.push(options.color ? `\x1b[30;107m${line}\x1b[0m` : line);
  }
  return lines;
}
