// @vitest-environment node
// Edge labels keep off the nodes. The strangler-fig run graph is the case that showed they did
// not: the layout leaves 160 px between layers, room for a label of at most 128 px at the middle
// of its edge, but the far view scales the labels that matter (a scheduled route's share) up to
// 3.2×, and the gateway → catalog route that a scheduled change opens skips the layer of the
// legacy database: the middle of its curve, where the label went, is 16 px from legacy-db, and
// the far view's label, about 230 px wide, covered it.
import { Position, getBezierPath } from "@xyflow/react";
import ELK from "elkjs/lib/elk.bundled.js";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bezierCurve, labelBox, placeLabel, pointAt, type Point, type Rect, type Size } from "./labelPlacement";
import { elkGraph, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import { architectureGraph, type Graph } from "./mapping";
import { routeSchedules, withScheduledRoutes } from "./routeChanges";

const template = readFileSync(resolve(process.cwd(), "../src/scalesim_patterns/catalog/templates/strangler-fig.yaml"), "utf8");

/** The e2e test's run graph: /shop on the monolith, moved to the catalog by a scenario. */
function stranglerRunGraph(): Graph {
  const doc = parse(template) as { spec: { gateway: { routes: Record<string, unknown>[] }; scenarios: Record<string, unknown> } };
  doc.spec.gateway.routes[0] = { path: "/shop", endpoint: "monolith.handle" };
  doc.spec.scenarios["extract"] = {
    changes: [
      { type: "route-weights", at: "10s", route: "/shop", split: [{ endpoint: "monolith.handle", weight: 60 }, { endpoint: "catalog.handle", weight: 40 }] },
      { type: "route-weights", at: "20s", route: "/shop", split: [{ endpoint: "catalog.handle", weight: 100 }] },
    ],
  };
  return withScheduledRoutes(architectureGraph(doc), doc, routeSchedules(doc, "extract"));
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Nodes laid out by ELK as the canvas does, each as a box of the layout's size. */
async function laidOut(g: Graph): Promise<Map<string, Rect>> {
  const out = await new ELK().layout(elkGraph(g));
  return new Map((out.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0, width: NODE_WIDTH, height: NODE_HEIGHT }]));
}

/** The curve React Flow draws for an edge: right side of the source to left side of the target. */
function curveOf(source: Rect, target: Rect) {
  const s: Point = { x: source.x + source.width, y: source.y + source.height / 2 };
  const t: Point = { x: target.x, y: target.y + target.height / 2 };
  return bezierCurve(s, Position.Right, t, Position.Left);
}

// A run label ("97.2/s · 0.1% err"), two lines at most 128 px; a far-view share scaled up ~2.9×.
const NEAR: Size = { width: 128, height: 32 };
const FAR: Size = { width: 230, height: 42 };
const SIZES = [NEAR, FAR];
const CATALOG = "route:gateway:gateway->service:catalog";

describe("edge label placement", () => {
  it("follows React Flow's curve: its middle is getBezierPath's label point", () => {
    const args = { sourceX: 10, sourceY: 20, sourcePosition: Position.Right, targetX: 400, targetY: -60, targetPosition: Position.Left };
    const [, x, y] = getBezierPath(args);
    const mid = pointAt(bezierCurve({ x: 10, y: 20 }, Position.Right, { x: 400, y: -60 }, Position.Left), 0.5);
    expect(mid.x).toBeCloseTo(x, 9);
    expect(mid.y).toBeCloseTo(y, 9);
    const back = { ...args, targetX: -300 };
    const [, bx, by] = getBezierPath(back);
    const bmid = pointAt(bezierCurve({ x: 10, y: 20 }, Position.Right, { x: -300, y: -60 }, Position.Left), 0.5);
    expect([bmid.x, bmid.y]).toEqual([bx, by]);
  });

  it("keeps the middle of the curve when it is free", () => {
    const curve = bezierCurve({ x: 0, y: 0 }, Position.Right, { x: 300, y: 0 }, Position.Left);
    expect(placeLabel(curve, { width: 100, height: 20 }, [{ x: -176, y: -32, width: 176, height: 64 }])).toEqual(pointAt(curve, 0.5));
  });

  it("moves a label off a node in a layer the edge skips, staying on the curve when it can", () => {
    const curve = bezierCurve({ x: 0, y: 0 }, Position.Right, { x: 700, y: 0 }, Position.Left);
    const skipped = { x: 262, y: -32, width: 176, height: 64 };
    const size = { width: 100, height: 20 };
    expect(overlaps(labelBox(pointAt(curve, 0.5), size), skipped)).toBe(true);
    const at = placeLabel(curve, size, [skipped]);
    expect(overlaps(labelBox(at, size, 5), skipped)).toBe(false);
    expect(at.y).toBe(0); // a straight edge: still on it, beside the node
  });

  it("puts no label of the strangler-fig run graph on a node, near or far", async () => {
    const g = stranglerRunGraph();
    const boxes = await laidOut(g);
    const nodes = [...boxes.values()];
    const on = (p: Point, size: Size) => [...boxes].filter(([, b]) => overlaps(labelBox(p, size), b)).map(([id]) => id);
    // Why the old place failed: a far-view label at the scheduled route's middle is on the
    // database the route skips (a near-view one just fits between the layers).
    expect(g.edges.some((e) => e.id === CATALOG)).toBe(true);
    const skipCurve = curveOf(boxes.get("gateway:gateway") as Rect, boxes.get("service:catalog") as Rect);
    expect(on(pointAt(skipCurve, 0.5), FAR)).toContain("database:legacy-db");
    expect(on(pointAt(skipCurve, 0.5), NEAR)).toEqual([]);
    for (const size of SIZES) {
      for (const e of g.edges) {
        const s = boxes.get(e.source);
        const t = boxes.get(e.target);
        if (!s || !t || e.source === e.target) continue;
        const at = placeLabel(curveOf(s, t), size, nodes);
        expect({ edge: e.id, size, on: on(at, size) }).toEqual({ edge: e.id, size, on: [] });
      }
    }
  });
});
