import type { SweepRow } from "../api/types";
import { formatSeconds } from "../graph/ArchNode";
import { textOn, VIRIDIS } from "../graph/palette";
import { heatMap } from "./sweepMetrics";

/** p99 over the first two varied values, coloured by viridis (low dark, high yellow) and written. */
export function SweepHeatMap({ rows, dimensions, metric = "p99" }: { rows: SweepRow[]; dimensions: string[]; metric?: string }) {
  const h = heatMap(rows, dimensions, metric);
  if (!h) return null;
  const colour = (v: number | null) => {
    if (v === null || h.min === null || h.max === null) return "#eee";
    const t = h.max > h.min ? (v - h.min) / (h.max - h.min) : 0;
    return VIRIDIS[Math.min(VIRIDIS.length - 1, Math.round(t * (VIRIDIS.length - 1)))] ?? VIRIDIS[0];
  };
  return (
    <figure className="chart">
    <figcaption>
      {metric} over {dimensions[0]} (columns) and {dimensions[1]} (rows)
    </figcaption>
    <table className="heatmap" data-testid="sweep-heatmap">
      <thead>
        <tr>
          <th />
          {h.xs.map((x) => (
            <th key={x}>{x}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {h.ys.map((y, i) => (
          <tr key={y}>
            <th>{y}</th>
            {h.xs.map((x, j) => {
              const v = h.cells[i]?.[j] ?? null;
              const bg = colour(v);
              return (
                <td key={x} style={{ background: bg, color: textOn(bg) }} data-value={v ?? ""}>
                  {v === null ? "–" : metric === "p99" || metric === "p50" || metric === "latency_mean" ? formatSeconds(v) : v.toFixed(2)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
    </figure>
  );
}
