// @vitest-environment node
// The browser's graph mapping must draw what the server's `topology()` computes for every
// template: the same nodes and the same (source, target, kind) edges with the same labels. The
// expected side comes from the Python package itself, so the two cannot drift apart silently.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { architectureGraph, nodeOfPath, nodePath } from "./mapping";

const root = `${resolve(process.cwd(), "..")}/`;
const templatesDir = `${root}src/scalesim_patterns/catalog/templates/`;
const python = process.env.SCALESIM_PYTHON ?? `${root}.venv/bin/python`;

interface ServerTopology {
  nodes: { id: string; kind: string }[];
  edges: { source: string; target: string; kind: string; label: string; probability: number; repeat: number }[];
}

const names = readdirSync(templatesDir)
  .filter((f) => f.endsWith(".yaml") && f !== "index.yaml")
  .map((f) => f.replace(/\.yaml$/, ""));

const serverTopologies: Record<string, ServerTopology> = JSON.parse(
  execFileSync(
    python,
    [
      "-c",
      `import json, sys
from dataclasses import asdict
from scalesim_patterns.model.loader import load
from scalesim_patterns.catalog.topology import topology
out = {}
for name in sys.argv[1:]:
    arch = load(${JSON.stringify(templatesDir)} + name + ".yaml")
    out[name] = asdict(topology(arch))
print(json.dumps(out))`,
      ...names,
    ],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  ),
);

function serverLabel(e: ServerTopology["edges"][number]): string {
  const extra: string[] = [];
  if (e.probability < 1) extra.push(`p=${e.probability}`);
  if (e.repeat > 1) extra.push(`×${e.repeat}`);
  return e.label + (extra.length ? ` (${extra.join(", ")})` : "");
}

describe("architectureGraph", () => {
  it("covers every template", () => {
    expect(names.length).toBeGreaterThanOrEqual(17);
  });

  for (const name of names) {
    it(`matches the server topology of template ${name}`, () => {
      const doc: unknown = parse(readFileSync(`${templatesDir}${name}.yaml`, "utf8"));
      const graph = architectureGraph(doc);
      const expected = serverTopologies[name];
      expect(expected).toBeDefined();
      if (!expected) return;
      expect(graph.nodes.map((n) => `${n.id}/${n.kind}`).sort()).toEqual(
        expected.nodes.map((n) => `${n.id}/${n.kind}`).sort(),
      );
      const want = new Map<string, Set<string>>();
      for (const e of expected.edges) {
        const key = `${e.kind}:${e.source}->${e.target}`;
        const labels = want.get(key) ?? new Set<string>();
        if (e.label) labels.add(serverLabel(e));
        want.set(key, labels);
      }
      expect(graph.edges.map((e) => e.id).sort()).toEqual([...want.keys()].sort());
      for (const e of graph.edges) expect(new Set(e.labels)).toEqual(want.get(e.id));
    });
  }

  it("shows patterns as badges: breaker on the edge, canary and hpa on the node", () => {
    const doc: unknown = parse(readFileSync(`${templatesDir}ecommerce.yaml`, "utf8"));
    const graph = architectureGraph(doc);
    const order = graph.nodes.find((n) => n.id === "service:order");
    expect(order?.badges).toContain("canary");
    expect(order?.badges).toContain("saga");
    expect(graph.nodes.find((n) => n.id === "service:product")?.badges).toContain("hpa");
    const toPayment = graph.edges.filter((e) => e.source === "service:order" && e.target === "service:payment");
    expect(toPayment.some((e) => e.badges.includes("breaker"))).toBe(true);
  });

  it("skips what it cannot read instead of throwing", () => {
    expect(architectureGraph(null)).toEqual({ nodes: [], edges: [] });
    const g = architectureGraph({ spec: { services: { a: { endpoints: { x: { steps: [{ call: "ghost.y" }, 3] } } } } } });
    expect(g.nodes.map((n) => n.id)).toEqual(["service:a"]);
    expect(g.edges).toEqual([]);
  });

  it("maps nodes to document paths and back", () => {
    const topic = { kind: "topic" as const, name: "orders", group: "events" };
    expect(nodePath(topic)).toEqual(["spec", "brokers", "events", "topics", "orders"]);
    expect(nodeOfPath(nodePath(topic))).toBe("topic:orders");
    expect(nodeOfPath(["spec", "services", "order", "endpoints", "place", "steps", 0, "call"])).toBe("service:order");
    expect(nodeOfPath(["metadata", "name"])).toBeNull();
  });
});
