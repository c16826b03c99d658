import { useState } from "react";
import type { SweepRequest } from "../api/types";
import type { SweepFormError } from "../state/store";

const EXAMPLE = "services.checkout.replicas=1,2,4\ntraffic.shoppers.arrival.rate=100/s..400/s:4";

/**
 * What to vary (one `PATH=VALUES` a line, as `scalesim sweep --vary`), how (grid or a sample),
 * and the run settings. The server's refusal is shown on the field it names.
 */
export function SweepForm({ scenarios, error, onStart, busy = false }: { scenarios: string[]; error: SweepFormError | null; onStart: (body: Omit<SweepRequest, "architecture_id" | "version">) => void; busy?: boolean }) {
  const [vary, setVary] = useState("");
  const [sample, setSample] = useState("");
  const [scenario, setScenario] = useState("");
  const [duration, setDuration] = useState("30s");
  const [replications, setReplications] = useState(1);
  const lines = vary.split("\n").map((l) => l.trim()).filter(Boolean);
  const badLine = error?.field?.startsWith("vary[") ? Number(error.field.slice(5, -1)) : null;
  return (
    <form
      className="sweep-form"
      aria-label="sweep settings"
      onSubmit={(e) => {
        e.preventDefault();
        onStart({ vary: lines, sample: sample.trim() || null, scenario: scenario || null, duration: duration.trim() || undefined, replications });
      }}
    >
      <label className="sweep-vary">
        Vary, one per line: <code>PATH=v1,v2,...</code> or <code>PATH=LOW..HIGH:COUNT</code>
        <textarea value={vary} onChange={(e) => setVary(e.target.value)} rows={4} placeholder={EXAMPLE} aria-invalid={error?.field?.startsWith("vary") || undefined} data-testid="sweep-vary" spellCheck={false} />
      </label>
      {badLine !== null && lines[badLine] !== undefined && (
        <p className="field-error" data-testid="sweep-bad-line">
          line {badLine + 1}: <code>{lines[badLine]}</code>
        </p>
      )}
      <div className="sweep-settings">
        <label>
          Points{" "}
          <input value={sample} onChange={(e) => setSample(e.target.value)} size={10} placeholder="grid (all)" aria-invalid={error?.field === "sample" || undefined} data-testid="sweep-sample" title="empty: every combination; lhs:N or sobol:N: a sample of N points" />
        </label>
        <label>
          Scenario{" "}
          <select value={scenario} onChange={(e) => setScenario(e.target.value)} data-testid="sweep-scenario">
            <option value="">steady load</option>
            {scenarios.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Duration <input value={duration} onChange={(e) => setDuration(e.target.value)} size={6} data-testid="sweep-duration" />
        </label>
        <label>
          Replications <input type="number" min={1} max={20} value={replications} onChange={(e) => setReplications(Math.max(1, Number(e.target.value) || 1))} style={{ width: "4em" }} aria-invalid={error?.field === "replications" || error?.field === "sweep_tasks" || undefined} data-testid="sweep-replications" />
        </label>
        <button type="submit" className="primary" disabled={busy || lines.length === 0} data-testid="sweep-start">
          ▶ Sweep
        </button>
      </div>
      {error && (
        <p className="banner-error" role="alert" data-testid="sweep-error">
          {error.message}
        </p>
      )}
    </form>
  );
}
