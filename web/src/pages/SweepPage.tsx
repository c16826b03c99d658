import { useEffect, useMemo, useState } from "react";
import { NotOpened } from "../components/NotOpened";
import { cancelSweep, navigate, openSweep, startSweep } from "../state/actions";
import { useStore, type SweepView } from "../state/store";
import { SensitivitySummary } from "../sweep/SensitivitySummary";
import { SweepForm } from "../sweep/SweepForm";
import { SweepHeatMap } from "../sweep/SweepHeatMap";
import { SweepLineCharts } from "../sweep/SweepLineCharts";
import { SweepProgress } from "../sweep/SweepProgress";
import { SweepTable } from "../sweep/SweepTable";
import { rowsOfPoints, tableCsv } from "../sweep/sweepMetrics";
import { api } from "../api/client";
import type { ArchitectureSummary } from "../api/types";

/** A new sweep of an architecture: the form, then the sweep's own page. */
export function NewSweepPage({ arch }: { arch: number }) {
  const error = useStore((s) => s.sweepError);
  const [summary, setSummary] = useState<ArchitectureSummary | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void api.architecture(arch).then(setSummary, () => setSummary(null));
  }, [arch]);
  return (
    <div className="sweep-page">
      <h1>Sweep {summary ? `${summary.name} v${summary.version}` : `architecture ${arch}`}</h1>
      <p className="muted">
        Every point is the design with the listed settings changed, simulated with the same random numbers (so the points differ only where their settings do). The grid runs every combination;
        a sample (<code>lhs:20</code>, <code>sobol:16</code>) draws that many points over the ranges.
      </p>
      <SweepForm
        scenarios={summary?.scenarios ?? []}
        error={error}
        busy={busy}
        onStart={(body) => {
          setBusy(true);
          void startSweep(body, arch).finally(() => setBusy(false));
        }}
      />
    </div>
  );
}

export function SweepPage({ id }: { id: number }) {
  const sweep = useStore((s) => s.sweep);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    setFailed(false);
    void openSweep(id).then((ok) => setFailed(!ok));
  }, [id]);
  if (failed) return <NotOpened what={`sweep ${id}`} />;
  if (!sweep || sweep.run.id !== id) return <p className="loading">Opening sweep {id}…</p>;
  return <SweepResultView view={sweep} />;
}

function SweepResultView({ view }: { view: SweepView }) {
  const r = view.run;
  const dimensions = useMemo(() => view.result?.dimensions ?? r.sweep?.dimensions.map((d) => d.path) ?? [], [view.result, r.sweep]);
  const rows = useMemo(() => view.result?.rows ?? rowsOfPoints(view.points), [view.result, view.points]);
  const csv = useMemo(() => (view.result ? `data:text/csv;charset=utf-8,${encodeURIComponent(tableCsv(view.result.columns, view.result.rows))}` : null), [view.result]);
  const finished = r.state === "done" || r.state === "failed" || r.state === "cancelled";
  return (
    <div className="sweep-page">
      <header className="run-head">
        <h1>
          Sweep {r.id} · {r.architecture_name} v{r.version}
          {r.scenario ? ` · scenario ${r.scenario}` : ""} · {r.sweep?.method ?? "grid"}
        </h1>
        <span className={`state state-${r.state}`} data-testid="sweep-state">
          {r.state}
        </span>
        {!finished && (
          <button type="button" onClick={() => void cancelSweep()}>
            Cancel
          </button>
        )}
        {r.architecture_id !== null && (
          <button type="button" onClick={() => navigate({ page: "designer", id: r.architecture_id })}>
            Back to designer
          </button>
        )}
      </header>
      <SweepProgress run={r} />
      {r.error && <p className="banner-error" role="alert">The sweep failed: {r.error}</p>}
      {view.streamError && <p className="banner-warn">{view.streamError}</p>}
      <p className="muted" data-testid="sweep-dimensions">
        Varied: {r.sweep?.dimensions.map((d) => `${d.path} ∈ {${d.values.join(", ")}}`).join(" × ")}
      </p>
      <div className="sweep-body">
        <section className="sweep-charts" aria-label="charts">
          <SweepLineCharts rows={rows} dimensions={dimensions} />
          <SweepHeatMap rows={rows} dimensions={dimensions} />
          {view.result && <SensitivitySummary result={view.result} />}
        </section>
        <section aria-label="table">
          <SweepTable rows={rows} dimensions={dimensions} csvHref={csv} />
        </section>
      </div>
    </div>
  );
}
