// @vitest-environment node
import { describe, expect, it } from "vitest";
import { readDocument } from "../yaml/sync";
import { addFaultScenario, addNode, connect, freshName, removeNode } from "./edits";
import { architectureGraph, type GraphNode } from "./mapping";

const TEXT = `apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata: {name: t}
spec:
  services:
    web:
      endpoints:
        home:
          work: {type: constant, value: 1ms}
    api:
      endpoints:
        get:
          work: {type: constant, value: 1ms}
  traffic:
    users: {type: open, arrival: {process: poisson, rate: 10/s}, mix: [{endpoint: web.home}]}
`;

const node = (text: string, id: string): GraphNode => {
  const n = architectureGraph(readDocument(text).value).nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
};

describe("graph edits", () => {
  it("names new nodes without clashes", () => {
    expect(freshName("service", ["service", "service-2"])).toBe("service-3");
  });

  it("adds a node that appears in the graph and keeps the others", () => {
    const { text, id } = addNode(TEXT, "database");
    const g = architectureGraph(readDocument(text).value);
    expect(id).toBe("database:db");
    expect(g.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(["service:web", "service:api", "database:db"]));
  });

  it("connecting two services adds a call step, drawn as a call edge", () => {
    const r = connect(TEXT, node(TEXT, "service:web"), node(TEXT, "service:api"));
    expect("text" in r).toBe(true);
    if (!("text" in r)) return;
    expect(r.text).toContain("call: api.get");
    const g = architectureGraph(readDocument(r.text).value);
    expect(g.edges.find((e) => e.id === "call:service:web->service:api")?.labels).toEqual(["home → get"]);
  });

  it("connects a service to a new topic and the topic to a consumer", () => {
    const { text, id } = addNode(TEXT, "topic");
    const pub = connect(text, node(text, "service:web"), node(text, id));
    if (!("text" in pub)) throw new Error(pub.error);
    const sub = connect(pub.text, node(pub.text, id), node(pub.text, "service:api"));
    if (!("text" in sub)) throw new Error(sub.error);
    const kinds = architectureGraph(readDocument(sub.text).value).edges.map((e) => e.kind).sort();
    expect(kinds).toEqual(["consume", "publish", "request"]);
  });

  it("refuses an edge the model has no step for, in words", () => {
    const { text } = addNode(TEXT, "database");
    expect(connect(text, node(text, "database:db"), node(text, "service:web"))).toEqual({ error: "a database cannot be connected to a service" });
  });

  it("removes a node", () => {
    const out = removeNode(TEXT, node(TEXT, "service:api"));
    expect(architectureGraph(readDocument(out).value).nodes.map((n) => n.id)).toEqual(["client:users", "service:web"]);
  });

  it("adds a fault scenario for a node", () => {
    const { text, scenario } = addFaultScenario(TEXT, "api", "crash");
    expect(scenario).toBe("crash-api");
    const again = addFaultScenario(text, "api", "crash");
    expect(again.scenario).toBe("crash-api-2");
    const doc = readDocument(text).value as { spec: { scenarios: Record<string, { faults: unknown[] }> } };
    expect(doc.spec.scenarios["crash-api"]?.faults).toEqual([{ type: "crash", target: "api", at: "20s", duration: "40s" }]);
  });
});
