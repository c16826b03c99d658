import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { api, errorText } from "../api/client";
import type { Generated } from "../api/types";

const YamlEditor = lazy(() => import("../yaml/YamlEditor"));

/** The generated tree as a file browser, lint findings linked to their files, and the zip. */
export function GeneratePage({ id, version }: { id: number; version: number | null }) {
  const [v, setV] = useState<number | null>(version);
  const [gen, setGen] = useState<Generated | null>(null);
  const [file, setFile] = useState<{ path: string; text: string } | null>(null);
  const [line, setLine] = useState<{ line: number; seq: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    (async () => {
      const ver = version ?? (await api.architecture(id)).version;
      setV(ver);
      const g = await api.generated(id, ver);
      setGen(g);
      const first = g.files.find((f) => /\.ya?ml$/.test(f.path)) ?? g.files[0];
      if (first) setFile(await api.generatedFile(id, ver, first.path));
    })().catch((e: unknown) => setError(errorText(e)));
  }, [id, version]);
  const open = async (path: string, at?: number) => {
    if (v === null) return;
    try {
      setFile(await api.generatedFile(id, v, path));
      if (at) setLine({ line: at, seq: Date.now() });
    } catch (e) {
      setError(errorText(e));
    }
  };
  const tree = useMemo(() => groupByFolder(gen?.files.map((f) => f.path) ?? []), [gen]);
  const findingsByFile = useMemo(() => {
    const m = new Map<string, number>();
    for (const f of gen?.lint.findings ?? []) m.set(f.file, (m.get(f.file) ?? 0) + 1);
    return m;
  }, [gen]);
  if (error) return <p className="banner-error" role="alert">{error}</p>;
  if (!gen || v === null) return <p className="loading">Generating…</p>;
  return (
    <div className="generate-page">
      <header className="gen-head">
        <h1>Generated configuration · architecture {id} v{v}</h1>
        <a className="button primary" href={api.zipUrl(id, v)} download data-testid="download-zip">
          ⇩ Download zip ({gen.files.length} files)
        </a>
        <a className="button" href={`#/designer/${id}`}>
          Back to designer
        </a>
      </header>
      <div className="gen-body">
        <nav className="file-tree" aria-label="generated files" data-testid="file-tree">
          {tree.map(([folder, files]) => (
            <details key={folder} open>
              <summary>{folder || "/"}</summary>
              <ul>
                {files.map((p) => (
                  <li key={p}>
                    <button type="button" className={`file${file?.path === p ? " current" : ""}`} onClick={() => void open(p)}>
                      {p.slice(folder.length ? folder.length + 1 : 0)}
                      {findingsByFile.get(p) ? <span className="finding-count"> ⚠ {findingsByFile.get(p)}</span> : null}
                    </button>
                  </li>
                ))}
              </ul>
            </details>
          ))}
        </nav>
        <section className="file-view" aria-label={file?.path ?? "file"}>
          <h2>
            <code>{file?.path}</code>
          </h2>
          <Suspense fallback={<p className="loading">Loading the viewer…</p>}>
            {file && <YamlEditor text={file.text} revision={0} problems={(gen.lint.findings ?? []).filter((f) => f.file === file.path).map((f) => ({ line: f.line ?? 1, column: f.column ?? 1, severity: f.severity === "error" ? "error" : "warning", message: `${f.rule}: ${f.message}` }))} readOnly language={/\.ya?ml$/.test(file.path) ? "yaml" : "text"} goToLine={line} label={`generated file ${file.path}`} />}
          </Suspense>
        </section>
        <aside className="lint" aria-label="lint findings" data-testid="lint">
          <h2>Lint: {gen.lint.summary || (gen.lint.ok ? "no findings" : "findings")}</h2>
          {gen.lint.findings.length === 0 ? (
            <p className="muted">Nothing to report.</p>
          ) : (
            <ul>
              {gen.lint.findings.map((f, i) => (
                <li key={i} className={`diag diag-${f.severity === "error" ? "error" : "warning"}`}>
                  <button type="button" className="link" onClick={() => void open(f.file, f.line)}>
                    {f.file}
                    {f.line ? `:${f.line}` : ""}
                  </button>{" "}
                  <code>{f.rule}</code> {f.message}
                </li>
              ))}
            </ul>
          )}
        </aside>
      </div>
    </div>
  );
}

function groupByFolder(paths: string[]): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const p of [...paths].sort()) {
    const folder = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    m.set(folder, [...(m.get(folder) ?? []), p]);
  }
  return [...m.entries()];
}
