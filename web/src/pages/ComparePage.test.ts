import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { architectureGraph } from "../graph/mapping";
import { unionGraph } from "./ComparePage";

const doc = (workers: number, extra = "") =>
  parse(`spec:
  services:
    web: {workers: ${workers}, endpoints: {home: {steps: [{call: api.get}]}}}
    api: {endpoints: {get: {}}}${extra}
  traffic:
    users: {type: open, arrival: {rate: 5/s}, mix: [{endpoint: web.home}]}
`);

describe("unionGraph", () => {
  it("marks what changed, what B added and what only A has", () => {
    const a = architectureGraph(doc(8, "\n    old: {endpoints: {x: {}}}"));
    const b = architectureGraph(doc(4, "\n    new: {endpoints: {y: {}}}"));
    const { graph, changed } = unionGraph(a, b);
    expect(changed).toEqual({ "service:web": "changed", "service:new": "added", "service:old": "removed" });
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(["client:users", "service:api", "service:new", "service:old", "service:web"]);
    expect(graph.edges.length).toBe(2);
  });

  it("finds nothing to mark between a design and itself", () => {
    const a = architectureGraph(doc(8));
    expect(unionGraph(a, a).changed).toEqual({});
  });
});
