import { briefRows, type Result } from "./sections";

const MARK: Record<string, string> = { met: "✔ met", missed: "✘ missed", uncertain: "? uncertain", "-": "–" };

/** The brief's expected figures beside what the run measured (`simulate --brief`). */
export function BriefFigures({ result }: { result: Result | null }) {
  const rows = briefRows(result);
  if (rows.length === 0) return null;
  return (
    <table className="slos" data-testid="brief-figures">
      <caption>The brief's figures</caption>
      <thead>
        <tr>
          <th>figure</th>
          <th>brief expects</th>
          <th>measured</th>
          <th>verdict</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.pattern}/${r.figure}`} title={r.note || undefined}>
            <td>{r.figure}</td>
            <td>{r.expectation}</td>
            <td>
              {r.measured === null ? "no data" : `${r.measured.toLocaleString("en", { maximumFractionDigits: 2 })}${r.half_width !== null ? ` ± ${r.half_width.toLocaleString("en", { maximumFractionDigits: 2 })}` : ""} ${r.unit}`}
            </td>
            <td className={`verdict verdict-${r.verdict === "-" ? "none" : r.verdict}`}>{MARK[r.verdict] ?? r.verdict}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
