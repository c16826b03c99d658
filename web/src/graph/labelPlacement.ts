/**
 * Where an edge's label goes: on its curve, off every node. The middle of the curve is in the gap
 * between two layers only when the edge joins neighbouring layers; an edge that skips a layer (a
 * route a scheduled change opens from the gateway past the monolith's layer) has its middle in
 * the skipped layer, on whatever node stands there, and a far-view label (scaled up to be read
 * when zoomed out) is wider than the gap itself. So the label goes to the free spot nearest the
 * middle: along the curve first, then beside it, and on the middle only when nothing is free.
 */
import { Position } from "@xyflow/react";

export interface Point {
  x: number;
  y: number;
}
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface Size {
  width: number;
  height: number;
}

/** A cubic Bézier as React Flow draws an edge (its `getBezierPath`, default curvature). */
export interface Curve {
  source: Point;
  sourceControl: Point;
  targetControl: Point;
  target: Point;
}

function controlOffset(distance: number, curvature: number): number {
  return distance >= 0 ? 0.5 * distance : curvature * 25 * Math.sqrt(-distance);
}

function control(pos: Position, p: Point, other: Point, c: number): Point {
  switch (pos) {
    case Position.Left:
      return { x: p.x - controlOffset(p.x - other.x, c), y: p.y };
    case Position.Right:
      return { x: p.x + controlOffset(other.x - p.x, c), y: p.y };
    case Position.Top:
      return { x: p.x, y: p.y - controlOffset(p.y - other.y, c) };
    case Position.Bottom:
      return { x: p.x, y: p.y + controlOffset(other.y - p.y, c) };
  }
}

/** The curve of an edge between two handles, the same as React Flow's bezier edge. */
export function bezierCurve(source: Point, sourcePosition: Position, target: Point, targetPosition: Position, curvature = 0.25): Curve {
  return { source, sourceControl: control(sourcePosition, source, target, curvature), targetControl: control(targetPosition, target, source, curvature), target };
}

/** The point of the curve at t (0 at the source, 1 at the target). */
export function pointAt(c: Curve, t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return {
    x: a * c.source.x + b * c.sourceControl.x + d * c.targetControl.x + e * c.target.x,
    y: a * c.source.y + b * c.sourceControl.y + d * c.targetControl.y + e * c.target.y,
  };
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The box of a label of `size` centred on `p`, grown by `margin` on every side. */
export function labelBox(p: Point, size: Size, margin = 0): Rect {
  return { x: p.x - size.width / 2 - margin, y: p.y - size.height / 2 - margin, width: size.width + 2 * margin, height: size.height + 2 * margin };
}

/** Steps along the curve, middle first (0.5, 0.45, 0.55, ... 0.05, 0.95). */
const ALONG = [0.5, ...Array.from({ length: 9 }, (_, i) => [0.5 - 0.05 * (i + 1), 0.5 + 0.05 * (i + 1)]).flat()];
/** Steps beside the curve, in label heights, nearest first (at ±0.5 the label touches it). */
const BESIDE = [0.5, -0.5, 1, -1, 1.5, -1.5, 2, -2, 3, -3, 4, -4];

/**
 * The centre for a label of `size` on `curve` whose box (grown by `margin`, a quarter of its
 * height: the gap stays visible at the far view's zoom) covers none of
 * `nodes`: the free point of the curve nearest its middle; else the nearest free point a few
 * half label heights above or below one of the curve's points; else the middle (nowhere is free).
 */
export function placeLabel(curve: Curve, size: Size, nodes: readonly Rect[], margin = Math.max(4, size.height / 4)): Point {
  const free = (p: Point) => {
    const box = labelBox(p, size, margin);
    return !nodes.some((n) => overlaps(box, n));
  };
  const points = ALONG.map((t) => pointAt(curve, t));
  const onCurve = points.find(free);
  if (onCurve) return onCurve;
  const step = size.height + 2 * margin;
  for (const k of BESIDE) {
    for (const p of points) {
      const q = { x: p.x, y: p.y + k * step };
      if (free(q)) return q;
    }
  }
  return points[0] as Point;
}

/** The rough size of a label before it is measured (11.5 px text, at most 128 px wide). */
export function estimatedLabelSize(text: string): Size {
  const width = Math.min(128, text.length * 6.5 + 8);
  const lines = Math.ceil((text.length * 6.5 + 8) / 128);
  return { width, height: lines * 15 + 2 };
}
