import { count, fixed } from "./format";
import { sessionRows, type Result } from "./sections";

/** User sessions per traffic source: started, completed, and each step's requests. */
export function SessionSteps({ result }: { result: Result | null }) {
  const rows = sessionRows(result);
  if (rows.length === 0) return null;
  return (
    <div data-testid="session-steps">
      {rows.map((s) => (
        <table className="slos" key={s.source}>
          <caption>
            Sessions of {s.source}: {count(s.started)} started, {count(s.completed)} completed
          </caption>
          <thead>
            <tr>
              <th>step</th>
              <th>requests</th>
              <th>failed</th>
              <th>per completed session</th>
            </tr>
          </thead>
          <tbody>
            {s.steps.map((st) => (
              <tr key={st.name} className={st.failed > 0 ? "row-warn" : undefined}>
                <td>{st.name}</td>
                <td>{count(st.requests)}</td>
                <td>{count(st.failed)}</td>
                <td>{fixed(st.perSession, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
