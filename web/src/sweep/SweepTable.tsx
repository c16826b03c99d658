import type { SweepRow } from "../api/types";
import { formatSeconds } from "../graph/ArchNode";

const METRICS: { key: string; label: string; show: (v: number) => string }[] = [
  { key: "throughput", label: "throughput", show: (v) => `${v.toFixed(1)}/s` },
  { key: "p50", label: "p50", show: (v) => formatSeconds(v) },
  { key: "p99", label: "p99", show: (v) => formatSeconds(v) },
  { key: "error_rate", label: "errors", show: (v) => `${(v * 100).toFixed(2)}%` },
];

/** The tidy table: one row per point and replication, the varied values, the main metrics. */
export function SweepTable({ rows, dimensions, csvHref }: { rows: SweepRow[]; dimensions: string[]; csvHref?: string | null }) {
  return (
    <div className="sweep-table-box">
      <table className="slos sweep-table" data-testid="sweep-table">
        <caption>
          Results, one row per point and replication{" "}
          {csvHref && (
            <a href={csvHref} download="results.csv" data-testid="sweep-csv">
              (CSV, every column)
            </a>
          )}
        </caption>
        <thead>
          <tr>
            <th>point</th>
            <th>rep.</th>
            {dimensions.map((d) => (
              <th key={d} title={d}>
                {shortPath(d)}
              </th>
            ))}
            {METRICS.map((m) => (
              <th key={m.key}>{m.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.point}:${r.replication}`}>
              <td>{r.point}</td>
              <td>{r.replication}</td>
              {dimensions.map((d) => (
                <td key={d}>{r[d] ?? ""}</td>
              ))}
              {METRICS.map((m) => {
                const v = r[m.key];
                return <td key={m.key}>{typeof v === "number" ? m.show(v) : "–"}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The last two parts of a path (`traffic.shoppers.arrival.rate` → `arrival.rate`); the whole
 * path is the header's title. */
export function shortPath(path: string): string {
  return path.split(".").slice(-2).join(".");
}
