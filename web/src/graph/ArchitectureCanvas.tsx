/**
 * The architecture drawn with React Flow. It shows a graph with given positions; what the
 * positions are, what the metrics are and what a gesture means are decided by the page.
 */
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  getViewportForBounds,
  useNodesInitialized,
  useReactFlow,
  useStore,
  type Connection,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ArchNode, type ArchFlowNode, type NodeMetrics } from "./ArchNode";
import { LabelledEdge, type LabelledFlowEdge } from "./LabelledEdge";
import type { Positions } from "./layout";
import type { Size } from "./labelPlacement";
import { NodeBoxes, nodeBoxes } from "./nodeBoxes";
import type { EdgeKind, Graph } from "./mapping";
import { FAR_NAME_OVERHANG, FAR_VIEW_ZOOM, farViewSizes } from "./farView";
import { CASCADE_COLOUR, ERROR_COLOUR } from "./palette";

export interface EdgeMetrics {
  label: string;
  /** What the far view shows instead of `label` (short enough for a zoomed-out graph). */
  farLabel?: string;
  errorShare: number | null;
  /** The edge carries nothing in the window shown (a scheduled route's target before its change). */
  idle?: boolean;
}

export interface CanvasProps {
  graph: Graph;
  positions: Positions;
  selected?: string | null;
  metrics?: Record<string, NodeMetrics>;
  edgeMetrics?: Record<string, EdgeMetrics>;
  cascade?: { origin: string | null; path: string[] } | null;
  problems?: Record<string, number>;
  /** Nodes to mark as changed (compare). */
  changed?: Record<string, "added" | "removed" | "changed">;
  editable?: boolean;
  onSelect?: (id: string | null) => void;
  onMove?: (moved: Positions) => void;
  onConnect?: (source: string, target: string) => void;
  onDelete?: (id: string) => void;
  testId?: string;
  showMiniMap?: boolean;
  /** The view is fitted to the graph again whenever this changes (another architecture). */
  fitKey?: string | number;
  /** The smallest zoom a fit may choose: small boxes show everything, the editor stays readable. */
  fitMinZoom?: number;
}

/** Room around a fitted graph, as a share of the canvas (React Flow's `padding`). */
const FIT_PADDING = 0.08;

/**
 * Fits the view once the nodes are measured, and again when `fitKey` changes: once per key, so
 * the user's zoom and pan survive nodes being measured again (a run's windows re-render them).
 */
function FitOnChange({ fitKey, minZoom }: { fitKey: string | number; minZoom: number }) {
  const { fitView, getNodes, getNodesBounds } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const maxZoom = useStore((s) => s.maxZoom);
  const ready = useNodesInitialized();
  const fitted = useRef<string | number | null>(null);
  useEffect(() => {
    if (!ready || fitted.current === fitKey) return;
    fitted.current = fitKey;
    // Fitted into the far view, the last layer's names run past their nodes: leave them room on
    // the right (the room only lowers the zoom, so it still covers them at the zoom it gives).
    const { zoom } = getViewportForBounds(getNodesBounds(getNodes()), width, height, minZoom, maxZoom, FIT_PADDING);
    const side = Math.floor((width - width / (1 + FIT_PADDING)) / 2);
    const right: `${number}px` = `${side + Math.ceil(FAR_NAME_OVERHANG * zoom)}px`;
    const padding = zoom < FAR_VIEW_ZOOM ? { y: FIT_PADDING, left: FIT_PADDING, right } : FIT_PADDING;
    void fitView({ padding, minZoom });
  }, [ready, fitKey, fitView, getNodes, getNodesBounds, width, height, maxZoom, minZoom]);
  return null;
}

/**
 * The far view (graph/farView.ts): zoomed out below FAR_VIEW_ZOOM, nodes keep only their name,
 * as large as the layout's rows allow, and their load; edge labels hide but for the ones that
 * matter at a glance (failing edges, scheduled routes' shares), which are scaled up
 * (styles.css `.far-view`). Zooming in brings everything back. The sizes go to CSS variables,
 * so zooming re-renders no node.
 */
function FarView() {
  const zoom = useStore((s) => s.transform[2]);
  const dom = useStore((s) => s.domNode);
  useEffect(() => {
    if (!dom) return;
    const s = farViewSizes(zoom);
    dom.classList.toggle("far-view", s.far);
    dom.style.setProperty("--far-name-px", `${s.namePx}px`);
    dom.style.setProperty("--far-name-room", `${s.nameRoomPx}px`);
    dom.style.setProperty("--far-bar-px", `${s.barPx}px`);
    dom.style.setProperty("--far-label-scale", String(s.labelScale));
  }, [zoom, dom]);
  return null;
}

const nodeTypes = { arch: ArchNode };
const edgeTypes = { labelled: LabelledEdge };

const EDGE_STYLE: Record<EdgeKind, { stroke: string; dash?: string }> = {
  request: { stroke: "#555" },
  route: { stroke: "#555" },
  call: { stroke: "#0072B2" },
  "saga-step": { stroke: "#009E73", dash: "6 3" },
  query: { stroke: "#7a6a00" },
  append: { stroke: "#7a6a00", dash: "2 3" },
  publish: { stroke: "#CC79A7" },
  consume: { stroke: "#CC79A7", dash: "6 3" },
  project: { stroke: "#999", dash: "2 3" },
};

