import { useEffect } from "react";
import { loadCatalog, navigate, openTemplate } from "../state/actions";
import { useStore } from "../state/store";

/** The twelve patterns by group, then the whole-system templates as a gallery. */
export function CatalogPage() {
  const catalog = useStore((s) => s.catalog);
  useEffect(() => void loadCatalog(), []);
  useEffect(() => {
    if (catalog && performance.getEntriesByName("catalog-rendered").length === 0) performance.mark("catalog-rendered");
  }, [catalog]);
  if (!catalog) return <p className="loading">Loading the catalog…</p>;
  const patternTemplates = new Set(catalog.groups.flatMap((g) => g.patterns.map((p) => p.template)));
  const systems = catalog.templates.filter((t) => t.kind !== "pattern" && !patternTemplates.has(t.id));
  return (
    <div className="catalog">
      <h1>Patterns</h1>
      <p className="lead">Twelve microservice patterns, each with a runnable template: open one, change it, break it, and watch it behave.</p>
      <div className="groups">
      {catalog.groups.map((g) => (
        <section key={g.id} className="pattern-group" aria-labelledby={`group-${g.id}`}>
          <h2 id={`group-${g.id}`}>{g.title}</h2>
          <div className="cards">
            {g.patterns.map((p) => (
              <a key={p.id} className="card pattern-card" href={`#/patterns/${p.id}`} data-testid={`pattern-${p.id}`}>
                <h3>{p.name}</h3>
                <p>{firstSentence(p.summary)}</p>
              </a>
            ))}
          </div>
        </section>
      ))}
      </div>
      <h1>Templates</h1>
      <p className="lead">Whole systems that combine several patterns.</p>
      <div className="cards gallery">
        {(systems.length ? systems : catalog.templates).map((t) => (
          <article key={t.id} className="card template-card" data-testid={`template-${t.id}`}>
            <h3>{t.title}</h3>
            <p>{t.description}</p>
            <p className="chips">
              {t.patterns.map((p) => (
                <button type="button" key={p} className="chip" onClick={() => navigate({ page: "pattern", id: p })}>
                  {p}
                </button>
              ))}
            </p>
            <button type="button" className="primary" onClick={() => void openTemplate(t.id)}>
              Open in designer
            </button>
          </article>
        ))}
      </div>
    </div>
  );
}

export function firstSentence(s: string): string {
  const m = /^(.+?[.!?])(\s|$)/.exec(s);
  return m?.[1] ?? s;
}
