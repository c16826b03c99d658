import { useMemo } from "react";
import type { SweepRow } from "../api/types";
import { TimeSeriesChart } from "../charts/TimeSeriesChart";
import { formatSeconds } from "../graph/ArchNode";
import { sweepLines, type SweepLines } from "./sweepMetrics";

/** The label of x on a sweep's axis: the value as typed ("300/s"), else the number itself. */
function xFormat({ labels, x }: SweepLines): (v: number) => string {
  return (v) => {
    const i = x.indexOf(v);
    return i >= 0 ? (labels[i] ?? String(v)) : Number.isInteger(v) ? String(v) : v.toPrecision(3);
  };
}

/** p99 and throughput against the first varied value (one line per value of the second). */
export function SweepLineCharts({ rows, dimensions }: { rows: SweepRow[]; dimensions: string[] }) {
  const p99 = useMemo(() => sweepLines(rows, dimensions, "p99"), [rows, dimensions]);
  const thr = useMemo(() => sweepLines(rows, dimensions, "throughput"), [rows, dimensions]);
  const first = dimensions[0] ?? "";
  const empty = "no point finished yet";
  return (
    <>
      <TimeSeriesChart title={`p99 latency against ${first}`} testId="sweep-p99" time={p99.x} series={p99.series} format={(v) => formatSeconds(v)} xFormat={xFormat(p99)} xTicks={p99.x} xTicksEvery={!p99.numeric} points empty={empty} />
      <TimeSeriesChart title={`Throughput (req/s) against ${first}`} testId="sweep-throughput" time={thr.x} series={thr.series} format={(v) => v.toFixed(0)} xFormat={xFormat(thr)} xTicks={thr.x} xTicksEvery={!thr.numeric} points empty={empty} />
    </>
  );
}
