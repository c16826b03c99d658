import { fixed, percent } from "./format";
import { cpuRows, type Result } from "./sections";

/** Cores per replica, CPU used and throttled share, per service that models its CPU. */
export function CpuUsage({ result }: { result: Result | null }) {
  const rows = cpuRows(result);
  if (rows.length === 0) return null;
  return (
    <table className="slos" data-testid="cpu-usage">
      <caption>CPU per service (mean over replications)</caption>
      <thead>
        <tr>
          <th>service</th>
          <th>cores / replica</th>
          <th>cores used</th>
          <th>CPU utilisation</th>
          <th>throttled</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.service} className={r.throttled > 0 ? "row-warn" : undefined}>
            <td>{r.service}</td>
            <td>{fixed(r.cores, 2)}</td>
            <td>{fixed(r.used, 2)}</td>
            <td>{percent(r.utilisation)}</td>
            <td>{percent(r.throttled)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
