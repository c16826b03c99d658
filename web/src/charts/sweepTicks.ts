/**
 * Where a sweep's x axis is labelled: at the swept values themselves. Every value while their
 * labels fit; when they crowd (many numeric values), the first and the last always, and between
 * them each value at least `minGap` pixels from the one labelled before it.
 */
export function sweepTicks(values: readonly number[], pos: (v: number) => number, minGap: number, every = false): number[] {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (every || sorted.length <= 2) return sorted;
  const first = sorted[0] as number;
  const last = sorted[sorted.length - 1] as number;
  const out = [first];
  for (const v of sorted.slice(1, -1)) {
    const prev = out[out.length - 1] as number;
    if (Math.abs(pos(v) - pos(prev)) >= minGap && Math.abs(pos(last) - pos(v)) >= minGap) out.push(v);
  }
  out.push(last);
  return out;
}

/** Pixels a label of `chars` characters needs on the axis (11 px sans-serif, with a gap). */
export function labelGap(chars: number): number {
  return Math.max(24, chars * 7 + 10);
}
