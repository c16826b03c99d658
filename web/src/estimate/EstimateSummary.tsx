import type { Estimate } from "../api/types";
import { formatSeconds } from "../graph/ArchNode";
import type { EstimateView } from "../state/store";

/** Offered load over every entry, requests per second. */
export function totalThroughput(e: Estimate): number {
  return Object.values(e.entries).reduce((a, x) => a + x.throughput, 0);
}

/** The busiest stations first (the bottleneck leads), at most `n`. */
export function busiest(e: Estimate, n = 3): { name: string; utilisation: number }[] {
  return Object.entries(e.stations)
    .map(([name, s]) => ({ name, utilisation: s.utilisation }))
    .sort((a, b) => b.utilisation - a.utilisation || (a.name < b.name ? -1 : 1))
    .slice(0, n);
}

/**
 * The analytic estimate of the design as it is being edited: throughput, the busiest stations
 * and the bottleneck, the load at which it saturates. Milliseconds to compute, so it follows
 * the text (debounced); what it leaves out is one hover away.
 */
export function EstimateSummary({ view }: { view: EstimateView }) {
  const e = view.value;
  return (
    <div className={`estimate${view.pending ? " estimate-pending" : ""}`} data-testid="estimate" aria-live="polite" title={e ? `Steady-state queueing estimate, no simulation. It ignores: ${e.ignored.join("; ")}.` : undefined}>
      <strong>Estimate</strong>{" "}
      {e ? (
        <>
          <span data-testid="estimate-throughput">{totalThroughput(e).toFixed(0)} req/s</span>
          {" · "}
          {e.saturated.length > 0 ? (
            <span className="bad" data-testid="estimate-bottleneck">
              saturated: {e.saturated.join(", ")}
            </span>
          ) : (
            <span data-testid="estimate-bottleneck">
              bottleneck <code>{e.bottleneck ?? "none"}</code>
              {e.saturation_load !== null ? `, saturates at ${e.saturation_load.toFixed(2)}× this load` : ""}
            </span>
          )}
          {" · busiest: "}
          <span data-testid="estimate-utilisation">{busiest(e).map((s) => `${s.name} ${Math.round(s.utilisation * 100)}%`).join(", ")}</span>
          {" · mean response: "}
          {Object.entries(e.entries)
            .slice(0, 3)
            .map(([k, v]) => `${k} ${v.response_mean === null ? "–" : formatSeconds(v.response_mean)}`)
            .join(", ")}
        </>
      ) : (
        <span className="muted">{view.problem ?? "estimating…"}</span>
      )}
      {view.pending && e ? <span className="muted"> (updating…)</span> : null}
    </div>
  );
}
