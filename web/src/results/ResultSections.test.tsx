// Each result-section component shows its section's figures (checked against numbers worked out
// by hand from the fixture below) and renders nothing when the run does not have the section.
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installResizeObserver } from "../test/fakeUplot";
import { BriefFigures } from "./BriefFigures";
import { CacheHits } from "./CacheHits";
import { ConsumerLimits } from "./ConsumerLimits";
import { CpuUsage } from "./CpuUsage";
import { CriticalPath } from "./CriticalPath";
import { ResultSections } from "./ResultSections";
import { ScheduledChanges } from "./ScheduledChanges";
import { SessionSteps } from "./SessionSteps";
import { bulkheadRows, cacheRows, cpuRows, rateLimitRows, sessionRows, type CriticalPaths, type Result } from "./sections";

vi.mock("uplot", () => import("../test/fakeUplot"));
installResizeObserver();
afterEach(cleanup);

const m = (mean: number) => ({ mean, ci95: null, n: 2 });

/** Two replications, each section with different numbers, so means and sums are checked. */
const RESULT: Result = {
  brief: [
    { pattern: "api-gateway", figure: "gateway-added latency p99", expectation: "< 10 ms added", measured: 4.3, half_width: 1.09, unit: "ms", verdict: "met", note: "" },
    { pattern: "circuit-breaker", figure: "breaker decision overhead", expectation: "< 1 ms", measured: null, half_width: null, unit: "ms", verdict: "uncertain", note: "not modelled" },
  ],
  summary: {
    clients: {
      "web->api": { calls: m(1000), bulkhead_full: m(40), fallbacks: m(40) },
      "web->db": { calls: m(500), bulkhead_full: m(0), fallbacks: m(0) },
    },
  },
  runs: [
    {
      replication: 0,
      timeseries: { time: [0, 1, 2] },
      cpu: { recommender: { cores: 1, used: 0.8, utilisation: 0.4, throttled: 0 }, cart: { cores: 0.5, used: 0.5, utilisation: 0.5, throttled: 0.2 } },
      caches: { "product-cache": { lookups: 1000, hits: 600, misses: 300, errors: 100, hit_ratio: 0.6, throughput: 100, series: { hit_ratio: [0.5, 0.6, 0.7] } } },
      sessions: {
        shoppers: {
          started: 100,
          completed: 98,
          steps: [
            { name: "browse", requests: 200, failed: 0, per_session: 2 },
            { name: "checkout", requests: 60, failed: 3, per_session: 0.6 },
          ],
        },
      },
      changes: {
        log: [
          [10, 0, "route-weights", "/shop", "old.h 50%, new.h 50%"],
          [15, 1, "replicas", "api", "replicas 2 -> 4"],
        ],
        routes: { "/shop": { targets: ["old.h", "new.h"], count: {}, share: { "old.h": [1, 1, 0.5], "new.h": [0, 0, 0.5] }, weight: {} } },
      },
      resilience: {
        rate_limits: [
          { scope: "consumer partner", replica: null, allowed: 900, rejected: 100, transitions: [] },
          { scope: "route /api", replica: 0, allowed: 50, rejected: 0, transitions: [] },
          { scope: "route /api", replica: 1, allowed: 70, rejected: 10, transitions: [] },
        ],
      },
    },
    {
      replication: 1,
      timeseries: { time: [0, 1, 2] },
      cpu: { recommender: { cores: 1, used: 0.6, utilisation: 0.3, throttled: 0 }, cart: { cores: 0.5, used: 0.4, utilisation: 0.4, throttled: 0.1 } },
      caches: { "product-cache": { lookups: 3000, hits: 1400, misses: 1600, errors: 0, hit_ratio: 0.4667, throughput: 300 } },
      sessions: {
        shoppers: {
          started: 110,
          completed: 108,
          steps: [
            { name: "browse", requests: 220, failed: 0, per_session: 2 },
            { name: "checkout", requests: 70, failed: 1, per_session: 0.7 },
          ],
        },
      },
      resilience: { rate_limits: [{ scope: "consumer partner", replica: null, allowed: 900, rejected: 300, transitions: [] }] },
    },
  ],
};

const PLAIN: Result = { brief: [], summary: { clients: {} }, runs: [{ replication: 0, timeseries: { time: [0] } }] };

describe("section readers", () => {
  it("averages CPU over replications", () => {
    const rows = cpuRows(RESULT);
    expect(rows.map((r) => r.service)).toEqual(["recommender", "cart"]);
    expect(rows[0]!.used).toBeCloseTo((0.8 + 0.6) / 2, 12);
    expect(rows[1]!.throttled).toBeCloseTo((0.2 + 0.1) / 2, 12);
  });

  it("takes the cache's hit ratio over all lookups, and store reads as misses plus failures", () => {
    const [row] = cacheRows(RESULT);
    // (600 + 1400) / (1000 + 3000) = 0.5, not the mean of 0.6 and 0.4667.
    expect(row!.hitRatio).toBeCloseTo(0.5, 12);
    expect(row!.storeReads).toBeCloseTo((300 + 100 + 1600 + 0) / 2, 12);
  });

  it("averages session steps by name", () => {
    const [s] = sessionRows(RESULT);
    expect(s!.started).toBe(105);
    expect(s!.steps[1]).toMatchObject({ name: "checkout", requests: 65, failed: 2 });
    expect(s!.steps[1]!.perSession).toBeCloseTo(0.65, 12);
  });

  it("sums rate limiters over replicas and replications", () => {
    const rows = rateLimitRows(RESULT);
    const partner = rows.find((r) => r.scope === "consumer partner")!;
    expect(partner.allowed).toBe(900);
    expect(partner.rejected).toBe(200);
    expect(partner.share).toBeCloseTo(400 / 2200, 12);
    const route = rows.find((r) => r.scope === "route /api")!;
    expect(route.allowed).toBe(60); // (50 + 70) over two replications
  });

  it("lists only clients whose bulkhead refused calls", () => {
    expect(bulkheadRows(RESULT)).toEqual([{ client: "web->api", calls: 1000, rejected: 40, fallbacks: 40 }]);
  });
});

