/**
 * Colours on the graph. Utilisation uses steps of viridis, a scale designed to stay ordered for
 * the common colour-vision deficiencies and in greyscale; errors use Okabe–Ito vermillion, a
 * colour-blind-safe accent, and are always also written as text and a dashed border, so no state
 * is told by hue alone.
 */

/** Viridis at 0, 0.2, 0.4, 0.6, 0.8, 1 (matplotlib's table). */
export const VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"] as const;

export const OKABE_ITO = {
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
  black: "#000000",
} as const;

export const ERROR_COLOUR = OKABE_ITO.vermillion;
export const CASCADE_COLOUR = OKABE_ITO.reddishPurple;

/** The viridis step for a utilisation in [0, 1] (values outside are clamped). */
export function utilisationColour(u: number): string {
  const x = Math.min(1, Math.max(0, u));
  return VIRIDIS[Math.min(VIRIDIS.length - 1, Math.floor(x * (VIRIDIS.length - 1) + 0.5))] ?? VIRIDIS[0];
}

/** Text colour that stays readable on a given background (WCAG relative luminance). */
export function textOn(hex: string): string {
  const bg = luminance(hex);
  const withWhite = 1.05 / (bg + 0.05);
  const withDark = (bg + 0.05) / (luminance("#111111") + 0.05);
  return withWhite >= withDark ? "#fff" : "#111";
}

export function luminance(hex: string): number {
  const v = hex.replace("#", "");
  const c = [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16) / 255).map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
  return 0.2126 * (c[0] ?? 0) + 0.7152 * (c[1] ?? 0) + 0.0722 * (c[2] ?? 0);
}

/** Series colours for charts: Okabe–Ito, in an order that keeps neighbours distinct. */
export const SERIES = [OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.bluishGreen, OKABE_ITO.vermillion, OKABE_ITO.reddishPurple, OKABE_ITO.skyBlue, OKABE_ITO.black, "#8c6d00"];
