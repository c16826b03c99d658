import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import type { Diagnostic } from "../api/types";
import { ElementForm } from "../form/ElementForm";
import type { JsonSchema } from "../form/schema";
import { ArchitectureCanvas } from "../graph/ArchitectureCanvas";
import { addNode, connect, removeNode, type AddableKind } from "../graph/edits";
import { nodeOfPath, nodePath, type GraphNode } from "../graph/mapping";
import { useGraphOf, usePositions } from "../graph/useGraph";
import {
  editText,
  loadSchema,
  moveNodes,
  navigate,
  openDesigner,
  redo,
  runFault,
  save,
  select,
  setAutoPositions,
  showError,
  startRun,
  undo,
} from "../state/actions";
import { useStore, type DesignerState } from "../state/store";
import { lineOfPath, parsePath, readDocument, setAtPath, type DocPath } from "../yaml/sync";
import { RunControls } from "./RunControls";
import { EstimateSummary } from "../estimate/EstimateSummary";
import { NotOpened } from "../components/NotOpened";

const YamlEditor = lazy(() => import("../yaml/YamlEditor"));

export function DesignerPage({ id }: { id: number }) {
  const d = useStore((s) => s.designer);
  const schema = useStore((s) => s.schema);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    setFailed(false);
    void openDesigner(id).then((ok) => setFailed(!ok));
    void loadSchema();
  }, [id]);
  if (failed) return <NotOpened what={`architecture ${id}`} />;
  if (!d || d.id !== id) return <p className="loading">Opening the architecture…</p>;
  return <Designer d={d} schema={schema} />;
}

