import { Handle, Position, type NodeProps, type Node } from "@xyflow/react";
import { memo, type CSSProperties } from "react";
import type { GraphNode } from "./mapping";
import { ERROR_COLOUR, CASCADE_COLOUR, textOn, utilisationColour } from "./palette";

export interface NodeMetrics {
  utilisation: number | null;
  errorShare: number | null;
  throughput: number | null;
  p99: number | null;
  replicas: number | null;
}

export type ArchNodeData = {
  node: GraphNode;
  metrics: NodeMetrics | null;
  cascade: "origin" | "path" | null;
  problems: number;
};

export type ArchFlowNode = Node<ArchNodeData, "arch">;

const KIND_ICON: Record<GraphNode["kind"], string> = {
  client: "⇢",
  gateway: "⛩",
  service: "▣",
  database: "⛁",
  topic: "☰",
  "event-store": "⧉",
};

export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  if (s === 0) return "0";
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)}µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 1 : 0)}ms`;
  return `${s.toFixed(2)}s`;
}

export function formatRate(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return "–";
  return r >= 100 ? `${Math.round(r)}/s` : `${r.toFixed(1)}/s`;
}

/** One element of the architecture: its kind, name, summary, badges and, during a run, its load. */
function ArchNodeView({ data, selected }: NodeProps<ArchFlowNode>) {
  const { node, metrics, cascade, problems } = data;
  const u = metrics?.utilisation ?? null;
  const err = metrics?.errorShare ?? null;
  const failing = err !== null && err >= 0.01;
  const border = cascade === "origin" ? CASCADE_COLOUR : failing ? ERROR_COLOUR : problems > 0 ? ERROR_COLOUR : undefined;
  // The far view caps a name's size by its length (styles.css, graph/farView.ts).
  const style = { "--name-chars": node.name.length, ...(border ? { borderColor: border } : {}) } as CSSProperties;
  return (
    <div
      className={`arch-node kind-${node.kind}${selected ? " selected" : ""}${cascade ? ` cascade-${cascade}` : ""}${failing ? " failing" : ""}`}
      style={style}
      data-testid={`node-${node.id}`}
      data-utilisation={u ?? undefined}
      data-cascade={cascade ?? undefined}
      aria-label={`${node.kind} ${node.name}`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="arch-node-head">
        <span className="arch-node-icon" aria-hidden>
          {KIND_ICON[node.kind]}
        </span>
        <span className="arch-node-name" title={node.name}>
          {node.name}
        </span>
        {problems > 0 && (
          <span className="arch-node-problems" title={`${problems} problem(s) in this element`}>
            ⚠ {problems}
          </span>
        )}
      </div>
      {metrics ? (
        <div className="arch-node-metrics">
          <div className="util-row">
            <span className="util-swatch" style={{ background: utilisationColour(u ?? 0), color: textOn(utilisationColour(u ?? 0)) }}>
              {u === null ? "util –" : `util ${Math.round(u * 100)}%`}
            </span>
            <div className="util-bar" aria-hidden>
              <div className="util-fill" style={{ width: `${Math.min(100, (u ?? 0) * 100)}%`, background: utilisationColour(u ?? 0) }} />
            </div>
          </div>
          <div className="arch-node-detail">
            {formatRate(metrics.throughput)} · p99 {formatSeconds(metrics.p99)}
            {err !== null && err > 0 ? <span className="err-text"> · {(err * 100).toFixed(err < 0.1 ? 1 : 0)}% err</span> : null}
          </div>
        </div>
      ) : (
        <div className="arch-node-detail" title={node.detail}>
          {node.detail}
        </div>
      )}
      {node.badges.length > 0 && (
        <div className="arch-node-badges">
          {node.badges.map((b) => (
            <span key={b} className={`badge badge-${b}`}>
              {b}
            </span>
          ))}
        </div>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

export const ArchNode = memo(ArchNodeView);
