import { useEffect, useMemo, useState } from "react";
import { NotOpened } from "../components/NotOpened";
import { formatSeconds } from "../graph/ArchNode";
import { ArchitectureCanvas } from "../graph/ArchitectureCanvas";
import { usePositions, useRunGraphOf } from "../graph/useGraph";
import { TimeSeriesChart } from "../charts/TimeSeriesChart";
import { cancelRun, moveNodes, navigate, openRun, runFault, scrubTo, select, setAutoPositions } from "../state/actions";
import { EstimateVsMeasured } from "../results/EstimateVsMeasured";
import { ResultSections } from "../results/ResultSections";
import { useStore, type RunView } from "../state/store";
import { columns, edgeMetrics, measuredShares, nodeMetrics, nodesOf, progressRate, replicationWindows, withRouteShares } from "./runMetrics";

/**
 * The run view opens with the whole graph in sight, however deep (a five-layer template does not
 * fit at the designer's readable 0.72 and was cut off at the sides); zoom and pan from there.
 */
const RUN_FIT_MIN_ZOOM = 0.02;

export function RunPage({ id }: { id: number }) {
  const run = useStore((s) => s.run);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    setFailed(false);
    void openRun(id).then((ok) => setFailed(!ok));
  }, [id]);
  if (failed) return <NotOpened what={`run ${id}`} />;
  if (!run || run.run.id !== id) return <p className="loading">Opening run {id}…</p>;
  return <RunView view={run} />;
}

