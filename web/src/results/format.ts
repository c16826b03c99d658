/** Number formats the result sections share. */

export const count = (v: number): string => Math.round(v).toLocaleString("en");
export const percent = (v: number | null, digits = 1): string => (v === null ? "–" : `${(v * 100).toFixed(digits)}%`);
export const fixed = (v: number | null, digits = 2): string => (v === null ? "–" : v.toFixed(digits));
