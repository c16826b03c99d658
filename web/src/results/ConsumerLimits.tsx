import { count, percent } from "./format";
import { bulkheadRows, rateLimitRows, type Result } from "./sections";

/** Per-consumer (and per-route) rate limits and the bulkheads that refused calls. */
export function ConsumerLimits({ result }: { result: Result | null }) {
  const limits = rateLimitRows(result);
  const bulkheads = bulkheadRows(result);
  if (limits.length === 0 && bulkheads.length === 0) return null;
  return (
    <div data-testid="consumer-limits">
      {limits.length > 0 && (
        <table className="slos">
          <caption>Rate limits (429s), by scope (mean over replications)</caption>
          <thead>
            <tr>
              <th>scope</th>
              <th>allowed</th>
              <th>rejected</th>
              <th>rejected share</th>
            </tr>
          </thead>
          <tbody>
            {limits.map((l) => (
              <tr key={l.scope} className={l.rejected > 0 ? "row-warn" : undefined}>
                <td>{l.scope}</td>
                <td>{count(l.allowed)}</td>
                <td>{count(l.rejected)}</td>
                <td>{percent(l.share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {bulkheads.length > 0 && (
        <table className="slos">
          <caption>Bulkhead rejections, by client (per tenant when the bulkhead is perConsumer)</caption>
          <thead>
            <tr>
              <th>client</th>
              <th>calls</th>
              <th>refused</th>
              <th>answered by fallback</th>
            </tr>
          </thead>
          <tbody>
            {bulkheads.map((b) => (
              <tr key={b.client} className="row-warn">
                <td>{b.client}</td>
                <td>{count(b.calls)}</td>
                <td>{count(b.rejected)}</td>
                <td>{count(b.fallbacks)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
