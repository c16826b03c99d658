import { useMemo } from "react";
import type { SweepRow } from "../api/types";
import { TimeSeriesChart } from "../charts/TimeSeriesChart";
import { formatSeconds } from "../graph/ArchNode";
import { sweepLines } from "./sweepMetrics";

/** p99 and throughput against the first varied value (one line per value of the second). */
export function SweepLineCharts({ rows, dimensions }: { rows: SweepRow[]; dimensions: string[] }) {
  const p99 = useMemo(() => sweepLines(rows, dimensions, "p99"), [rows, dimensions]);
  const thr = useMemo(() => sweepLines(rows, dimensions, "throughput"), [rows, dimensions]);
  const first = dimensions[0] ?? "";
  const xFormat = (labels: string[], x: number[]) => (v: number) => {
    const i = x.indexOf(v);
    return i >= 0 ? (labels[i] ?? String(v)) : Number.isInteger(v) ? String(v) : v.toPrecision(3);
  };
  const empty = "no point finished yet";
  return (
    <>
      <TimeSeriesChart title={`p99 latency against ${first}`} testId="sweep-p99" time={p99.x} series={p99.series} format={(v) => formatSeconds(v)} xFormat={xFormat(p99.labels, p99.x)} xTicks={p99.x} points empty={empty} />
      <TimeSeriesChart title={`Throughput (req/s) against ${first}`} testId="sweep-throughput" time={thr.x} series={thr.series} format={(v) => v.toFixed(0)} xFormat={xFormat(thr.labels, thr.x)} xTicks={thr.x} points empty={empty} />
    </>
  );
}
