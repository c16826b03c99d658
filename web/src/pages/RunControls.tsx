import { useState } from "react";
import type { RunOptions } from "../state/actions";

/** Scenario, simulated duration and replications for a run, and the button that starts it. */
export function RunControls({ scenarios, onStart, busy = false, label = "Run" }: { scenarios: string[]; onStart: (o: RunOptions) => void; busy?: boolean; label?: string }) {
  const [scenario, setScenario] = useState<string>("");
  const [duration, setDuration] = useState("");
  const [replications, setReplications] = useState(1);
  const durationOk = duration.trim() === "" || /^(\d+(\.\d+)?(ms|s|m|h))+$/.test(duration.trim());
  return (
    <form
      className="run-controls"
      aria-label="run settings"
      onSubmit={(e) => {
        e.preventDefault();
        if (durationOk) onStart({ scenario: scenario || null, duration: duration.trim() || undefined, replications });
      }}
    >
      <label>
        Scenario{" "}
        <select value={scenario} onChange={(e) => setScenario(e.target.value)} data-testid="run-scenario">
          <option value="">steady load (no fault)</option>
          {scenarios.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Duration{" "}
        <input value={duration} onChange={(e) => setDuration(e.target.value)} size={8} placeholder="the file's" aria-invalid={!durationOk || undefined} data-testid="run-duration" />
      </label>
      {!durationOk && <span className="field-error">a duration like 60s or 5m</span>}
      <label>
        Replications{" "}
        <input type="number" min={1} max={20} value={replications} onChange={(e) => setReplications(Math.max(1, Number(e.target.value) || 1))} style={{ width: "4em" }} data-testid="run-replications" />
      </label>
      <button type="submit" className="primary" disabled={busy || !durationOk} data-testid="run-start">
        ▶ {label}
      </button>
    </form>
  );
}