function RunView({ view }: { view: RunView }) {
  const d = useStore((s) => s.designer);
  const text = d?.id === view.run.architecture_id ? d.text : "";
  const { graph, schedules } = useRunGraphOf(text, view.run.scenario ?? null);
  const positions = usePositions(graph, d?.positions ?? {}, (p, ms) => setAutoPositions(p, ms));
  const ws = useMemo(() => replicationWindows(view.windows, 0, view.run.kind === "compare" ? "a" : null), [view.windows, view.run.kind]);
  const shown = view.scrub === null ? ws.at(-1) : ws[Math.min(view.scrub, ws.length - 1)];
  const metrics = useMemo(() => nodeMetrics(shown), [shown]);
  const measured = useMemo(() => measuredShares(view.result), [view.result]);
  const edges = useMemo(() => withRouteShares(edgeMetrics(graph, shown), graph, schedules, shown, measured), [graph, shown, schedules, measured]);
  const cascade = useMemo(() => {
    if (view.cascade && view.cascade.path.length) {
      const id = (name: string) => graph.nodes.find((n) => n.name === name && (n.kind === "service" || n.kind === "database"))?.id ?? `service:${name}`;
      return { origin: view.cascade.origin ? id(view.cascade.origin) : null, path: view.cascade.path.map(id) };
    }
    const ev = view.timeline.find((t) => t.kind === "cascade");
    if (!ev) return null;
    const path = nodesOf(ev, graph);
    return { origin: path[0] ?? null, path };
  }, [view.cascade, view.timeline, graph]);
  const time = useMemo(() => ws.map((w) => w.time), [ws]);
  const charts = useMemo(
    () => ({
      throughput: columns(ws, "entries", "throughput"),
      p50: columns(ws, "entries", "p50"),
      p99: columns(ws, "entries", "p99"),
      errors: columns(ws, "entries", "errors"),
      utilisation: columns(ws, "services", "utilisation"),
      replicas: columns(ws, "services", "replicas"),
      breakers: columns(ws, "clients", "breaker").filter((s) => s.values.some((v) => v !== null)),
    }),
    [ws],
  );
  const live = useMemo(() => progressRate(view.progressLog), [view.progressLog]);
  const r = view.run;
  const p = r.progress;
  const finished = r.state === "done" || r.state === "failed" || r.state === "cancelled";
  const selected = d?.selected ? graph.nodes.find((n) => n.id === d.selected) : undefined;
  const marker = view.scrub === null ? null : (shown?.time ?? null);
  const latency = (v: number) => formatSeconds(v);

  return (
    <div className="run-page">
      <header className="run-head">
        <h1>
          Run {r.id} · {r.architecture_name} v{r.version}
          {r.scenario ? ` · scenario ${r.scenario}` : " · steady load"}
        </h1>
        <span className={`state state-${r.state}`} data-testid="run-state">
          {r.state}
        </span>
        {!finished && (
          <button type="button" onClick={() => void cancelRun()}>
            Cancel
          </button>
        )}
        <button type="button" onClick={() => navigate({ page: "designer", id: r.architecture_id })}>
          Back to designer
        </button>
      </header>
      <div className="progress" data-testid="run-progress" aria-label="progress">
        <progress max={1} value={finished && r.state === "done" ? 1 : (p?.fraction ?? 0)} />
        <span>
          {p ? `${Math.round(p.fraction * 100)}% · simulated ${p.time.toFixed(0)}s of ${p.end.toFixed(0)}s · ${p.requests.toLocaleString()} requests · replication ${p.replication + 1} of ${p.replications}` : r.state === "queued" ? "queued…" : "starting…"}
        </span>
      </div>
      {r.error && <p className="banner-error" role="alert">The run failed: {r.error}</p>}
      {view.streamError && <p className="banner-warn">{view.streamError}</p>}
      <div className="run-body">
        <section className="run-graph" aria-label="graph coloured by load">
          {positions && graph.nodes.length > 0 ? (
            <ArchitectureCanvas graph={graph} positions={positions} metrics={metrics} edgeMetrics={edges} cascade={cascade} selected={d?.selected ?? null} onSelect={select} onMove={moveNodes} testId="run-canvas" fitKey={r.id} fitMinZoom={RUN_FIT_MIN_ZOOM} />
          ) : (
            <p className="loading">Drawing the architecture…</p>
          )}
          <Legend />
          {selected?.kind === "service" && (
            <div className="fault-bar" role="group" aria-label={`break ${selected.name}`}>
              Break <strong>{selected.name}</strong>:
              {(["crash", "slow", "outage"] as const).map((k) => (
                <button key={k} type="button" className="fault" onClick={() => void runFault(selected.name, k)} data-testid={`fault-${k}`}>
                  ⚡ {k}
                </button>
              ))}
            </div>
          )}
          {ws.length > 0 && (
            <div className="scrubber">
              <label>
                Window{" "}
                <input
                  type="range"
                  min={0}
                  max={ws.length - 1}
                  value={view.scrub ?? ws.length - 1}
                  onChange={(e) => scrubTo(Number(e.target.value) >= ws.length - 1 && !finished ? null : Number(e.target.value))}
                  aria-label="time scrubber"
                  data-testid="scrubber"
                />
              </label>
              <span>
                t = {shown?.time.toFixed(0)}s {view.scrub === null ? "(latest)" : ""}
              </span>
              {view.scrub !== null && (
                <button type="button" onClick={() => scrubTo(null)}>
                  latest
                </button>
              )}
            </div>
          )}
        </section>
        <section className="run-side" aria-label="charts and timeline">
          <Slos result={view.result} />
          {ws.length === 0 && <TimeSeriesChart title="Live: simulated requests per second (all entries)" testId="live-rate" time={live.time} series={[{ label: "requests/s", values: live.rate }]} format={(v) => v.toFixed(0)} />}
          <TimeSeriesChart title="Throughput per entry (req/s)" testId="throughput" time={time} series={charts.throughput} marker={marker} format={(v) => v.toFixed(0)} />
          <TimeSeriesChart title="p99 latency per entry" testId="p99" time={time} series={charts.p99} marker={marker} format={latency} />
          <TimeSeriesChart title="p50 latency per entry" testId="p50" time={time} series={charts.p50} marker={marker} format={latency} />
          <TimeSeriesChart title="Errors per window, per entry" testId="errors" time={time} series={charts.errors} marker={marker} integer format={(v) => v.toFixed(0)} />
          <ErrorsByCause result={view.result} />
          <ResultSections result={view.result} traces={view.traces} marker={marker} />
          <EstimateVsMeasured estimate={view.estimate} result={view.result} />
          <TimeSeriesChart title="Utilisation per service (share of workers busy)" testId="utilisation" time={time} series={charts.utilisation} marker={marker} format={(v) => `${Math.round(v * 100)}%`} />
          <TimeSeriesChart title="Replicas per service" testId="replicas" time={time} series={charts.replicas} marker={marker} stepped integer format={(v) => v.toFixed(0)} />
          {charts.breakers.length > 0 && <TimeSeriesChart title="Breaker state (0 closed, 1 half-open, 2 open)" testId="breakers" time={time} series={charts.breakers} marker={marker} stepped format={(v) => ["closed", "half", "open"][Math.round(v)] ?? String(v)} />}
          <Timeline view={view} cascadePath={cascade?.path ?? []} onPick={(t) => scrubTo(nearestWindow(ws, t))} />
        </section>
      </div>
    </div>
  );
}

