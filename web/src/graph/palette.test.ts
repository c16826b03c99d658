// @vitest-environment node
import { describe, expect, it } from "vitest";
import { luminance, textOn, utilisationColour, VIRIDIS } from "./palette";

// Brettel/Viénot-style simulation of protanopia and deuteranopia in linear RGB (Machado 2009,
// severity 1.0), independent of the palette code: the utilisation steps must stay ordered by
// lightness for these viewers too, so "busier" always reads as "brighter".
const MACHADO = {
  protan: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deutan: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
};

function linear(hex: string): number[] {
  const v = hex.replace("#", "");
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16) / 255).map((x) => (x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
}

function simulatedLuminance(hex: string, m: number[][]): number {
  const c = linear(hex);
  const out = m.map((row) => Math.min(1, Math.max(0, row.reduce((acc, k, i) => acc + k * (c[i] ?? 0), 0))));
  return 0.2126 * (out[0] ?? 0) + 0.7152 * (out[1] ?? 0) + 0.0722 * (out[2] ?? 0);
}

describe("utilisation palette", () => {
  it("maps utilisation onto viridis, low to high", () => {
    expect(utilisationColour(0)).toBe(VIRIDIS[0]);
    expect(utilisationColour(1)).toBe(VIRIDIS[5]);
    expect(utilisationColour(1.7)).toBe(VIRIDIS[5]);
    expect(utilisationColour(0.5)).toBe(VIRIDIS[3]);
  });

  for (const [name, m] of Object.entries(MACHADO)) {
    it(`keeps its steps ordered and apart for ${name} vision`, () => {
      const l = VIRIDIS.map((c) => simulatedLuminance(c, m));
      for (let i = 1; i < l.length; i++) expect(l[i]).toBeGreaterThan((l[i - 1] ?? 0) * 1.15);
    });
  }

  it("puts readable text on every step (contrast ≥ 4.5)", () => {
    for (const c of VIRIDIS) {
      const bg = luminance(c);
      const fg = textOn(c) === "#fff" ? 1 : luminance("#111111");
      const ratio = (Math.max(bg, fg) + 0.05) / (Math.min(bg, fg) + 0.05);
      expect(ratio, c).toBeGreaterThanOrEqual(4.5);
    }
  });
});