describe("section components", () => {
  it("BriefFigures: each figure beside its expectation and verdict", () => {
    render(<BriefFigures result={RESULT} />);
    const table = screen.getByTestId("brief-figures");
    const rows = within(table).getAllByRole("row");
    expect(rows[1]!.textContent).toContain("gateway-added latency p99");
    expect(rows[1]!.textContent).toContain("4.3 ± 1.09 ms");
    expect(rows[1]!.textContent).toContain("✔ met");
    expect(rows[2]!.textContent).toContain("no data");
    expect(rows[2]!.textContent).toContain("uncertain");
  });

  it("CpuUsage: cores used and throttled share", () => {
    render(<CpuUsage result={RESULT} />);
    const cart = within(screen.getByTestId("cpu-usage")).getByText("cart").closest("tr")!;
    expect(cart.textContent).toBe("cart0.500.4545.0%15.0%");
    expect(cart.className).toBe("row-warn");
  });

  it("CacheHits: hit ratio and reads sent to the store", () => {
    render(<CacheHits result={RESULT} />);
    const row = within(screen.getByTestId("cache-hits")).getByText("product-cache").closest("tr")!;
    expect(row.textContent).toBe("product-cache2,00050.0%950501,000");
  });

  it("SessionSteps: per step requests and per-session counts", () => {
    render(<SessionSteps result={RESULT} />);
    const box = screen.getByTestId("session-steps");
    expect(box.textContent).toContain("Sessions of shoppers: 105 started, 103 completed");
    expect(within(box).getByText("checkout").closest("tr")!.textContent).toBe("checkout6520.65");
  });

  it("ConsumerLimits: per-consumer limits and bulkhead rejections", () => {
    render(<ConsumerLimits result={RESULT} />);
    const box = screen.getByTestId("consumer-limits");
    expect(within(box).getByText("consumer partner").closest("tr")!.textContent).toBe("consumer partner90020018.2%");
    expect(within(box).getByText("web->api").closest("tr")!.textContent).toBe("web->api1,0004040");
  });

  it("ScheduledChanges: the log in order and one share chart per route", () => {
    render(<ScheduledChanges result={RESULT} />);
    const box = screen.getByTestId("scheduled-changes");
    const items = within(box).getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual(["10.0s route-weights /shop: old.h 50%, new.h 50%", "15.0s replicas api: replicas 2 -> 4"]);
    expect(screen.getByTestId("chart-route-share-/shop").getAttribute("data-points")).toBe("3");
    expect(window.__scalesim?.charts["route-share-/shop"]?.series).toEqual(["old.h", "new.h"]);
  });

  it("CriticalPath: the top parts of the p50 and p99", () => {
    const paths: CriticalPaths = {
      message: "12 traces",
      entries: [
        {
          entry: "/orders",
          traces: 12,
          p50: { latency_ms: 20, traces: 2, parts: [{ hop: "order: create", cause: "work", ms: 15, share: 0.75 }, { hop: "client: /orders", cause: "network", ms: 5, share: 0.25 }] },
          p99: { latency_ms: 300, traces: 1, parts: [{ hop: "payment: charge", cause: "queue", ms: 270, share: 0.9 }] },
        },
      ],
    };
    render(<CriticalPath paths={paths} top={1} />);
    const items = within(screen.getByTestId("critical-path")).getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual(["p50 20.0 ms (2 traces): order: create work 15.0 ms (75%)", "p99 300.0 ms (1 traces): payment: charge queue 270.0 ms (90%)"]);
  });

  it("renders nothing for a run without these sections", () => {
    const { container } = render(<ResultSections result={PLAIN} traces={null} />);
    expect(container.innerHTML).toBe("");
  });
});

describe("EstimateVsMeasured", () => {
  const est = {
    architecture: "shop", scenario: null, load: 1, bottleneck: "api", saturation_load: 2, saturated: [],
    entries: { "api.get": { arrival_rate: 100, throughput: 100, error_rate: 0, response_mean: 0.01 }, "api.other": { arrival_rate: 5, throughput: 5, error_rate: 0, response_mean: 0.01 } },
    stations: { api: { kind: "service", replicas: 2, servers: 8, throughput: 100, utilisation: 0.5, wait_mean: 0 }, "db@api": { kind: "pool", replicas: 2, servers: 4, throughput: 100, utilisation: 0.1, wait_mean: 0 } },
    ignored: ["faults"],
  };
  const result: Result = { summary: { entries: { "api.get": { throughput: { mean: 98.5, ci95: 1, n: 2 } } }, services: { api: { utilisation: { mean: 0.47, ci95: 0.01, n: 2 } } } } };

  it("pairs the estimate's figures with the run's, leaving out what the run does not have", async () => {
    const { estimateRows, EstimateVsMeasured } = await import("./EstimateVsMeasured");
    expect(estimateRows(est, result)).toEqual([
      { what: "api.get", figure: "throughput", estimated: 100, measured: 98.5 },
      { what: "api", figure: "utilisation", estimated: 0.5, measured: 0.47 },
    ]);
    render(<EstimateVsMeasured estimate={est} result={result} />);
    const rows = within(screen.getByTestId("estimate-vs-measured")).getAllByRole("row").map((r) => r.textContent);
    expect(rows.slice(1)).toEqual(["api.getthroughput100.0/s98.5/s", "apiutilisation50.0%47.0%"]);
  });
});
