import type { SweepResult } from "../api/types";
import { sensitivityRows } from "./sweepMetrics";

const MAIN = ["p99", "throughput", "error_rate", "latency_mean"];

/** Which varied setting moves each metric most (its share of the metric's variation). */
export function SensitivitySummary({ result, all = false }: { result: SweepResult; all?: boolean }) {
  const rows = sensitivityRows(result).filter((r) => all || MAIN.includes(r.metric) || r.metric.endsWith(":utilisation"));
  if (rows.length === 0) return <p className="muted">No metric varied over the points: nothing to attribute.</p>;
  return (
    <table className="slos" data-testid="sensitivity">
      <caption>Sensitivity: the setting that moves each metric most</caption>
      <thead>
        <tr>
          <th>metric</th>
          <th>moved most by</th>
          <th>share</th>
          <th>others</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.metric}>
            <td>{r.metric}</td>
            <td>
              <code>{r.strongest}</code>
            </td>
            <td>{Math.round(r.share * 100)}%</td>
            <td>{r.others.map((o) => `${o.path} ${Math.round(o.share * 100)}%`).join(", ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
