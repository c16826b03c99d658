import { useEffect, useState } from "react";
import { api, errorText } from "../api/client";
import type { ArchitectureSummary, Run } from "../api/types";

/** Runs and architectures from the run store, filterable; each opens where it was made. */
export function HistoryPage() {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [archs, setArchs] = useState<ArchitectureSummary[] | null>(null);
  const [filter, setFilter] = useState("");
  const [state, setStateFilter] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([api.runs({ limit: 200, state: state || undefined }), api.architectures()])
      .then(([r, a]) => {
        setRuns(r);
        setArchs(a);
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, [state]);
  const q = filter.trim().toLowerCase();
  const match = (...xs: (string | null | undefined)[]) => !q || xs.some((x) => x?.toLowerCase().includes(q));
  return (
    <div className="history-page">
      <h1>History</h1>
      {error && <p className="banner-error" role="alert">{error}</p>}
      <div className="filters">
        <label>
          Filter <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="name or scenario" data-testid="history-filter" />
        </label>
        <label>
          State{" "}
          <select value={state} onChange={(e) => setStateFilter(e.target.value)}>
            <option value="">any</option>
            {["queued", "running", "done", "failed", "cancelled"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <div className="history-columns">
        <section>
          <h2>Runs</h2>
          {runs === null ? (
            <p className="loading">Loading…</p>
          ) : (
            <table className="history" data-testid="history-runs">
              <thead>
                <tr>
                  <th>run</th>
                  <th>architecture</th>
                  <th>scenario</th>
                  <th>state</th>
                  <th>started</th>
                </tr>
              </thead>
              <tbody>
                {runs
                  .filter((r) => match(r.architecture_name, r.scenario, r.compare_with?.architecture_name, r.state))
                  .map((r) => (
                    <tr key={r.id}>
                      <td>
                        <a href={r.kind === "compare" ? `#/compare?run=${r.id}` : r.kind === "sweep" ? `#/sweeps/${r.id}` : `#/runs/${r.id}`} data-testid={`history-run-${r.id}`}>
                          #{r.id} {r.kind === "simulate" ? "" : r.kind}
                        </a>
                      </td>
                      <td>
                        {r.architecture_name} v{r.version}
                        {r.compare_with ? ` vs ${r.compare_with.architecture_name} v${r.compare_with.version}` : ""}
                        {r.sweep ? ` · ${r.sweep.dimensions.map((d) => d.path).join(" × ")} (${r.sweep.points} points)` : ""}
                      </td>
                      <td>{r.scenario ?? "steady"}</td>
                      <td className={`state-${r.state}`}>{r.state}{r.interrupted ? " (interrupted)" : ""}</td>
                      <td>{new Date(r.created_at).toLocaleString()}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </section>
        <section>
          <h2>Architectures</h2>
          {archs === null ? (
            <p className="loading">Loading…</p>
          ) : (
            <ul className="arch-list" data-testid="history-archs">
              {archs
                .filter((a) => match(a.name, ...a.scenarios))
                .map((a) => (
                  <li key={a.id}>
                    <a href={`#/designer/${a.id}`}>{a.name}</a> <span className="muted">v{a.version} · {a.services} services · {a.valid ? "valid" : "has errors"} · {new Date(a.updated_at).toLocaleString()}</span>
                  </li>
                ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
