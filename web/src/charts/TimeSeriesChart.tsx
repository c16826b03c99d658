/**
 * A live time series drawn by uPlot. The data the chart shows is also published on
 * `window.__scalesim.charts[testId]` because canvas pixels cannot be asserted in a browser test.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { SERIES } from "../graph/palette";
import { labelGap, sweepTicks } from "./sweepTicks";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

export interface TimeSeriesChartProps {
  title: string;
  testId: string;
  time: number[];
  series: ChartSeries[];
  format?: (v: number) => string;
  /** Time of the scrubber's window, drawn as a vertical line. */
  marker?: number | null;
  height?: number;
  stepped?: boolean;
  /** Labels of the x axis (default: seconds, "30s"); a sweep's chart shows the varied value. */
  xFormat?: (v: number) => string;
  /** Ticks of the x axis at these values only (a sweep's varied values), instead of uPlot's choice. */
  xTicks?: number[];
  /** Label every one of `xTicks` (categories); otherwise crowded numeric values are thinned, ends kept. */
  xTicksEvery?: boolean;
  /** Draw each point (a sweep has few, far apart). */
  points?: boolean;
  /** What the chart says while it has no data. */
  empty?: string;
  /** Counts: ticks only at whole numbers (no "0, 1, 1" axis for counts below 2). */
  integer?: boolean;
}

type PublishedChart = { points: number; series: string[]; xLabels?: string[] };

declare global {
  interface Window {
    __scalesim?: { charts: Record<string, PublishedChart>; [k: string]: unknown };
  }
}

/** Tick steps of a count axis: whole numbers only. */
export const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7, 1e8];

/** A count axis from 0 to a whole number at least 1 above the largest value (so 0 and 1 show). */
export function integerRange(_u: unknown, _min: number | null, max: number | null): [number, number] {
  const top = max === null || !Number.isFinite(max) ? 1 : Math.max(1, Math.ceil(max));
  return [0, top];
}

/** The data's x extent widened by 6 % each side (by 0.5 for a single value). */
export function paddedRange(_u: unknown, min: number | null, max: number | null): [number, number] {
  const lo = min ?? 0;
  const hi = max ?? lo;
  const pad = hi > lo ? (hi - lo) * 0.06 : 0.5;
  return [lo - pad, hi + pad];
}

/** What a chart shows, for the browser tests: its points and series, and the x axis labels it
 * drew last. */
function publish(testId: string, fields: Partial<PublishedChart>): void {
  window.__scalesim ??= { charts: {} };
  window.__scalesim.charts[testId] = { points: 0, series: [], ...window.__scalesim.charts[testId], ...fields };
}

export function TimeSeriesChart({ title, testId, time, series, format, marker = null, height = 130, stepped = false, integer = false, xFormat, xTicks, xTicksEvery = false, points = false, empty = "no window yet: the server sends a replication's windows when it ends" }: TimeSeriesChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markerRef = useRef<number | null>(marker);
  markerRef.current = marker;
  // The chart is made once per set of series; its axes read the latest ticks and labels from
  // here when they are drawn (a sweep's values grow while its points finish).
  const axis = useRef({ xTicks, xTicksEvery, xFormat, format, testId });
  axis.current = { xTicks, xTicksEvery, xFormat, format, testId };
  const givenTicks = xTicks !== undefined;
  const key = series.map((s) => s.label).join("|");
  const hasData = time.length > 0 && series.length > 0;

  useEffect(() => {
    // uPlot cannot lay out axes without data: the chart is made once the first window is in.
    if (!host.current || !hasData) return;
    const width = Math.max(200, host.current.clientWidth);
    const xText = (t: number) => (axis.current.xFormat ? axis.current.xFormat(t) : `${t}s`);
    const xLabels = (_u: uPlot, ticks: number[]) => {
      const labels = ticks.map(xText);
      if (givenTicks) publish(axis.current.testId, { xLabels: labels });
      return labels;
    };
    const xSplits = (u: uPlot) => {
      const at = axis.current.xTicks ?? [];
      const chars = Math.max(1, ...at.map((t) => xText(t).length));
      return sweepTicks(at, (v) => u.valToPos(v, "x"), labelGap(chars), axis.current.xTicksEvery);
    };
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Given ticks (a sweep's values) get some room, so the first and last are drawn.
        x: givenTicks ? { time: false, range: paddedRange } : { time: false },
        ...(integer ? { y: { range: integerRange } } : {}),
      },
      axes: [
        { stroke: "#444", grid: { stroke: "#eee" }, values: xLabels, size: 28, ...(givenTicks ? { splits: xSplits } : {}) },
        { stroke: "#444", grid: { stroke: "#eee" }, size: 62, values: (_u, ticks) => ticks.map((t) => (axis.current.format ? axis.current.format(t) : String(t))), ...(integer ? { incrs: INTEGER_STEPS } : {}) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: SERIES[i % SERIES.length],
          width: 1.6,
          spanGaps: false,
          ...(points ? { points: { show: true, size: 7 } } : {}),
          paths: stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : axis.current.format ? axis.current.format(v) : v.toFixed(2)),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const m = markerRef.current;
            if (m === null) return;
            const x = u.valToPos(m, "x", true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#000";
            ctx.setLineDash([4, 3]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    const p = new uPlot(opts, [time, ...series.map((s) => s.values)] as uPlot.AlignedData, host.current);
    plot.current = p;
    const ro = new ResizeObserver(() => {
      if (host.current) p.setSize({ width: Math.max(200, host.current.clientWidth), height });
    });
    ro.observe(host.current);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // Rebuilt when the set of series changes; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, height, stepped, integer, hasData, givenTicks]);

  useEffect(() => {
    if (hasData) plot.current?.setData([time, ...series.map((s) => s.values)] as uPlot.AlignedData);
    publish(testId, { points: time.length, series: series.map((s) => s.label) });
  }, [time, series, testId, hasData]);

  useEffect(() => {
    if (hasData) plot.current?.redraw(false);
  }, [marker, hasData]);

  return (
    <figure className="chart" data-testid={`chart-${testId}`} data-points={time.length}>
      <figcaption>{title}</figcaption>
      {time.length === 0 ? <p className="muted chart-empty">{empty}</p> : null}
      <div ref={host} className="chart-host" />
    </figure>
  );
}
