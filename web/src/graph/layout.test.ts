// @vitest-environment node
import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { elkGraph, NODE_HEIGHT, NODE_WIDTH, placeNewNodes } from "./layout";
import type { Graph } from "./mapping";

const node = (id: string) => ({ id, kind: "service" as const, name: id, detail: "", group: null, badges: [] });
const edge = (s: string, t: string) => ({ id: `call:${s}->${t}`, source: s, target: t, kind: "call" as const, labels: [], badges: [] });

describe("layout", () => {
  const g: Graph = { nodes: [node("service:a"), node("service:b"), node("service:c")], edges: [edge("service:a", "service:b"), edge("service:b", "service:c")] };

  it("ELK lays a chain out left to right without overlaps", async () => {
    const out = await new ELK().layout(elkGraph(g));
    const xs = Object.fromEntries((out.children ?? []).map((c) => [c.id, c.x ?? 0]));
    expect(xs["service:a"]).toBeLessThan(xs["service:b"] ?? 0);
    expect(xs["service:b"]).toBeLessThan(xs["service:c"] ?? 0);
    expect((xs["service:b"] ?? 0) - (xs["service:a"] ?? 0)).toBeGreaterThanOrEqual(NODE_WIDTH);
  });

  it("adding a node places only that node, beside its neighbour", () => {
    const kept = { "service:a": { x: 0, y: 0 }, "service:b": { x: 300, y: 50 } };
    const out = placeNewNodes(g, kept);
    expect(out["service:a"]).toEqual(kept["service:a"]);
    expect(out["service:b"]).toEqual(kept["service:b"]);
    expect(out["service:c"]?.x).toBeGreaterThan(300);
    expect(out["service:c"]?.y).toBe(50);
  });

  it("does not stack a new node on a kept one", () => {
    const two: Graph = { nodes: [...g.nodes, node("service:d")], edges: [...g.edges, edge("service:b", "service:d")] };
    const out = placeNewNodes(two, { "service:a": { x: 0, y: 0 }, "service:b": { x: 300, y: 0 } });
    const c = out["service:c"];
    const d = out["service:d"];
    expect(c && d && (Math.abs(c.x - d.x) >= NODE_WIDTH || Math.abs(c.y - d.y) >= NODE_HEIGHT)).toBe(true);
  });
});
