/**
 * The far view's sizes: zoomed out below FAR_VIEW_ZOOM (a deep graph fitted whole), nodes keep
 * only their name and their load, and names are drawn as large on screen as they can be without
 * covering a neighbour: 13 px while the layout's rows allow it, then as tall as a row (a node and
 * the gap below it, less a visible gap), and never wider than a node and most of the gap to the
 * next layer. A 100-service graph fitted whole (zoom about 0.1) has rows 11 px apart on screen:
 * its names are 9 px there, their text 10.6 px high (they were capped at 3.2× the near size:
 * 4.2 px, their text 4.9 px high).
 */
import { NODE_HEIGHT, NODE_SPACING, NODE_WIDTH, LAYER_SPACING } from "./layout";

/** Below this zoom a node's figures and most edge labels are too small to read (far view). */
export const FAR_VIEW_ZOOM = 0.6;
/** A name's size on screen in the far view while rows leave room (px). */
export const FAR_NAME_SCREEN_PX = 13;
/** A far-view node's border and padding, top and bottom together (flow px, styles.css). */
export const FAR_NODE_CHROME = 6;
/** What stays between the names of two far-view nodes of a column (flow px). */
export const FAR_ROW_GAP = 4;
/**
 * The height a line of text covers, in font sizes: its ascent and descent (DejaVu Sans, the
 * page's sans-serif, 0.93 + 0.24), centred on the line box of height 1 (styles.css).
 */
export const TEXT_EM = 1.17;
/** The widest a name may run: its node and most of the gap to the next layer (flow px). */
export const FAR_NAME_ROOM = NODE_WIDTH + LAYER_SPACING - 40;
/**
 * How far a far-view name may run past the right side of its node (flow px): the room beyond the
 * node, and a margin for names whose letters are wider than the average `CHAR_WIDTH_EM`.
 */
export const FAR_NAME_OVERHANG = FAR_NAME_ROOM - NODE_WIDTH + 24;
/** Width of a name's average character, in font sizes (bold sans, digits and lower case). */
export const CHAR_WIDTH_EM = 0.68;
/** The part of a name's line below its letters (digits and lower case), in font sizes. */
export const DESCENT_EM = 0.17;
/** Edge labels kept in the far view grow at most this much (a failing edge, a route's share). */
export const FAR_LABEL_MAX_SCALE = 3.2;

export interface FarViewSizes {
  far: boolean;
  /** A name's font size in flow px, before the width cap of its own length. */
  namePx: number;
  /** Divided by a name's length, its width cap as a font size (flow px). */
  nameRoomPx: number;
  /** Height of the load bar along the node's foot (flow px): below the name, or in its descent. */
  barPx: number;
  /** Scale of the edge labels kept. */
  labelScale: number;
}

/** The far view's sizes at a zoom (React Flow's transform scale). */
export function farViewSizes(zoom: number): FarViewSizes {
  const far = zoom < FAR_VIEW_ZOOM;
  // Two names of a column are a row apart (node and gap): the text of each fits in it.
  const row = (NODE_HEIGHT + NODE_SPACING - FAR_ROW_GAP) / TEXT_EM;
  const namePx = far ? Math.min(FAR_NAME_SCREEN_PX / zoom, row) : FAR_NAME_SCREEN_PX;
  const belowName = Math.max(NODE_HEIGHT - FAR_NODE_CHROME - namePx, namePx * DESCENT_EM);
  return {
    far,
    namePx,
    nameRoomPx: FAR_NAME_ROOM / CHAR_WIDTH_EM,
    barPx: far ? Math.min(6 / zoom, belowName) : 6,
    labelScale: far ? Math.min(1 / zoom, FAR_LABEL_MAX_SCALE) : 1,
  };
}

/** A name's far-view font size (flow px): as `farViewSizes` gives, capped by its length. */
export function farNamePx(s: FarViewSizes, chars: number): number {
  return Math.min(s.namePx, s.nameRoomPx / Math.max(1, chars));
}
