// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { Progress, WindowEvent } from "../api/types";
import type { Graph } from "../graph/mapping";
import { routeSchedules, withScheduledRoutes } from "../graph/routeChanges";
import { columns, edgeMetrics, measuredShares, nodeMetrics, nodesOf, progressRate, replicationWindows, withRouteShares } from "./runMetrics";

const win = (index: number, extra: Partial<WindowEvent> = {}): WindowEvent => ({
  variant: null,
  replication: 0,
  index,
  time: index,
  window: 1,
  entries: { "/orders": { count: 100, errors: 5, throughput: 100, p99: 0.2 } },
  services: { order: { throughput: 100, errors: 5, utilisation: 0.4, replicas: 2, p99: 0.05 }, "@gateway": { throughput: 100, errors: 0, utilisation: 0.1, replicas: 2 } },
  clients: { "order->payment": { calls: 50, failed: 25, breaker: 2 } },
  ...extra,
});

const graph: Graph = {
  nodes: ["gateway:gateway", "service:order", "service:payment", "database:orders-db"].map((id) => ({
    id,
    kind: id.split(":")[0] as "service",
    name: id.split(":")[1] ?? "",
    detail: "",
    group: null,
    badges: [],
  })),
  edges: [
    { id: "route:gateway:gateway->service:order", source: "gateway:gateway", target: "service:order", kind: "route", labels: [], badges: [] },
    { id: "call:service:order->service:payment", source: "service:order", target: "service:payment", kind: "call", labels: [], badges: [] },
    { id: "query:service:order->database:orders-db", source: "service:order", target: "database:orders-db", kind: "query", labels: [], badges: [] },
  ],
};

describe("run metrics", () => {
  it("keeps one replication's windows in order", () => {
    const ws = [win(2), win(0), { ...win(1), replication: 1 }, win(1), { ...win(0), variant: "a" as const }];
    expect(replicationWindows(ws).map((w) => w.index)).toEqual([0, 1, 2]);
    expect(replicationWindows(ws, 0, "a").length).toBe(1);
  });

  it("gives each service its utilisation and error share, the gateway under its node id", () => {
    const m = nodeMetrics(win(0));
    expect(m["service:order"]).toEqual({ utilisation: 0.4, errorShare: 0.05, throughput: 100, p99: 0.05, replicas: 2 });
    expect(m["gateway:gateway"]?.errorShare).toBe(0);
    expect(nodeMetrics(undefined)).toEqual({});
  });

  it("labels edges like Kiali: the client's own counts when it has a policy, else the callee's", () => {
    const e = edgeMetrics(graph, win(0));
    expect(e["call:service:order->service:payment"]).toEqual({ label: "50.0/s · 50.0% err · breaker OPEN", errorShare: 0.5 });
    expect(e["route:gateway:gateway->service:order"]?.label).toBe("100/s · p99 50ms · 5.0% err");
    expect(e["query:service:order->database:orders-db"]).toBeUndefined();
  });

  it("never labels an edge with more than 100 % errors (failures of calls started earlier)", () => {
    const w = win(0, { clients: { "order->payment": { calls: 40, failed: 44, breaker: 2 } } });
    expect(edgeMetrics(graph, w)["call:service:order->service:payment"]).toEqual({ label: "40.0/s · 100.0% err · breaker OPEN", errorShare: 1 });
  });

  it("turns windows into chart columns, gaps kept as null", () => {
    const ws = [win(0), { ...win(1), entries: { "/orders": { count: 0, errors: 0, throughput: 0, p99: null } } }];
    expect(columns(ws, "entries", "p99")).toEqual([{ label: "/orders", values: [0.2, null] }]);
  });

  it("derives the live request rate from progress events of the first replication", () => {
    const p = (time: number, requests: number, replication = 0): Progress => ({ fraction: 0, replication, replications: 2, time, end: 60, requests });
    expect(progressRate([p(0, 0), p(5, 500), p(10, 1500), p(5, 99, 1)])).toEqual({ time: [5, 10], rate: [100, 200] });
  });

  it("finds the services a timeline event names, whole names only", () => {
    const t = { variant: null, replication: 0, time: 3, kind: "cascade", text: "payment failing, then order saturated" };
    expect(nodesOf(t, graph)).toEqual(["service:order", "service:payment"]);
    expect(nodesOf({ ...t, text: "orders-db slow" }, graph)).toEqual(["database:orders-db"]);
    expect(nodesOf({ ...t, nodes: ["service:x"] }, graph)).toEqual(["service:x"]);
  });
});

describe("scheduled route shares on the run's edges", () => {
  // /orders starts on order alone; at 5s a change sends 30 % to payment (an edge only the change makes).
  const doc = {
    spec: {
      gateway: { routes: [{ path: "/orders", endpoint: "order.place" }] },
      services: { order: {}, payment: {} },
      scenarios: { move: { changes: [{ type: "route-weights", at: "5s", route: "/orders", split: [{ endpoint: "order.place", weight: 70 }, { endpoint: "payment.pay", weight: 30 }] }] } },
    },
  };
  const schedules = routeSchedules(doc, "move");
  const g = withScheduledRoutes(graph, doc, schedules);
  const PAY = "route:gateway:gateway->service:payment";
  const ORDER = "route:gateway:gateway->service:order";

  it("is idle (dashed) with the time it starts before the change, then carries its weight", () => {
    const before = withRouteShares(edgeMetrics(g, win(0)), g, schedules, win(0), null);
    expect(before[PAY]).toEqual({ label: "0% of /orders · from 5s", farLabel: "0% of /orders · from 5s", errorShare: null, idle: true });
    expect(before[ORDER]?.label).toBe("100% of /orders · 100/s · p99 50ms · 5.0% err");
    expect(before[ORDER]?.idle).toBe(false);
    const after = withRouteShares(edgeMetrics(g, win(6)), g, schedules, win(6), null);
    expect(after[PAY]?.idle).toBe(false);
    expect(after[PAY]?.farLabel).toBe("30% of /orders");
  });

  it("takes the share the window measured, or the result's column for the window", () => {
    const live = win(6, { routes: { "/orders": { "order.place": 0.68, "payment.pay": 0.32 } } });
    expect(withRouteShares({}, g, schedules, live, null)[PAY]?.farLabel).toBe("32% of /orders");
    const result = { runs: [{ changes: { routes: { "/orders": { targets: ["order.place", "payment.pay"], share: { "order.place": [1, 0.75], "payment.pay": [0, 0.25] } } } } }] };
    const measured = measuredShares(result);
    expect(withRouteShares({}, g, schedules, win(1, { time: 6 }), measured)[PAY]?.farLabel).toBe("25% of /orders");
    expect(withRouteShares({}, g, schedules, win(0, { time: 0 }), measured)[PAY]?.idle).toBe(true);
    expect(measuredShares({ runs: [{}] })).toBeNull();
  });
});
