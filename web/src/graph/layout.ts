/**
 * Positions for the canvas. A first open gets a layered ELK layout (in a worker); after that the
 * user's positions are kept and only nodes that have none are placed, next to a neighbour, so
 * adding a node never moves the others.
 */
import type { ElkNode } from "elkjs/lib/elk-api";
import type { Graph } from "./mapping";

export type Positions = Record<string, { x: number; y: number }>;

export interface LayoutRequest {
  id: number;
  graph: ElkNode;
}
export interface LayoutResponse {
  id: number;
  positions: Positions;
  ms: number;
  error?: string;
}

export const NODE_WIDTH = 176;
export const NODE_HEIGHT = 64;
/** Between two nodes of a layer, and between two layers (ELK's spacing, flow px). */
export const NODE_SPACING = 44;
export const LAYER_SPACING = 160;

export function elkGraph(g: Graph): ElkNode {
  const ids = new Set(g.nodes.map((n) => n.id));
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": String(LAYER_SPACING),
      "elk.spacing.nodeNode": String(NODE_SPACING),
      "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.edgeRouting": "POLYLINE",
    },
    children: g.nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: g.edges
      .filter((e) => e.source !== e.target && ids.has(e.source) && ids.has(e.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, (r: LayoutResponse) => void>();

/** An automatic layout of the whole graph, computed by ELK in a web worker. */
export function autoLayout(g: Graph): Promise<LayoutResponse> {
  if (worker === null) {
    worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent<LayoutResponse>) => {
      pending.get(ev.data.id)?.(ev.data);
      pending.delete(ev.data.id);
    };
  }
  const id = nextId++;
  const w = worker;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    w.postMessage({ id, graph: elkGraph(g) } satisfies LayoutRequest);
  });
}

/**
 * The kept positions plus a place for every node that has none: right of (or below) a placed
 * neighbour when it has one, else below everything. Placed nodes never move.
 */
export function placeNewNodes(g: Graph, kept: Positions): Positions {
  const out: Positions = {};
  for (const n of g.nodes) {
    const p = kept[n.id];
    if (p) out[n.id] = { ...p };
  }
  const taken = (x: number, y: number) =>
    Object.values(out).some((p) => Math.abs(p.x - x) < NODE_WIDTH && Math.abs(p.y - y) < NODE_HEIGHT);
  let bottom = Math.max(0, ...Object.values(out).map((p) => p.y + NODE_HEIGHT + 40));
  for (const n of g.nodes) {
    if (out[n.id]) continue;
    const edge = g.edges.find((e) => (e.target === n.id && out[e.source]) || (e.source === n.id && out[e.target]));
    let x = 0;
    let y = bottom;
    if (edge) {
      const incoming = edge.target === n.id;
      const anchor = out[incoming ? edge.source : edge.target];
      if (anchor) {
        x = anchor.x + (incoming ? NODE_WIDTH + 90 : -(NODE_WIDTH + 90));
        y = anchor.y;
        while (taken(x, y)) y += NODE_HEIGHT + 30;
      }
    } else {
      bottom += NODE_HEIGHT + 40;
    }
    out[n.id] = { x, y };
  }
  return out;
}

/** True when at least one node of the graph has a kept position. */
export function hasLayout(g: Graph, kept: Positions): boolean {
  return g.nodes.some((n) => kept[n.id] !== undefined);
}
