// The far view's names: 13 px on screen while the rows leave room, then as tall as a row allows
// (a 100-service graph fitted whole, zoom about 0.1, drew them 4.5 px tall: capped at 3.2×),
// never taller than a row, never wider than their node and most of the gap after it.
import { describe, expect, it } from "vitest";
import { CHAR_WIDTH_EM, DESCENT_EM, FAR_LABEL_MAX_SCALE, FAR_NAME_ROOM, FAR_NODE_CHROME, FAR_VIEW_ZOOM, TEXT_EM, farNamePx, farViewSizes } from "./farView";
import { LAYER_SPACING, NODE_HEIGHT, NODE_SPACING, NODE_WIDTH } from "./layout";

const ROW = NODE_HEIGHT + NODE_SPACING;

describe("far view sizes", () => {
  it("is off from FAR_VIEW_ZOOM up, with the near sizes", () => {
    expect(farViewSizes(FAR_VIEW_ZOOM)).toMatchObject({ far: false, namePx: 13, labelScale: 1 });
    expect(farViewSizes(1.2).far).toBe(false);
  });

  it("keeps a name 13 px on screen while its row and length leave room", () => {
    for (const zoom of [0.55, 0.4, 0.3, 0.2, 0.15]) {
      const s = farViewSizes(zoom);
      expect(s.far).toBe(true);
      expect(farNamePx(s, 4) * zoom).toBeCloseTo(13, 9);
      if (zoom >= 0.3) expect(farNamePx(s, 8) * zoom).toBeCloseTo(13, 9);
    }
  });

  it("draws the names of a 100-service graph fitted whole at 9 px (4.2 px before)", () => {
    const zoom = 0.1015; // the e2e fit of 121 nodes at 1280×800
    const s = farViewSizes(zoom);
    expect(farNamePx(s, 4) * zoom).toBeGreaterThanOrEqual(9); // s062
    expect(farNamePx(s, 5) * zoom).toBeGreaterThanOrEqual(8.5); // db030
  });

  it("never makes a node taller than its row, nor its bar cover its name, however far out", () => {
    for (const zoom of [0.5, 0.3, 0.1, 0.05, 0.01]) {
      const s = farViewSizes(zoom);
      expect(s.namePx + FAR_NODE_CHROME).toBeLessThan(ROW);
      expect(s.namePx * TEXT_EM).toBeLessThan(ROW); // the text of two names of a column apart
      // the bar lies along the node's foot: under the name's line, or within its descent
      expect(s.barPx).toBeLessThanOrEqual(Math.max(NODE_HEIGHT - FAR_NODE_CHROME - s.namePx, s.namePx * DESCENT_EM) + 1e-9);
      expect(s.barPx).toBeGreaterThan(0);
    }
  });

  it("caps a long name so it ends before the next layer", () => {
    const s = farViewSizes(0.1);
    for (const chars of [4, 8, 16, 30]) {
      expect(farNamePx(s, chars) * chars * CHAR_WIDTH_EM).toBeLessThanOrEqual(FAR_NAME_ROOM + 1e-9);
    }
    expect(FAR_NAME_ROOM).toBeLessThan(NODE_WIDTH + LAYER_SPACING);
  });

  it("scales the edge labels it keeps at most 3.2×", () => {
    expect(farViewSizes(0.1).labelScale).toBe(FAR_LABEL_MAX_SCALE);
    expect(farViewSizes(0.5).labelScale).toBeCloseTo(2, 12);
  });
});
