// Starting a sweep: the server's refusal lands on the form with the field it names (a limit's
// name for a limit), and the progress line counts finished simulations of all.
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Run } from "../api/types";
import { startSweep } from "../state/actions";
import { getState, resetState } from "../state/store";
import { SweepProgress } from "./SweepProgress";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("startSweep", () => {
  beforeEach(() => resetState());
  afterEach(() => vi.unstubAllGlobals());

  it("keeps an invalid plan's field and message for the form", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json({ error: { code: "invalid_sweep", message: "vary[1]: no entry 'shopers'", details: { field: "vary[1]", valid: "..." } } }, 422)));
    await startSweep({ vary: ["a=1,2", "b=1"] }, 3);
    expect(getState().sweepError).toEqual({ field: "vary[1]", message: "Vary[1]: no entry 'shopers'." });
  });

  it("names the limit and both figures", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json({ error: { code: "limit_exceeded", message: "points x replications (6 x 2) 12 exceeds the server's limit of 10", details: { limit: "sweep_tasks", value: 12, maximum: 10 } } }, 422)));
    await startSweep({ vary: ["a=1..6:6"], replications: 2 }, 3);
    const e = getState().sweepError!;
    expect(e.field).toBe("sweep_tasks");
    expect(e.message).toContain("(limit sweep_tasks: asked 12, at most 10)");
  });

  it("opens the sweep's page when it is queued", async () => {
    const asked: unknown[] = [];
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: RequestInit) => {
      asked.push(JSON.parse(String(init.body)));
      return json({ id: 42, kind: "sweep" }, 202);
    }));
    await startSweep({ vary: ["a=1,2"] }, 3);
    expect(asked).toEqual([{ vary: ["a=1,2"], architecture_id: 3 }]);
    expect(window.location.hash).toBe("#/sweeps/42");
    expect(getState().sweepError).toBeNull();
  });
});

describe("SweepProgress", () => {
  afterEach(cleanup);
  const run = (state: Run["state"], done: number | null): Run =>
    ({
      id: 1, kind: "sweep", state, progress: done === null ? null : { fraction: done / 6, replication: 0, replications: 2, time: 0, end: 10, requests: 1234, tasks_done: done, tasks: 6 },
      sweep: { method: "grid", dimensions: [], points: 3, replications: 2, tasks: 6 },
    }) as unknown as Run;
  it("counts simulations finished of all", () => {
    render(<SweepProgress run={run("running", 4)} />);
    expect(screen.getByTestId("sweep-progress").textContent).toBe("4 of 6 simulations (3 points × 2 replications) · 1,234 requests simulated");
    expect(screen.getByRole("progressbar").getAttribute("value")).toBe("4");
  });
  it("is full when done and empty while queued", () => {
    render(<SweepProgress run={run("done", 5)} />);
    expect(screen.getByTestId("sweep-progress").textContent).toContain("6 of 6 simulations");
    cleanup();
    render(<SweepProgress run={run("queued", null)} />);
    expect(screen.getByTestId("sweep-progress").textContent).toBe("0 of 6 simulations (3 points × 2 replications) · queued…");
  });
});
