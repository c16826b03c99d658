/**
 * An edge whose label is HTML drawn above the nodes (React Flow's EdgeLabelRenderer layer, raised
 * over the node layer in styles.css) and wraps onto a second line: a run's label ("23.0/s ·
 * 90.8% err · breaker OPEN") is wider than the gap between two layers, and an SVG label, drawn
 * under the nodes, was clipped by the target node.
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from "@xyflow/react";

/**
 * `key`: the label stays (scaled up) in the far view: a failing edge, a scheduled route's share;
 * `farText`: the shorter text the far view shows instead (the route's share alone).
 */
export type LabelledEdgeData = { text: string; failing: boolean; kind: string; badges: string[]; key?: boolean; farText?: string };
export type LabelledFlowEdge = Edge<LabelledEdgeData, "labelled">;

export function LabelledEdge({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, style, markerEnd, data }: EdgeProps<LabelledFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  return (
    <>
      <BaseEdge id={id} path={path} style={style} markerEnd={markerEnd} />
      {data?.text ? (
        <EdgeLabelRenderer>
          <div
            className={`edge-label${data.failing ? " edge-label-failing" : ""}${data.key ? " edge-label-key" : ""}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
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