function Legend() {
  return (
    <div className="legend" aria-label="legend">
      <span>utilisation</span>
      {["0%", "20%", "40%", "60%", "80%", "100%"].map((l, i) => (
        <span key={l} className="legend-swatch" style={{ background: ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"][i], color: i < 3 ? "#fff" : "#111" }}>
          {l}
        </span>
      ))}
      <span className="legend-err">dashed vermillion border = ≥1% errors</span>
      <span className="legend-cascade">purple = cascade path</span>
    </div>
  );
}

interface SloRow {
  name: string;
  target: string;
  objective: string;
  measured: number | null;
  half_width: number | null;
  verdict: string;
}

function Slos({ result }: { result: Record<string, unknown> | null }) {
  const slos = (result?.slos as SloRow[] | undefined) ?? [];
  if (!result) return null;
  if (slos.length === 0) return <p className="muted">No SLOs in this architecture.</p>;
  return (
    <table className="slos" data-testid="slos">
      <caption>SLO verdicts</caption>
      <thead>
        <tr>
          <th>SLO</th>
          <th>objective</th>
          <th>measured</th>
          <th>verdict</th>
        </tr>
      </thead>
      <tbody>
        {slos.map((s) => (
          <tr key={s.name}>
            <td>{s.name}</td>
            <td>{s.objective}</td>
            <td>
              {s.measured === null ? "–" : s.objective.includes("%") && !s.objective.startsWith("p") ? `${s.measured.toFixed(2)}%` : formatSeconds(s.measured)}
              {s.half_width !== null ? ` ± ${s.objective.startsWith("p") ? formatSeconds(s.half_width) : s.half_width.toFixed(2)}` : ""}
            </td>
            <td className={`verdict verdict-${s.verdict.replace(/\s/g, "-")}`}>{s.verdict === "met" ? "✔ met" : s.verdict === "missed" ? "✘ missed" : s.verdict}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ErrorsByCause({ result }: { result: Record<string, unknown> | null }) {
  const totals = (result?.summary as { totals?: { errors?: Record<string, { mean?: number | null } | number | null> } } | undefined)?.totals;
  const errors = totals?.errors;
  if (!errors || typeof errors !== "object") return null;
  const rows = Object.entries(errors)
    .map(([k, v]) => [k, typeof v === "number" ? v : (v?.mean ?? null)] as const)
    .filter(([, v]) => v !== null && v > 0);
  return (
    <div className="causes" data-testid="errors-by-cause">
      <h3>Failed requests by cause (whole run, mean over replications)</h3>
      {rows.length === 0 ? <p className="muted">no errors</p> : (
        <ul>
          {rows.map(([k, v]) => (
            <li key={k}>
              <code>{k}</code>: {typeof v === "number" ? Math.round(v).toLocaleString() : "–"}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function nearestWindow(ws: { time: number }[], t: number): number {
  let best = 0;
  ws.forEach((w, i) => {
    if (w.time <= t) best = i;
  });
  return best;
}

function Timeline({ view, cascadePath, onPick }: { view: RunView; cascadePath: string[]; onPick: (time: number) => void }) {
  const items = view.timeline.filter((t) => t.replication === 0);
  return (
    <div className="timeline" data-testid="timeline">
      <h3>Timeline</h3>
      {items.length === 0 ? (
        <p className="muted">{view.run.state === "done" ? "Nothing happened: no fault, breaker, scaling or rollout event." : "Events appear as the run reports them."}</p>
      ) : (
        <ol>
          {items.map((t, i) => (
            <li key={i} className={`tl tl-${t.kind}${t.kind === "cascade" ? " tl-highlight" : ""}`}>
              <button type="button" className="link" onClick={() => onPick(t.time)}>
                {t.time.toFixed(1)}s
              </button>{" "}
              <span className="tl-kind">{t.kind}</span> {t.text}
            </li>
          ))}
        </ol>
      )}
      {cascadePath.length > 1 && (
        <p className="cascade-note" data-testid="cascade-note">
          Cascade: {cascadePath.map((p) => p.split(":")[1]).join(" → ")} (origin first)
        </p>
      )}
    </div>
  );
}
