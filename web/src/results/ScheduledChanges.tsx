import { TimeSeriesChart } from "../charts/TimeSeriesChart";
import { changesOf, type Result } from "./sections";

/** What the scenario changed when, and each route target's share of requests over time. */
export function ScheduledChanges({ result, marker = null }: { result: Result | null; marker?: number | null }) {
  const c = changesOf(result);
  if (!c) return null;
  return (
    <div className="timeline" data-testid="scheduled-changes">
      <h3>Scheduled changes</h3>
      <ol>
        {c.log.map((l, i) => (
          <li key={i} className="tl tl-change">
            {l.time.toFixed(1)}s <span className="tl-kind">{l.type}</span> {l.target}: {l.what}
          </li>
        ))}
      </ol>
      {c.routes.map((r) => (
        <TimeSeriesChart key={r.route} title={`Share of ${r.route} per target`} testId={`route-share-${r.route}`} time={c.time} series={r.shares} marker={marker} format={(v) => `${Math.round(v * 100)}%`} />
      ))}
    </div>
  );
}
