import { TimeSeriesChart } from "../charts/TimeSeriesChart";
import { count, percent } from "./format";
import { cacheRows, cacheSeries, type Result } from "./sections";

/** Each cache's hit ratio and the reads it sent to its store, with the hit ratio over time. */
export function CacheHits({ result }: { result: Result | null }) {
  const rows = cacheRows(result);
  if (rows.length === 0) return null;
  const { time, series } = cacheSeries(result);
  return (
    <div data-testid="cache-hits">
      <table className="slos">
        <caption>Caches (mean over replications)</caption>
        <thead>
          <tr>
            <th>cache</th>
            <th>lookups</th>
            <th>hit ratio</th>
            <th>misses</th>
            <th>failed (cache down)</th>
            <th>reads sent to the store</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.cache} className={r.errors > 0 ? "row-warn" : undefined}>
              <td>{r.cache}</td>
              <td>{count(r.lookups)}</td>
              <td>{percent(r.hitRatio)}</td>
              <td>{count(r.misses)}</td>
              <td>{count(r.errors)}</td>
              <td>{count(r.storeReads)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {time.length > 0 && <TimeSeriesChart title="Cache hit ratio per window" testId="cache-hit-ratio" time={time} series={series} format={(v) => `${Math.round(v * 100)}%`} />}
    </div>
  );
}
