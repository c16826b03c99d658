import { useEffect, useMemo, useState } from "react";
import { api, errorText } from "../api/client";
import type { Pattern } from "../api/types";
import { ArchitectureCanvas } from "../graph/ArchitectureCanvas";
import { useGraphOf, usePositions } from "../graph/useGraph";
import { loadCatalog, openTemplate } from "../state/actions";
import { useStore } from "../state/store";
import { readDocument } from "../yaml/sync";

/** A pattern page: the catalog entry, its template's topology, knobs, scenarios and "try it". */
export function PatternPage({ id }: { id: string }) {
  const [pattern, setPattern] = useState<Pattern | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const catalog = useStore((s) => s.catalog);
  useEffect(() => {
    void loadCatalog();
    setPattern(null);
    setError(null);
    api
      .pattern(id)
      .then(async (r) => {
        setPattern(r.pattern);
        if (r.pattern.template) setText((await api.template(r.pattern.template)).text);
      })
      .catch((e: unknown) => setError(errorText(e)));
  }, [id]);
  const graph = useGraphOf(text);
  const positions = usePositions(graph, {});
  const scenarios = useMemo(() => {
    const spec = (readDocument(text).value as { spec?: { scenarios?: Record<string, { description?: string; faults?: { type: string; target?: string }[] }> } } | null)?.spec;
    return Object.entries(spec?.scenarios ?? {});
  }, [text]);
  const names = new Map((catalog?.groups ?? []).flatMap((g) => g.patterns.map((p) => [p.id, p.name] as const)));

  if (error) return <p className="banner-error" role="alert">{error}</p>;
  if (!pattern) return <p className="loading">Loading the pattern…</p>;
  const list = (title: string, items: string[] | undefined, testId?: string) =>
    items && items.length > 0 ? (
      <section data-testid={testId}>
        <h2>{title}</h2>
        <ul>
          {items.map((x, i) => (
            <li key={i}>{x}</li>
          ))}
        </ul>
      </section>
    ) : null;
  return (
    <article className="pattern-page" data-testid="pattern-page">
      <header className="pattern-head">
        <p className="muted">{pattern.group}</p>
        <h1>{pattern.name}</h1>
        {pattern.template && (
          <div className="pattern-actions">
            <button type="button" className="primary" onClick={() => void openTemplate(pattern.template ?? "", true)} data-testid="try-it">
              ▶ Try it: open and run
            </button>
            <button type="button" onClick={() => void openTemplate(pattern.template ?? "")} data-testid="open-template">
              Open the template in the designer
            </button>
          </div>
        )}
      </header>
      <div className="pattern-columns">
        <div className="pattern-text">
          <section>
            <h2>Intent</h2>
            <p>{pattern.intent ?? pattern.summary}</p>
          </section>
          {pattern.problem && (
            <section>
              <h2>Problem</h2>
              <p>{pattern.problem}</p>
            </section>
          )}
          {list("Forces", pattern.forces)}
          {pattern.solution && (
            <section>
              <h2>Solution</h2>
              <p>{pattern.solution}</p>
            </section>
          )}
          {pattern.components && pattern.components.length > 0 && (
            <section>
              <h2>Parts</h2>
              <dl>
                {pattern.components.map((c) => (
                  <div key={c.name}>
                    <dt>{c.name}</dt>
                    <dd>{c.role}</dd>
                  </div>
                ))}
              </dl>
            </section>
          )}
          {list("Consequences", pattern.consequences)}
          {list("When to use it", pattern.use_when)}
          {list("When not to", pattern.avoid_when)}
          {list("What the simulator shows", pattern.simulation)}
          {list("Limitations", pattern.limitations)}
          {pattern.examples && pattern.examples.length > 0 && (
            <section>
              <h2>Known uses</h2>
              <ul>
                {pattern.examples.map((e) => (
                  <li key={e.name}>
                    <strong>{e.name}</strong>: {e.description}
                    {e.template && (
                      <>
                        {" "}
                        <button type="button" className="link" onClick={() => void openTemplate(e.template ?? "")}>
                          open {e.template}
                        </button>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {pattern.related && pattern.related.length > 0 && (
            <section>
              <h2>Related patterns</h2>
              <ul>
                {pattern.related.map((r) => (
                  <li key={r.id}>
                    <a href={`#/patterns/${r.id}`}>{names.get(r.id) ?? r.id}</a>: {r.why}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
        <div className="pattern-side">
          <section className="pattern-topology">
            <h2>Topology of the template {pattern.template ? <code>{pattern.template}</code> : null}</h2>
            <div className="topology-box" data-testid="pattern-topology">
              {positions && graph.nodes.length > 0 ? <ArchitectureCanvas graph={graph} positions={positions} testId="pattern-canvas" fitMinZoom={0.3} /> : <p className="loading">Drawing…</p>}
            </div>
          </section>
          {pattern.language && pattern.language.length > 0 && (
            <section>
              <h2>Knobs in the architecture file</h2>
              <table className="knobs" data-testid="knobs">
                <tbody>
                  {pattern.language.map((k) => (
                    <tr key={k.path}>
                      <td>
                        <code>{k.path}</code>
                      </td>
                      <td>{k.meaning}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          {pattern.generation && pattern.generation.length > 0 && (
            <section>
              <h2>What it becomes in the generated configuration</h2>
              <table className="knobs">
                <tbody>
                  {pattern.generation.map((g, i) => (
                    <tr key={i}>
                      <td>
                        <code>
                          {g.kind} ({g.api_version})
                        </code>
                      </td>
                      <td>{g.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <section data-testid="scenarios">
            <h2>Failure scenarios</h2>
            {scenarios.length === 0 ? (
              <p className="muted">The template has no fault scenario.</p>
            ) : (
              <ul>
                {scenarios.map(([name, s]) => (
                  <li key={name}>
                    <strong>{name}</strong>: {s.description ?? (s.faults ?? []).map((f) => `${f.type} ${f.target ?? ""}`).join(", ")}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </article>
  );
}
