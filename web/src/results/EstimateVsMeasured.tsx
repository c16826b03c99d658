import type { Estimate } from "../api/types";
import { percent } from "./format";
import type { Result } from "./sections";

export interface EstimateRow {
  what: string;
  figure: "utilisation" | "throughput";
  estimated: number;
  measured: number | null;
}

type Summary = { services?: Record<string, { utilisation?: { mean: number | null } }>; entries?: Record<string, { throughput?: { mean: number | null } }> };

/** The estimate's service utilisations and entry throughputs beside the run's (summary means). */
export function estimateRows(est: Estimate, result: Result): EstimateRow[] {
  const summary = (result.summary ?? {}) as Summary;
  const rows: EstimateRow[] = [];
  for (const [name, e] of Object.entries(est.entries)) {
    const m = summary.entries?.[name]?.throughput?.mean;
    if (m !== undefined) rows.push({ what: name, figure: "throughput", estimated: e.throughput, measured: m });
  }
  for (const [name, s] of Object.entries(est.stations)) {
    if (s.kind !== "service") continue;
    const m = summary.services?.[name]?.utilisation?.mean;
    if (m !== undefined) rows.push({ what: name, figure: "utilisation", estimated: s.utilisation, measured: m });
  }
  return rows;
}

/**
 * The analytic estimate next to what the simulation measured: where they part, the run saw
 * something the estimate leaves out (a fault, a breaker, a queue bound), or the design is near
 * saturation where means mislead.
 */
export function EstimateVsMeasured({ estimate, result }: { estimate: Estimate | null; result: Result | null }) {
  if (!estimate || !result) return null;
  const rows = estimateRows(estimate, result);
  if (rows.length === 0) return null;
  const show = (r: EstimateRow, v: number | null) => (v === null ? "–" : r.figure === "utilisation" ? percent(v) : `${v.toFixed(1)}/s`);
  return (
    <table className="slos" data-testid="estimate-vs-measured" title={`The estimate ignores: ${estimate.ignored.join("; ")}.`}>
      <caption>Estimate (queueing theory) against the simulation</caption>
      <thead>
        <tr>
          <th>what</th>
          <th>figure</th>
          <th>estimated</th>
          <th>simulated</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.figure}:${r.what}`}>
            <td>{r.what}</td>
            <td>{r.figure}</td>
            <td>{show(r, r.estimated)}</td>
            <td>{show(r, r.measured)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
