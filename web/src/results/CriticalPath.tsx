import type { CriticalBand, CriticalPaths } from "./sections";

/** Per entry, the hops and causes that make up the p50 and the p99 of sampled traces. */
export function CriticalPath({ paths, top = 3 }: { paths: CriticalPaths | null; top?: number }) {
  if (!paths || paths.entries.length === 0) return null;
  const band = (label: string, b: CriticalBand) => (
    <li key={label}>
      <strong>{label}</strong> {b.latency_ms.toFixed(1)} ms ({b.traces} traces):{" "}
      {b.parts
        .slice(0, top)
        .map((p) => `${p.hop} ${p.cause} ${p.ms.toFixed(1)} ms (${Math.round(p.share * 100)}%)`)
        .join(" · ")}
    </li>
  );
  return (
    <div className="causes" data-testid="critical-path">
      <h3>Critical path of sampled traces (what the p50 and p99 are made of)</h3>
      {paths.entries.map((e) => (
        <div key={e.entry}>
          <code>{e.entry}</code>
          <ul>
            {band("p50", e.p50)}
            {band("p99", e.p99)}
          </ul>
        </div>
      ))}
      <p className="muted">{paths.message}</p>
    </div>
  );
}
