/**
 * The boxes the canvas's nodes cover (flow coordinates, measured sizes), for the edges to keep
 * their labels off them. The canvas owns them; edges read them from this context.
 */
import { createContext } from "react";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout";
import type { Rect, Size } from "./labelPlacement";

export const NodeBoxes = createContext<readonly Rect[]>([]);

/** Each node's box: where it stands, as large as it was measured (else the layout's size). */
export function nodeBoxes(nodes: readonly { id: string; position: { x: number; y: number } }[], sizes: Readonly<Record<string, Size>>): Rect[] {
  return nodes.map(({ id, position }) => {
    const s = sizes[id];
    return { x: position.x, y: position.y, width: s?.width ?? NODE_WIDTH, height: s?.height ?? NODE_HEIGHT };
  });
}