function Designer({ d, schema }: { d: DesignerState; schema: JsonSchema | null }) {
  const graph = useGraphOf(d.text);
  const positions = usePositions(graph, d.positions, (p, ms) => setAutoPositions(p, ms));
  const [goTo, setGoTo] = useState<{ line: number; seq: number } | null>(null);
  const problems = useMemo(() => problemsByNode(d.diagnostics), [d.diagnostics]);
  const selectedNode = graph.nodes.find((n) => n.id === d.selected) ?? null;
  const scenarios = useMemo(() => Object.keys((readDocument(d.text).value as { spec?: { scenarios?: object } } | null)?.spec?.scenarios ?? {}), [d.text]);
  const allProblems = [...d.syntaxErrors, ...d.diagnostics];
  const errorCount = allProblems.filter((p) => p.severity === "error").length;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const inEditor = (e.target as HTMLElement | null)?.closest?.(".cm-editor, input, select, textarea");
      if (inEditor) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "y") {
        e.preventDefault();
        redo();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const showInYaml = (path: DocPath) => setGoTo({ line: lineOfPath(d.text, path), seq: Date.now() });
  const add = (kind: AddableKind) => {
    const r = addNode(d.text, kind);
    editText(r.text);
    select(r.id);
  };
  const onConnect = (s: string, t: string) => {
    const a = graph.nodes.find((n) => n.id === s);
    const b = graph.nodes.find((n) => n.id === t);
    if (!a || !b) return;
    const r = connect(d.text, a, b);
    if ("error" in r) showError(`Cannot connect ${a.name} to ${b.name}: ${r.error}.`);
    else editText(r.text);
  };
  const onDelete = (nid: string) => {
    const n = graph.nodes.find((x) => x.id === nid);
    if (n) editText(removeNode(d.text, n));
  };

  return (
    <div className="designer">
      <div className="toolbar" role="toolbar" aria-label="designer tools">
        <strong className="arch-title" title={`architecture ${d.id}, version ${d.version}`}>
          {d.name} <span className="muted">v{d.version}{d.text !== d.savedText ? " · unsaved" : ""}</span>
        </strong>
        <span className="group">
          Add:
          {(["service", "database", "topic", "event-store"] as AddableKind[]).map((k) => (
            <button key={k} type="button" onClick={() => add(k)} data-testid={`add-${k}`}>
              + {k}
            </button>
          ))}
        </span>
        <span className="group">
          <button type="button" onClick={undo} disabled={d.undo.length === 0} title="Undo (Ctrl+Z)" data-testid="undo">
            ↶ Undo
          </button>
          <button type="button" onClick={redo} disabled={d.redo.length === 0} title="Redo (Ctrl+Shift+Z)" data-testid="redo">
            ↷ Redo
          </button>
          <button type="button" onClick={() => void save()} disabled={d.text === d.savedText || d.saving} data-testid="save">
            {d.saving ? "Saving…" : "Save"}
          </button>
          <button type="button" onClick={() => void save().then((v) => v !== null && navigate({ page: "generate", id: d.id, version: v }))} data-testid="open-generate">
            Generate…
          </button>
          <button type="button" onClick={() => void save().then((v) => v !== null && navigate({ page: "sweep-new", arch: d.id }))} data-testid="open-sweep" title="Simulate many variants of this design: a grid or sample of settings">
            Sweep…
          </button>
        </span>
        <span className={`status ${errorCount ? "bad" : "good"}`} data-testid="validity" aria-live="polite">
          {d.validating ? "checking…" : errorCount ? `${errorCount} error${errorCount === 1 ? "" : "s"}` : "valid"}
        </span>
      </div>
      <RunControls scenarios={scenarios} onStart={(o) => void startRun(o)} />
      <EstimateSummary view={d.estimate} />
      <div className="designer-body">
        <section className="designer-canvas" aria-label="architecture graph">
          {positions ? (
            <ArchitectureCanvas
              graph={graph}
              positions={positions}
              selected={d.selected}
              problems={problems}
              editable
              fitKey={d.id}
              showMiniMap={graph.nodes.length > 10}
              onSelect={select}
              onMove={moveNodes}
              onConnect={onConnect}
              onDelete={onDelete}
            />
          ) : (
            <p className="loading">Laying out {graph.nodes.length} elements…</p>
          )}
          <p className="canvas-hint muted">
            {d.layoutMs !== null ? `Auto-layout ${Math.round(d.layoutMs)} ms · ` : ""}Drag to move (kept{d.layoutStore === "browser" ? " in this browser" : ""}) · drag from a right handle to a node to connect · Delete removes
          </p>
        </section>
        <aside className="side" aria-label="properties and YAML">
          <section className="side-form">
            <label className="element-picker">
              Element{" "}
              <select value={d.selected ?? ""} onChange={(e) => select(e.target.value || null)} data-testid="element-picker">
                <option value="">(none: show problems)</option>
                {graph.nodes.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.kind} {n.name}
                  </option>
                ))}
              </select>
            </label>
            {selectedNode ? (
              <>
                <header className="side-head">
                  <h2>
                    <span className="kind">{selectedNode.kind}</span> <code>{selectedNode.name}</code>
                  </h2>
                  {selectedNode.kind === "service" && <FaultButtons node={selectedNode} />}
                </header>
                {schema ? (
                  <ElementForm
                    schema={schema}
                    text={d.text}
                    path={selectedNode.kind === "client" ? ["spec", "traffic", selectedNode.name] : nodePath(selectedNode)}
                    diagnostics={d.diagnostics}
                    onSet={(p, v) => {
                      const next = setAtPath(d.text, p, v);
                      editText(next);
                      setGoTo({ line: lineOfPath(next, p), seq: Date.now() });
                    }}
                    onShowInYaml={showInYaml}
                  />
                ) : (
                  <p className="loading">Loading the schema…</p>
                )}
              </>
            ) : (
              <Diagnostics problems={allProblems} onPick={(line) => setGoTo({ line, seq: Date.now() })} />
            )}
          </section>
          <section className="side-yaml" aria-label="YAML">
            <Suspense fallback={<p className="loading">Loading the editor…</p>}>
              <YamlEditor text={d.text} revision={d.revision} problems={allProblems} onChange={(t) => editText(t, true)} goToLine={goTo} label="architecture YAML" />
            </Suspense>
          </section>
        </aside>
      </div>
    </div>
  );
}

function FaultButtons({ node }: { node: GraphNode }) {
  return (
    <span className="fault-buttons" role="group" aria-label={`break ${node.name}`}>
      {(["crash", "slow", "outage"] as const).map((k) => (
        <button key={k} type="button" className="fault" onClick={() => void runFault(node.name, k)} data-testid={`fault-${k}`} title={`Add a scenario where ${node.name} ${k === "slow" ? "slows down" : k === "crash" ? "crashes" : "stops answering"} and run it`}>
          ⚡ {k}
        </button>
      ))}
    </span>
  );
}

function Diagnostics({ problems, onPick }: { problems: { line: number; severity: string; message: string; path: string }[]; onPick: (line: number) => void }) {
  if (problems.length === 0) return <p className="muted hint">Select an element on the graph to edit it. No problems found.</p>;
  return (
    <div data-testid="diagnostics">
      <h2>Problems</h2>
      <ul className="diag-list">
        {problems.map((p, i) => (
          <li key={i} className={`diag diag-${p.severity}`}>
            <button type="button" className="link" onClick={() => onPick(p.line)}>
              line {p.line}
            </button>{" "}
            <code>{p.path}</code>: {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function problemsByNode(diags: Diagnostic[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of diags) {
    if (d.severity !== "error") continue;
    const id = nodeOfPath(parsePath(d.path));
    if (id) out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}
