import type { Run } from "../api/types";

/** Simulations finished of all the sweep's (points × replications), as they finish. */
export function SweepProgress({ run }: { run: Run }) {
  const p = run.progress;
  const total = p?.tasks ?? run.sweep?.tasks ?? 0;
  const done = run.state === "done" ? total : (p?.tasks_done ?? 0);
  return (
    <div className="progress" data-testid="sweep-progress" aria-label="progress">
      <progress max={Math.max(1, total)} value={done} />
      <span>
        {done} of {total} simulations ({run.sweep?.points ?? "?"} points × {run.sweep?.replications ?? "?"} replication{run.sweep?.replications === 1 ? "" : "s"})
        {p && p.requests ? ` · ${p.requests.toLocaleString("en")} requests simulated` : ""}
        {run.state === "queued" ? " · queued…" : ""}
      </span>
    </div>
  );
}