/** Edge labels stay short enough to sit between two layers; the full text is in the YAML. */
function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function ArchitectureCanvas(props: CanvasProps) {
  const { graph, positions, selected = null, metrics, edgeMetrics, cascade, problems, changed, editable = false } = props;
  const cascadeSet = useMemo(() => new Set(cascade?.path ?? []), [cascade]);

  const computed = useMemo<ArchFlowNode[]>(
    () =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: "arch",
        position: positions[n.id] ?? { x: 0, y: 0 },
        selected: n.id === selected,
        className: changed?.[n.id] ? `changed-${changed[n.id]}` : undefined,
        data: {
          node: n,
          metrics: metrics?.[n.id] ?? null,
          cascade: cascade?.origin === n.id ? "origin" : cascadeSet.has(n.id) ? "path" : null,
          problems: problems?.[n.id] ?? 0,
        },
      })),
    [graph, positions, selected, metrics, cascade, cascadeSet, problems, changed],
  );
  // React Flow needs its own copy while dragging; the page's positions win otherwise.
  const [nodes, setNodes] = useState<ArchFlowNode[]>(computed);
  useEffect(() => setNodes(computed), [computed]);
  // Each node's size as React Flow measured it (the far view shrinks them): edge labels keep off.
  const [sizes, setSizes] = useState<Record<string, Size>>({});
  const boxes = useMemo(() => nodeBoxes(nodes, sizes), [nodes, sizes]);

  const edges = useMemo<LabelledFlowEdge[]>(
    () =>
      graph.edges.map((e) => {
        const m = edgeMetrics?.[e.id];
        const onCascade = cascadeSet.has(e.source) && cascadeSet.has(e.target);
        const style = EDGE_STYLE[e.kind];
        // A route only a scheduled change opens is dashed until it carries traffic.
        const idle = m ? m.idle === true : e.scheduled === true;
        const failing = (m?.errorShare ?? 0) >= 0.01;
        const stroke = onCascade ? CASCADE_COLOUR : failing ? ERROR_COLOUR : style.stroke;
        const label = m ? m.label : shorten([...e.badges.map((b) => `[${b}]`), e.labels.slice(0, 2).join(", ") + (e.labels.length > 2 ? ` +${e.labels.length - 2}` : "")].filter(Boolean).join(" "), 32);
        return {
          id: e.id,
          type: "labelled" as const,
          source: e.source,
          target: e.target,
          data: { text: label, failing, kind: e.kind, badges: e.badges, key: failing || m?.farLabel !== undefined, farText: m?.farLabel },
          className: `edge-${e.kind}${onCascade ? " edge-cascade" : ""}${e.badges.includes("breaker") ? " edge-breaker" : ""}${idle ? " edge-idle" : ""}`,
          style: { stroke, strokeWidth: onCascade ? 3.5 : failing ? 2.5 : 1.4, strokeDasharray: idle ? "7 5" : style.dash },
          markerEnd: { type: MarkerType.ArrowClosed, color: stroke, width: 16, height: 16 },
          ariaLabel: `${e.kind} from ${e.source} to ${e.target}: ${e.labels.join(", ")}`,
        };
      }),
    [graph, edgeMetrics, cascadeSet],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<ArchFlowNode>[]) => {
      setNodes((ns) => applyNodeChanges(changes, ns));
      const measured = changes.flatMap((c) => (c.type === "dimensions" && c.dimensions ? [[c.id, c.dimensions] as const] : []));
      if (measured.length > 0) {
        setSizes((s) => (measured.every(([id, d]) => s[id]?.width === d.width && s[id]?.height === d.height) ? s : { ...s, ...Object.fromEntries(measured) }));
      }
      const done: Positions = {};
      for (const c of changes) {
        if (c.type === "position" && c.dragging === false && c.position) done[c.id] = c.position;
        if (c.type === "select" && c.selected) props.onSelect?.(c.id);
        if (c.type === "remove" && editable) props.onDelete?.(c.id);
      }
      if (Object.keys(done).length > 0) props.onMove?.(done);
    },
    [props, editable],
  );

  const onConnect = useCallback((c: Connection) => props.onConnect?.(c.source, c.target), [props]);

  return (
    <div className="canvas" data-testid={props.testId ?? "canvas"}>
      <NodeBoxes.Provider value={boxes}>
        <ReactFlow<ArchFlowNode, LabelledFlowEdge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          onConnect={editable ? onConnect : undefined}
          onPaneClick={() => props.onSelect?.(null)}
          nodesDraggable
          nodesConnectable={editable}
          deleteKeyCode={editable ? ["Delete", "Backspace"] : null}
          fitView
          fitViewOptions={{ padding: FIT_PADDING, minZoom: props.fitMinZoom ?? 0.72 }}
          minZoom={Math.min(0.1, props.fitMinZoom ?? 0.1)}
          onlyRenderVisibleElements={graph.nodes.length > 150}
          proOptions={{ hideAttribution: true }}
        >
          <FitOnChange fitKey={props.fitKey ?? graph.nodes.length} minZoom={props.fitMinZoom ?? 0.72} />
          <FarView />
          <Background gap={24} />
          <Controls showInteractive={false} />
          {props.showMiniMap && <MiniMap pannable zoomable ariaLabel="overview of the architecture" />}
        </ReactFlow>
      </NodeBoxes.Provider>
    </div>
  );
}
