/**
 * From run events to what the run page draws: per-node load for one window, edge labels like
 * Kiali's (rate, p99, error share), and chart columns.
 */
import type { Num, Progress, TimelineEvent, WindowEvent, WindowStats } from "../api/types";
import type { EdgeMetrics } from "../graph/ArchitectureCanvas";
import type { NodeMetrics } from "../graph/ArchNode";
import { formatRate, formatSeconds } from "../graph/ArchNode";
import type { Graph } from "../graph/mapping";
import { routeShares, type RouteSchedule, type WindowShares } from "../graph/routeChanges";
import type { ChartSeries } from "../charts/TimeSeriesChart";

const n = (v: Num | undefined): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The windows of one replication (and variant), in time order. */
export function replicationWindows(windows: WindowEvent[], replication = 0, variant: "a" | "b" | null = null): WindowEvent[] {
  return windows.filter((w) => w.replication === replication && w.variant === variant).sort((a, b) => a.index - b.index);
}

function errorShare(s: WindowStats | undefined): number | null {
  const thr = n(s?.throughput);
  const err = n(s?.errors);
  if (err === null) return null;
  const total = n(s?.count) ?? (thr !== null ? thr : null);
  if (total === null || total <= 0) return err > 0 ? 1 : 0;
  return Math.min(1, err / total);
}

/** Each service's (and the gateway's) load in one window, keyed by node id. */
export function nodeMetrics(w: WindowEvent | undefined): Record<string, NodeMetrics> {
  const out: Record<string, NodeMetrics> = {};
  if (!w) return out;
  for (const [name, s] of Object.entries(w.services ?? {})) {
    const id = name === "@gateway" ? "gateway:gateway" : `service:${name}`;
    const replicas = n(s.replicas);
    const util = n(s.utilisation);
    out[id] = {
      // The share of the service's workers that were busy in the window (0..1).
      utilisation: util === null ? null : Math.min(1, Math.max(0, util)),
      errorShare: errorShare({ ...s, count: n(s.throughput) !== null ? (n(s.throughput) ?? 0) * (w.window || 1) : null }),
      throughput: n(s.throughput),
      p99: n(s.p99),
      replicas,
    };
  }
  return out;
}

/** Labels for the edges into services: rate, p99 and error share (from the client when it has one). */
export function edgeMetrics(graph: Graph, w: WindowEvent | undefined): Record<string, EdgeMetrics> {
  const out: Record<string, EdgeMetrics> = {};
  if (!w) return out;
  const width = w.window || 1;
  for (const e of graph.edges) {
    if (!e.target.startsWith("service:") && e.target !== "gateway:gateway") continue;
    const caller = e.source.split(":")[1] ?? "";
    const callee = e.target.split(":")[1] ?? "";
    const client = w.clients?.[`${caller}->${callee}`];
    if (client && n(client.calls) !== null) {
      const calls = n(client.calls) ?? 0;
      const failed = n(client.failed) ?? 0;
      const breaker = n(client.breaker);
      // A window's failures can finish calls the window before started (a breaker opening on a
      // backlog), so the share is of the outcomes seen, never above 100 %.
      const share = calls + failed > 0 ? Math.min(1, failed / Math.max(calls, failed)) : 0;
      const state = breaker === 2 ? " · breaker OPEN" : breaker === 1 ? " · half-open" : "";
      out[e.id] = { label: `${formatRate(calls / width)} · ${(share * 100).toFixed(1)}% err${state}`, errorShare: share };
      continue;
    }
    const s = w.services?.[callee === "gateway" ? "@gateway" : callee];
    if (!s) continue;
    const share = errorShare({ ...s, count: (n(s.throughput) ?? 0) * width });
    out[e.id] = {
      label: `${formatRate(n(s.throughput))} · p99 ${formatSeconds(n(s.p99))}${share ? ` · ${(share * 100).toFixed(1)}% err` : ""}`,
      errorShare: share,
    };
  }
  return out;
}

