/**
 * From a sweep's rows to what the sweep view draws: per-point means over replications, a metric
 * against the first varied value (one line per value of the second), a heat map over the first
 * two, and the sensitivity summary in order. The rows are the server's tidy table
 * (docs/web-api.md, *Sweeps*) or, while it runs, its `point` events.
 */
import type { SweepPointEvent, SweepResult, SweepRow } from "../api/types";
import type { ChartSeries } from "../charts/TimeSeriesChart";

const NUMBER = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/;

/** The number a value starts with (`"200/s"` → 200), as the sweep package reads it; null if none. */
export function numericOf(value: string): number | null {
  const m = NUMBER.exec(value);
  return m ? Number(m[1]) : null;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Rows from `point` events (settings spread into columns), in (point, replication) order. */
export function rowsOfPoints(points: SweepPointEvent[]): SweepRow[] {
  return points
    .map((p) => {
      const { settings, ...rest } = p;
      return { ...(rest as SweepRow), ...settings };
    })
    .sort((a, b) => Number(a.point) - Number(b.point) || Number(a.replication) - Number(b.replication));
}

export interface PointMean {
  point: number;
  /** The point's value of each varied path, in the order of `dimensions`. */
  values: string[];
  mean: number | null;
  /** Replications with a finite value. */
  n: number;
}

/** Each point's mean of `metric` over its replications (null when none has a value). */
export function pointMeans(rows: SweepRow[], dimensions: string[], metric: string): PointMean[] {
  const by = new Map<number, { values: string[]; sum: number; n: number }>();
  for (const r of rows) {
    const p = Number(r.point);
    const e = by.get(p) ?? { values: dimensions.map((d) => String(r[d] ?? "")), sum: 0, n: 0 };
    const v = r[metric];
    if (finite(v)) {
      e.sum += v;
      e.n += 1;
    }
    by.set(p, e);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([point, e]) => ({ point, values: e.values, mean: e.n ? e.sum / e.n : null, n: e.n }));
}

function order(values: string[]): string[] {
  return [...new Set(values)].sort((a, b) => {
    const x = numericOf(a);
    const y = numericOf(b);
    if (x !== null && y !== null && x !== y) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export interface SweepLines {
  /** x positions: the first dimension's numbers, or 0, 1, 2... when its values are not numbers. */
  x: number[];
  /** The value each x stands for, as typed. */
  labels: string[];
  /** The first dimension's values are numbers (x is their value), not categories (x is 0, 1, 2...). */
  numeric: boolean;
  series: ChartSeries[];
}

/**
 * `metric` against the first varied value: one series per value of the second dimension (the
 * other dimensions averaged over), or a single series. Points of a sample that share no x are
 * each their own x.
 */
export function sweepLines(rows: SweepRow[], dimensions: string[], metric: string): SweepLines {
  const means = pointMeans(rows, dimensions, metric);
  const first = order(means.map((m) => m.values[0] ?? ""));
  const numeric = first.every((v) => numericOf(v) !== null);
  const x = first.map((v, i) => (numeric ? (numericOf(v) as number) : i));
  const groups = dimensions.length > 1 ? order(means.map((m) => m.values[1] ?? "")) : [""];
  const series = groups.map((g) => ({
    label: dimensions.length > 1 ? `${dimensions[1]}=${g}` : metric,
    values: first.map((v) => {
      const ms = means.filter((m) => m.values[0] === v && (dimensions.length < 2 || m.values[1] === g) && m.mean !== null);
      return ms.length ? ms.reduce((a, m) => a + (m.mean as number), 0) / ms.length : null;
    }),
  }));
  return { x, labels: first, numeric, series };
}

export interface HeatMap {
  /** Values of the first dimension (columns) and the second (rows), in order. */
  xs: string[];
  ys: string[];
  /** cells[row][column]: the mean of the metric there (other dimensions averaged), or null. */
  cells: (number | null)[][];
  min: number | null;
  max: number | null;
}

/** The metric over the first two varied values; null with fewer than two dimensions. */
export function heatMap(rows: SweepRow[], dimensions: string[], metric: string): HeatMap | null {
  if (dimensions.length < 2) return null;
  const means = pointMeans(rows, dimensions, metric);
  const xs = order(means.map((m) => m.values[0] ?? ""));
  const ys = order(means.map((m) => m.values[1] ?? ""));
  const cells = ys.map((y) =>
    xs.map((x) => {
      const ms = means.filter((m) => m.values[0] === x && m.values[1] === y && m.mean !== null);
      return ms.length ? ms.reduce((a, m) => a + (m.mean as number), 0) / ms.length : null;
    }),
  );
  const all = cells.flat().filter(finite);
  return { xs, ys, cells, min: all.length ? Math.min(...all) : null, max: all.length ? Math.max(...all) : null };
}

export interface SensitivityRow {
  metric: string;
  strongest: string;
  share: number;
  others: { path: string; share: number }[];
}

/** Per metric, the varied path that moves it most, then the others, largest first. */
export function sensitivityRows(result: SweepResult): SensitivityRow[] {
  return Object.keys(result.sensitivity)
    .sort()
    .map((metric) => {
      const shares = Object.entries(result.sensitivity[metric] ?? {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const [top, ...rest] = shares;
      return { metric, strongest: top?.[0] ?? "", share: top?.[1] ?? 0, others: rest.map(([path, share]) => ({ path, share })) };
    });
}

/** The tidy table as CSV (what `scalesim sweep` writes to results.csv, for a download). */
export function tableCsv(columns: string[], rows: SweepRow[]): string {
  const cell = (v: string | number | null | undefined) => {
    if (v === null || v === undefined) return "";
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}
