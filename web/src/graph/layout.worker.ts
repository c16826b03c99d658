// ELK runs here, off the main thread, and only once the page first needs a layout: the worker
// (and the 1.5 MB of ELK in it) is its own chunk, fetched on demand.
import ELK from "elkjs/lib/elk.bundled.js";
import type { LayoutRequest, LayoutResponse } from "./layout";

const elk = new ELK();

self.onmessage = async (ev: MessageEvent<LayoutRequest>) => {
  const { id, graph } = ev.data;
  const started = performance.now();
  try {
    const out = await elk.layout(graph);
    const positions: Record<string, { x: number; y: number }> = {};
    for (const c of out.children ?? []) positions[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
    const res: LayoutResponse = { id, positions, ms: performance.now() - started };
    self.postMessage(res);
  } catch (e) {
    const res: LayoutResponse = { id, positions: {}, ms: 0, error: String(e) };
    self.postMessage(res);
  }
};
