// @vitest-environment node
// A scenario's scheduled route changes on the run's graph: the strangler-fig template with /shop
// on the monolith alone and a scenario that moves it to the catalog must draw the
// gateway → catalog edge (which the file alone does not have) and give each window its share.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { architectureGraph } from "./mapping";
import { routeSchedules, routeShares, seconds, weightsAt, withScheduledRoutes } from "./routeChanges";

const template = readFileSync(resolve(process.cwd(), "../src/scalesim_patterns/catalog/templates/strangler-fig.yaml"), "utf8");

/** The template with /shop on the monolith only, and a two-step extraction scenario. */
function strangler(): unknown {
  const doc = parse(template) as { spec: { gateway: { routes: Record<string, unknown>[] }; scenarios: Record<string, unknown> } };
  doc.spec.gateway.routes[0] = { path: "/shop", endpoint: "monolith.handle" };
  doc.spec.scenarios["extract"] = {
    changes: [
      { type: "route-weights", at: "10s", route: "/shop", split: [{ endpoint: "monolith.handle", weight: 60 }, { endpoint: "catalog.handle", weight: 40 }] },
      { type: "replicas", at: "15s", service: "catalog", replicas: 4 },
      { type: "route-weights", at: "1m", route: "/shop", split: [{ endpoint: "catalog.handle", weight: 100 }] },
    ],
  };
  return doc;
}

const CATALOG = "route:gateway:gateway->service:catalog";
const MONOLITH = "route:gateway:gateway->service:monolith";

describe("scheduled route changes", () => {
  it("adds the edge to a target only a change gives the route, marked scheduled", () => {
    const doc = strangler();
    const base = architectureGraph(doc);
    expect(base.edges.find((e) => e.id === CATALOG)).toBeUndefined();
    const schedules = routeSchedules(doc, "extract");
    const g = withScheduledRoutes(base, doc, schedules);
    const added = g.edges.find((e) => e.id === CATALOG);
    expect(added).toMatchObject({ source: "gateway:gateway", target: "service:catalog", kind: "route", scheduled: true, labels: ["/shop → handle (scheduled)"] });
    // The monolith keeps /admin, which no change touches: never idle, never marked.
    expect(g.edges.find((e) => e.id === MONOLITH)?.scheduled).toBe(false);
    expect(g.edges.length).toBe(base.edges.length + 1);
    // Without the scenario nothing changes.
    expect(withScheduledRoutes(base, doc, routeSchedules(doc, null))).toBe(base);
    expect(routeSchedules(doc, "catalog-bug")).toEqual([]);
  });

  it("reads the schedule of a route in time order", () => {
    const [s] = routeSchedules(strangler(), "extract");
    expect(s).toEqual({
      key: "/shop",
      path: "/shop",
      base: { "monolith.handle": 100 },
      steps: [
        { at: 10, weights: { "monolith.handle": 60, "catalog.handle": 40 } },
        { at: 60, weights: { "catalog.handle": 100 } },
      ],
    });
    if (!s) throw new Error("no schedule");
    expect(weightsAt(s, 9.999)).toEqual({ "monolith.handle": 100 });
    expect(weightsAt(s, 10)).toEqual({ "monolith.handle": 60, "catalog.handle": 40 });
    expect(weightsAt(s, 75)).toEqual({ "catalog.handle": 100 });
    expect([seconds("250ms"), seconds("2m"), seconds(7), seconds("1h")]).toEqual([0.25, 120, 7, 3600]);
  });

  it("gives each window the schedule's weight, or the run's measured share when it has one", () => {
    const schedules = routeSchedules(strangler(), "extract");
    const before = routeShares(schedules, 0, null);
    expect(before[CATALOG]).toEqual({ text: "0% of /shop · from 10s", share: 0 });
    expect(before[MONOLITH]).toEqual({ text: "100% of /shop", share: 1 });
    const middle = routeShares(schedules, 30, null);
    expect(middle[CATALOG]).toEqual({ text: "40% of /shop", share: 0.4 });
    expect(middle[MONOLITH]?.text).toBe("60% of /shop");
    // Measured shares (the window's `routes`) win over the schedule; a window without requests
    // on the route (null) carried nothing.
    const m = routeShares(schedules, 30, { "/shop": { "catalog.handle": 0.372, "monolith.handle": 0.628 } });
    expect(m[CATALOG]).toEqual({ text: "37% of /shop", share: 0.372 });
    expect(m[MONOLITH]?.share).toBeCloseTo(0.628, 12);
    expect(routeShares(schedules, 30, { "/shop": { "catalog.handle": null, "monolith.handle": null } })[CATALOG]?.share).toBe(0);
    expect(routeShares(schedules, 70, null)[MONOLITH]).toEqual({ text: "0% of /shop", share: 0 });
  });
});
