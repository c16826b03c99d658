import { useEffect, useMemo, useState } from "react";
import { api, errorText } from "../api/client";
import type { Architecture, ArchitectureSummary, Run } from "../api/types";
import { ArchitectureCanvas } from "../graph/ArchitectureCanvas";
import { formatSeconds } from "../graph/ArchNode";
import { useGraphOf, usePositions } from "../graph/useGraph";
import type { Graph } from "../graph/mapping";
import { RunControls } from "./RunControls";

interface Estimate {
  mean: number | null;
  ci95: number | null;
  n?: number;
}

/** Two designs under common random numbers: paired differences with intervals, and the graph diff. */
export function ComparePage() {
  const [archs, setArchs] = useState<ArchitectureSummary[]>([]);
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [textA, setTextA] = useState("");
  const [textB, setTextB] = useState("");
  const [run, setRun] = useState<Run | null>(null);
  const [result, setResult] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .architectures()
      .then((list) => {
        setArchs(list);
        const params = new URLSearchParams(window.location.hash.split("?")[1] ?? "");
        setA(Number(params.get("a")) || list[1]?.id || list[0]?.id || null);
        setB(Number(params.get("b")) || list[0]?.id || null);
        const reopen = Number(params.get("run"));
        if (reopen) void showFinished(reopen);
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, []);
  useEffect(() => {
    if (a) api.architecture(a).then((x: Architecture) => setTextA(x.text), (e: unknown) => setError(errorText(e)));
  }, [a]);
  useEffect(() => {
    if (b) api.architecture(b).then((x: Architecture) => setTextB(x.text), (e: unknown) => setError(errorText(e)));
  }, [b]);

  const graphA = useGraphOf(textA);
  const graphB = useGraphOf(textB);
  const union = useMemo(() => unionGraph(graphA, graphB), [graphA, graphB]);
  const positions = usePositions(union.graph, {});
  const scenarios = useMemo(() => {
    const sa = new Set(archs.find((x) => x.id === a)?.scenarios ?? []);
    return (archs.find((x) => x.id === b)?.scenarios ?? []).filter((s) => sa.has(s));
  }, [archs, a, b]);

  /** A comparison from the history: its two designs and, when it is done, its result. */
  const showFinished = async (id: number) => {
    try {
      const r = await api.run(id);
      setRun(r);
      setA(r.architecture_id);
      if (r.compare_with) setB(r.compare_with.architecture_id);
      if (r.state === "done") setResult(await api.result(id));
    } catch (e) {
      setError(errorText(e));
    }
  };

  const start = async (o: { scenario: string | null; duration?: string; replications: number }) => {
    if (!a || !b) return;
    setError(null);
    setResult(null);
    try {
      const r = await api.startCompare({ a: { architecture_id: a }, b: { architecture_id: b }, scenario: o.scenario, duration: o.duration, replications: Math.max(2, o.replications) });
      setRun(r);
      const es = new EventSource(api.eventsUrl(r.id));
      es.addEventListener("progress", (ev) => setRun((x) => (x ? { ...x, state: "running", progress: JSON.parse((ev as MessageEvent<string>).data) } : x)));
      es.addEventListener("state", async (ev) => {
        const st = JSON.parse((ev as MessageEvent<string>).data) as { state: Run["state"]; error?: string };
        setRun((x) => (x ? { ...x, state: st.state, error: st.error ?? null } : x));
        if (st.state === "done" || st.state === "failed" || st.state === "cancelled") {
          es.close();
          if (st.state === "done") setResult(await api.result(r.id));
          else if (st.error) setError(`The comparison failed: ${st.error}`);
        }
      });
    } catch (e) {
      setError(errorText(e));
    }
  };

  const picker = (label: string, value: number | null, set: (v: number) => void, testId: string) => (
    <label>
      {label}{" "}
      <select value={value ?? ""} onChange={(e) => set(Number(e.target.value))} data-testid={testId}>
        {archs.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name} (v{x.version}){x.valid ? "" : " – invalid"}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="compare-page">
      <h1>Compare two designs</h1>
      {error && <p className="banner-error" role="alert">{error}</p>}
      {archs.length < 2 ? (
        <p className="muted">Open at least two architectures (from the catalog) to compare them.</p>
      ) : (
        <div className="compare-pickers">
          {picker("A", a, setA, "compare-a")}
          {picker("B", b, setB, "compare-b")}
        </div>
      )}
      <RunControls scenarios={scenarios} onStart={(o) => void start(o)} busy={run?.state === "running" || run?.state === "queued"} label="Compare" />
      <p className="muted">Both designs run with the same seeds (common random numbers); each figure is the paired difference B − A with its 95 % interval. At least two replications.</p>
      {run && (
        <div className="progress" data-testid="compare-progress">
          <progress max={1} value={run.state === "done" ? 1 : (run.progress?.fraction ?? 0)} />
          <span>
            run {run.id}: {run.state}
          </span>
        </div>
      )}
      <div className="compare-body">
        <section className="compare-graph" aria-label="where the designs differ">
          <h2>Where they differ</h2>
          <p className="muted">
            <span className="chip changed-added">only in B</span> <span className="chip changed-removed">only in A</span> <span className="chip changed-changed">changed</span>
          </p>
          <ChangeList a={graphA} b={graphB} changed={union.changed} />
          <div className="topology-box">{positions && union.graph.nodes.length > 0 ? <ArchitectureCanvas graph={union.graph} positions={positions} changed={union.changed} testId="compare-canvas" fitMinZoom={0.3} fitKey={`${a}-${b}-${union.graph.nodes.length}`} /> : null}</div>
        </section>
        <section className="compare-result">{result ? <DifferenceTable result={result} /> : <p className="muted">Results appear here when the comparison is done.</p>}</section>
      </div>
    </div>
  );
}

function ChangeList({ a, b, changed }: { a: Graph; b: Graph; changed: Record<string, "added" | "removed" | "changed"> }) {
  const entries = Object.entries(changed);
  if (entries.length === 0) return <p className="muted">The two designs have the same elements; they may still differ in settings the graph does not show.</p>;
  const detail = (g: Graph, id: string) => {
    const n = g.nodes.find((x) => x.id === id);
    return n ? `${n.detail}${n.badges.length ? ` [${n.badges.join(", ")}]` : ""}` : "";
  };
  return (
    <ul className="change-list" data-testid="change-list">
      {entries.map(([id, kind]) => (
        <li key={id}>
          <code>{id.split(":")[1]}</code>{" "}
          {kind === "changed" ? (
            <>
              {detail(a, id)} → <strong>{detail(b, id)}</strong>
            </>
          ) : kind === "added" ? (
            "only in B"
          ) : (
            "only in A"
          )}
        </li>
      ))}
    </ul>
  );
}

export function unionGraph(a: Graph, b: Graph): { graph: Graph; changed: Record<string, "added" | "removed" | "changed"> } {
  const changed: Record<string, "added" | "removed" | "changed"> = {};
  const byA = new Map(a.nodes.map((n) => [n.id, n]));
  const byB = new Map(b.nodes.map((n) => [n.id, n]));
  for (const n of b.nodes) {
    const old = byA.get(n.id);
    if (!old) changed[n.id] = "added";
    else if (old.detail !== n.detail || old.badges.join() !== n.badges.join()) changed[n.id] = "changed";
  }
  for (const n of a.nodes) if (!byB.has(n.id)) changed[n.id] = "removed";
  const nodes = [...b.nodes, ...a.nodes.filter((n) => !byB.has(n.id))];
  const edgeIds = new Set(b.edges.map((e) => e.id));
  const edges = [...b.edges, ...a.edges.filter((e) => !edgeIds.has(e.id))];
  return { graph: { nodes, edges }, changed };
}

function DifferenceTable({ result }: { result: Record<string, unknown> }) {
  const diff = result.difference as { entries?: Record<string, Record<string, unknown>>; totals?: Record<string, unknown> } | undefined;
  const a = (result.a as { summary?: { entries?: Record<string, Record<string, unknown>> } } | undefined)?.summary;
  const rows: { entry: string; metric: string; a: Estimate | null; d: Estimate }[] = [];
  for (const [entry, report] of Object.entries(diff?.entries ?? {})) {
    for (const metric of ["throughput", "mean", "p50", "p99", "error_rate"]) {
      const d = findEstimate(report, metric);
      if (d) rows.push({ entry, metric, a: findEstimate(a?.entries?.[entry] ?? {}, metric), d });
    }
  }
  if (rows.length === 0) return <pre className="raw">{JSON.stringify(diff, null, 1).slice(0, 4000)}</pre>;
  const fmt = (metric: string, v: number | null) => (v === null ? "–" : ["mean", "p50", "p99"].includes(metric) ? formatSeconds(v) : metric === "error_rate" ? `${(v * 100).toFixed(2)}%` : `${v.toFixed(1)}/s`);
  return (
    <table className="diff-table" data-testid="compare-table">
      <caption>Paired difference B − A (95 % interval)</caption>
      <thead>
        <tr>
          <th>entry</th>
          <th>metric</th>
          <th>A</th>
          <th>B − A</th>
          <th>significant?</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const sig = r.d.mean !== null && r.d.ci95 !== null && Math.abs(r.d.mean) > r.d.ci95;
          return (
            <tr key={`${r.entry}/${r.metric}`}>
              <td>{r.entry}</td>
              <td>{r.metric}</td>
              <td>{fmt(r.metric, r.a?.mean ?? null)}</td>
              <td>
                {r.d.mean !== null && r.d.mean > 0 ? "+" : ""}
                {fmt(r.metric, r.d.mean)} ± {fmt(r.metric, r.d.ci95)}
              </td>
              <td>{sig ? "yes" : "no (interval spans 0)"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function findEstimate(report: Record<string, unknown>, metric: string): Estimate | null {
  const direct = report[metric];
  if (direct && typeof direct === "object" && "mean" in direct) return direct as Estimate;
  const latency = report.latency as Record<string, unknown> | undefined;
  const nested = latency?.[metric];
  if (nested && typeof nested === "object" && "mean" in nested) return nested as Estimate;
  return null;
}
