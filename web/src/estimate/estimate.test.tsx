// The designer's live estimate: asked once the user stops typing (debounced), with the latest
// text; an answer for a text that has changed since is dropped; errors in the text say why there
// is no estimate. The summary shows throughput, the bottleneck and the busiest stations.
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Estimate } from "../api/types";
import { editText, ESTIMATE_DEBOUNCE_MS } from "../state/actions";
import { getState, resetState, type DesignerState } from "../state/store";
import { busiest, EstimateSummary, totalThroughput } from "./EstimateSummary";

const EST: Estimate = {
  architecture: "shop",
  scenario: null,
  load: 1,
  bottleneck: "checkout",
  saturation_load: 2.8285,
  saturated: [],
  entries: {
    "checkout.cart": { arrival_rate: 304, throughput: 304, error_rate: 0, response_mean: 0.00296 },
    "checkout.pay": { arrival_rate: 76, throughput: 75.848, error_rate: 0.002, response_mean: 0.2115 },
  },
  stations: {
    checkout: { kind: "service", replicas: 3, servers: 16, throughput: 380, utilisation: 0.3535, wait_mean: 0 },
    "payment-provider": { kind: "service", replicas: 4, servers: 64, throughput: 76, utilisation: 0.0475, wait_mean: 0 },
    "risk-api": { kind: "service", replicas: 2, servers: 64, throughput: 76, utilisation: 0.0266, wait_mean: 0 },
    "carts-db@checkout": { kind: "pool", replicas: 3, servers: 10, throughput: 380, utilisation: 0.0057, wait_mean: 0 },
  },
  ignored: ["faults of the scenario"],
};

function designer(text: string): DesignerState {
  return {
    id: 1, name: "shop", version: 1, text, savedText: text, positions: {}, layoutStore: "server", diagnostics: [], syntaxErrors: [],
    validating: false, saving: false, undo: [], redo: [], selected: null, revision: 0, layoutMs: null,
    estimate: { value: null, problem: null, pending: false },
  };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("live estimate while editing", () => {
  let asked: string[];
  beforeEach(() => {
    vi.useFakeTimers();
    asked = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit) => {
      if (url === "/api/estimate") {
        asked.push((JSON.parse(String(init.body)) as { text: string }).text);
        return json(EST);
      }
      return json({ valid: true, diagnostics: [] });
    }));
    resetState({ designer: designer("spec: {}\n") });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("asks once, for the last text, after the user pauses", async () => {
    editText("spec: {a: 1}\n");
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS / 2);
    editText("spec: {a: 2}\n");
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS / 2);
    editText("spec: {a: 3}\n");
    expect(getState().designer!.estimate.pending).toBe(true);
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS - 1);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toEqual(["spec: {a: 3}\n"]);
    expect(getState().designer!.estimate).toEqual({ value: EST, problem: null, pending: false });
  });

  it("drops an answer for a text that has changed since", async () => {
    let release: (r: Response) => void = () => {};
    vi.stubGlobal("fetch", vi.fn((url: string) => (url === "/api/estimate" ? new Promise<Response>((ok) => (release = ok)) : Promise.resolve(json({ valid: true, diagnostics: [] })))));
    editText("spec: {a: 1}\n");
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS);
    editText("spec: {a: 2}\n"); // typed while the first estimate was on its way
    release(json(EST));
    await vi.advanceTimersByTimeAsync(0);
    expect(getState().designer!.estimate.value).toBeNull();
  });

  it("says why there is none when the file has errors", async () => {
    vi.stubGlobal("fetch", vi.fn(async (url: string) =>
      url === "/api/estimate"
        ? json({ error: { code: "invalid_architecture", message: "the architecture has errors", details: { diagnostics: [{ severity: "error" }, { severity: "error" }, { severity: "warning" }] } } }, 422)
        : json({ valid: false, diagnostics: [] }),
    ));
    editText("spec: {services: {a: {replicas: 0}}}\n");
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS);
    expect(getState().designer!.estimate.problem).toBe("No estimate while the architecture has 2 errors.");
    editText("spec: [\n");
    await vi.advanceTimersByTimeAsync(ESTIMATE_DEBOUNCE_MS);
    expect(getState().designer!.estimate.problem).toContain("does not parse");
  });
});

describe("EstimateSummary", () => {
  afterEach(cleanup);
  it("shows throughput, the bottleneck and the busiest stations", () => {
    expect(totalThroughput(EST)).toBeCloseTo(304 + 75.848, 9);
    expect(busiest(EST).map((s) => s.name)).toEqual(["checkout", "payment-provider", "risk-api"]);
    render(<EstimateSummary view={{ value: EST, problem: null, pending: false }} />);
    expect(screen.getByTestId("estimate-throughput").textContent).toBe("380 req/s");
    expect(screen.getByTestId("estimate-bottleneck").textContent).toBe("bottleneck checkout, saturates at 2.83× this load");
    expect(screen.getByTestId("estimate-utilisation").textContent).toBe("checkout 35%, payment-provider 5%, risk-api 3%");
  });
  it("names saturated stations instead", () => {
    render(<EstimateSummary view={{ value: { ...EST, saturated: ["checkout"] }, problem: null, pending: false }} />);
    expect(screen.getByTestId("estimate-bottleneck").textContent).toBe("saturated: checkout");
  });
  it("shows the reason when there is no estimate", () => {
    render(<EstimateSummary view={{ value: null, problem: "No estimate while the architecture has 1 error.", pending: false }} />);
    expect(screen.getByTestId("estimate").textContent).toContain("1 error");
  });
});
