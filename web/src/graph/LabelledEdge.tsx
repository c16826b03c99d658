/**
 * An edge whose label is HTML drawn above the nodes (React Flow's EdgeLabelRenderer layer, raised
 * over the node layer in styles.css) and wraps onto a second line: a run's label ("23.0/s ·
 * 90.8% err · breaker OPEN") is wider than the gap between two layers, and an SVG label, drawn
 * under the nodes, was clipped by the target node. Being above the nodes, it is placed off them
 * (labelPlacement.ts), at its measured size, which the far view changes.
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from "@xyflow/react";
import { useContext, useLayoutEffect, useMemo, useRef, useState, type RefObject } from "react";
import { bezierCurve, estimatedLabelSize, placeLabel, type Size } from "./labelPlacement";
import { NodeBoxes } from "./nodeBoxes";

/**
 * `key`: the label stays (scaled up) in the far view: a failing edge, a scheduled route's share;
 * `farText`: the shorter text the far view shows instead (the route's share alone).
 */
export type LabelledEdgeData = { text: string; failing: boolean; kind: string; badges: string[]; key?: boolean; farText?: string };
export type LabelledFlowEdge = Edge<LabelledEdgeData, "labelled">;

/** The label's size in flow units (layout size: the viewport's zoom does not change it). */
function useMeasuredSize(text: string): [RefObject<HTMLDivElement | null>, Size] {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<Size | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      // A hidden label (far view) measures 0: it covers nothing, so any place is right.
      const next = { width: el.offsetWidth, height: el.offsetHeight };
      setSize((s) => (s && s.width === next.width && s.height === next.height ? s : next));
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [text]);
  return [ref, size && size.width > 0 ? size : estimatedLabelSize(text)];
}

export function LabelledEdge({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, style, markerEnd, data }: EdgeProps<LabelledFlowEdge>) {
  const [path] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  const nodes = useContext(NodeBoxes);
  const text = data?.text ?? "";
  const [ref, size] = useMeasuredSize(text);
  const at = useMemo(
    () => placeLabel(bezierCurve({ x: sourceX, y: sourceY }, sourcePosition, { x: targetX, y: targetY }, targetPosition), size, nodes),
    [sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition, size, nodes],
  );
  return (
    <>
      <BaseEdge id={id} path={path} style={style} markerEnd={markerEnd} />
      {data?.text ? (
        <EdgeLabelRenderer>
          <div
            ref={ref}
            className={`edge-label${data.failing ? " edge-label-failing" : ""}${data.key ? " edge-label-key" : ""}`}
            style={{ transform: `translate(-50%, -50%) translate(${at.x}px, ${at.y}px)` }}
            data-testid={`edge-label-${id}`}
          >
            {data.farText ? (
              <>
                <span className="edge-label-near">{data.text}</span>
                <span className="edge-label-far">{data.farText}</span>
              </>
            ) : (
              data.text
            )}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}