/** Replication 0's measured share per route and target, per window (the result's `changes.routes`). */
export type MeasuredShares = Record<string, Record<string, (number | null)[]>>;

export function measuredShares(result: Record<string, unknown> | null): MeasuredShares | null {
  const runs = result?.runs;
  const first = Array.isArray(runs) ? (runs[0] as { changes?: { routes?: Record<string, { share?: Record<string, (number | null)[]> }> } } | undefined) : undefined;
  const routes = first?.changes?.routes;
  if (!routes) return null;
  const out: MeasuredShares = {};
  for (const [key, r] of Object.entries(routes)) out[key] = r.share ?? {};
  return out;
}

/** The shares a window measured: its own `routes`, else the result's column for its index. */
function windowShares(w: WindowEvent, measured: MeasuredShares | null): WindowShares | null {
  if (w.routes && Object.keys(w.routes).length > 0) return w.routes;
  if (!measured) return null;
  const out: WindowShares = {};
  for (const [key, targets] of Object.entries(measured)) {
    out[key] = Object.fromEntries(Object.entries(targets).map(([t, col]) => [t, col[w.index] ?? null]));
  }
  return out;
}

/**
 * The edge labels with each scheduled route's share put first ("40% of /shop"), and the edges
 * that carry none of it in the window marked idle (drawn dashed).
 */
export function withRouteShares(metrics: Record<string, EdgeMetrics>, graph: Graph, schedules: RouteSchedule[], w: WindowEvent | undefined, measured: MeasuredShares | null): Record<string, EdgeMetrics> {
  if (schedules.length === 0) return metrics;
  const shares = routeShares(schedules, w?.time ?? 0, w ? windowShares(w, measured) : null);
  const out = { ...metrics };
  for (const e of graph.edges) {
    const s = shares[e.id];
    if (!s) continue;
    const idle = e.scheduled === true && s.share === 0;
    const m = metrics[e.id];
    out[e.id] = { label: idle || !m ? s.text : `${s.text} · ${m.label}`, errorShare: idle ? null : (m?.errorShare ?? null), idle, farLabel: s.text };
  }
  return out;
}

/** One chart column per key of a group (entries, services, clients) for one metric. */
export function columns(ws: WindowEvent[], group: "entries" | "services" | "clients", metric: string, scale = 1): ChartSeries[] {
  const keys = new Set<string>();
  for (const w of ws) for (const k of Object.keys((w[group] as Record<string, WindowStats> | undefined) ?? {})) keys.add(k);
  return [...keys].sort().map((k) => ({
    label: k,
    values: ws.map((w) => {
      const v = n(((w[group] as Record<string, WindowStats> | undefined) ?? {})[k]?.[metric]);
      return v === null ? null : v * scale;
    }),
  }));
}

/**
 * Simulated requests per simulated second between progress events of the first replication:
 * the one figure the stream gives while a replication runs, so the page shows load at once.
 */
export function progressRate(log: Progress[]): { time: number[]; rate: (number | null)[] } {
  const first = log.filter((p) => p.replication === 0);
  const time: number[] = [];
  const rate: (number | null)[] = [];
  for (let i = 1; i < first.length; i++) {
    const a = first[i - 1];
    const b = first[i];
    if (!a || !b || b.time <= a.time) continue;
    time.push(b.time);
    rate.push((b.requests - a.requests) / (b.time - a.time));
  }
  return { time, rate };
}

/** Service names a timeline event mentions: its `nodes` when the server sends them, else its text. */
export function nodesOf(t: TimelineEvent, graph: Graph): string[] {
  if (t.nodes && t.nodes.length) return t.nodes;
  const out: string[] = [];
  for (const node of graph.nodes) {
    if (node.kind !== "service" && node.kind !== "database") continue;
    const re = new RegExp(`(^|[^-a-z0-9])${node.name.replace(/[-]/g, "\\-")}($|[^-a-z0-9])`);
    if (re.test(t.text)) out.push(node.id);
  }
  return out;
}
