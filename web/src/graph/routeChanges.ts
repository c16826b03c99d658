/**
 * A scenario's scheduled route changes (`changes: - type: route-weights`, docs/architecture-file.md)
 * made visible on the graph. A change may send a gateway route to a target the route did not
 * have (the strangler fig's next extraction), so the run's graph needs an edge for every target
 * the run can reach, and each route edge needs the share of its route it carries in the window
 * shown: the run's measured share once the result has it, the weight the schedule puts in force
 * at the window's start while the run is still going.
 */
import type { Graph, GraphEdge } from "./mapping";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Seconds of a duration as the file writes it (`90`, `90s`, `2m`, `1h`, `250ms`). */
export function seconds(v: unknown): number {
  if (typeof v === "number") return v;
  const m = /^\s*([0-9.]+)\s*(ms|s|m|h)?\s*$/.exec(String(v ?? ""));
  if (!m) return 0;
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * scale;
}

/** One gateway route under changes: its own weights, then each change's, in time order. */
export interface RouteSchedule {
  /** The route's key in the run's `changes.routes` (`path`, or `METHOD,... path`). */
  key: string;
  path: string;
  /** Weights (summing to 100) per target endpoint (`catalog.handle`) from time 0. */
  base: Record<string, number>;
  steps: { at: number; weights: Record<string, number> }[];
}

const service = (endpoint: string): string => `service:${endpoint.split(".")[0] ?? endpoint}`;

function routeKey(route: Obj): string {
  const methods = list(route.methods).map(String);
  return methods.length ? `${methods.join(",")} ${str(route.path) ?? "/"}` : (str(route.path) ?? "/");
}

/** The schedules of the routes a scenario's changes touch (none without a scenario). */
export function routeSchedules(doc: unknown, scenario: string | null): RouteSchedule[] {
  if (!scenario) return [];
  const spec = obj(obj(doc).spec);
  const routes = list(obj(spec.gateway).routes).map(obj);
  const changes = list(obj(obj(spec.scenarios)[scenario]).changes).map(obj);
  const out = new Map<number, RouteSchedule>();
  for (const c of changes) {
    if (c.type !== "route-weights") continue;
    const method = str(c.method);
    // The engine's rule (sim/platform/change_plan.py `find_route`): the first route of the path
    // that serves the method.
    const i = routes.findIndex((r) => r.path === c.route && (method === undefined || !Array.isArray(r.methods) || list(r.methods).includes(method)));
    const r = routes[i];
    if (r === undefined) continue;
    let s = out.get(i);
    if (s === undefined) {
      const base: Record<string, number> = {};
      const endpoint = str(r.endpoint);
      if (endpoint !== undefined) base[endpoint] = 100;
      const split = list(r.split).map(obj);
      const total = split.reduce((a, t) => a + num(t.weight), 0) || 1;
      for (const t of split) base[str(t.endpoint) ?? ""] = (num(t.weight) / total) * 100;
      s = { key: routeKey(r), path: str(r.path) ?? "/", base, steps: [] };
      out.set(i, s);
    }
    const weights: Record<string, number> = {};
    for (const t of list(c.split).map(obj)) weights[str(t.endpoint) ?? ""] = num(t.weight);
    s.steps.push({ at: seconds(c.at), weights });
  }
  for (const s of out.values()) s.steps.sort((a, b) => a.at - b.at);
  return [...out.values()];
}

/** The weights in force at time `t` (a change at `t` is in force). */
export function weightsAt(s: RouteSchedule, t: number): Record<string, number> {
  let w = s.base;
  for (const step of s.steps) if (step.at <= t) w = step.weights;
  return w;
}

/** Every endpoint the route can send to over the run, in first-seen order. */
export function scheduleTargets(s: RouteSchedule): string[] {
  const out: string[] = [];
  for (const w of [s.base, ...s.steps.map((x) => x.weights)]) for (const e of Object.keys(w)) if (!out.includes(e)) out.push(e);
  return out;
}

/**
 * The graph with an edge for every target a scheduled change gives a route: an edge that joins
 * the gateway to a service no route reached before is added. Route edges that only scheduled
 * routes make are marked `scheduled`: they carry nothing in a window where those routes send the
 * service no share (drawn dashed then).
 */
export function withScheduledRoutes(graph: Graph, doc: unknown, schedules: RouteSchedule[]): Graph {
  if (schedules.length === 0 || !graph.nodes.some((n) => n.id === "gateway:gateway")) return graph;
  const ids = new Set(graph.nodes.map((n) => n.id));
  const keys = new Set(schedules.map((s) => s.key));
  // Services some route outside the schedules reaches: their edge always carries that route.
  const fixed = new Set<string>();
  for (const r of list(obj(obj(obj(doc).spec).gateway).routes).map(obj)) {
    if (keys.has(routeKey(r))) continue;
    const targets = str(r.endpoint) !== undefined ? [str(r.endpoint) ?? ""] : list(r.split).map((t) => str(obj(t).endpoint) ?? "");
    for (const t of targets) fixed.add(service(t));
  }
  const edges: GraphEdge[] = graph.edges.map((e) => ({ ...e, labels: [...e.labels] }));
  for (const s of schedules) {
    for (const endpoint of scheduleTargets(s)) {
      const target = service(endpoint);
      if (!ids.has(target)) continue;
      const id = `route:gateway:gateway->${target}`;
      const label = `${s.path} → ${endpoint.split(".")[1] ?? ""} (scheduled)`;
      const e = edges.find((x) => x.id === id);
      if (e === undefined) edges.push({ id, source: "gateway:gateway", target, kind: "route", labels: [label], badges: [], scheduled: !fixed.has(target) });
      else {
        if (!(endpoint in s.base) && !e.labels.includes(label)) e.labels.push(label);
        e.scheduled = !fixed.has(target);
      }
    }
  }
  return { nodes: graph.nodes, edges };
}

/** What a route edge carries in one window: its share of each scheduled route, and when it starts. */
export interface RouteShare {
  /** `40% of /shop` per scheduled route through the edge. */
  text: string;
  /** The edge's share of its routes' requests in the window (0 when it carried none). */
  share: number;
}

/** Each route's measured share per target in one window (`{"/shop": {"catalog.handle": 0.4}}`). */
export type WindowShares = Record<string, Record<string, number | null>>;

/**
 * Per route edge under a schedule, its share in the window starting at `time`: measured when
 * `measured` has the route (the window event's `routes`, or the result's `changes.routes`), else
 * the weight in force. An edge that carries nothing yet says when a change first gives it weight.
 */
export function routeShares(schedules: RouteSchedule[], time: number, measured: WindowShares | null): Record<string, RouteShare> {
  const parts = new Map<string, { texts: string[]; share: number; next: number | null }>();
  for (const s of schedules) {
    const now = weightsAt(s, time);
    const seen = measured?.[s.key];
    const byService = new Map<string, { share: number; next: number | null }>();
    for (const endpoint of scheduleTargets(s)) {
      // A window in which the route had no request measures null: it carried nothing.
      const share = seen ? (seen[endpoint] ?? 0) : (now[endpoint] ?? 0) / 100;
      const next = s.steps.find((st) => st.at > time && (st.weights[endpoint] ?? 0) > 0)?.at ?? null;
      const id = `route:gateway:gateway->${service(endpoint)}`;
      const b = byService.get(id) ?? { share: 0, next: null };
      b.share += share;
      if (b.next === null) b.next = next;
      byService.set(id, b);
    }
    for (const [id, b] of byService) {
      const p = parts.get(id) ?? { texts: [], share: 0, next: null };
      p.texts.push(`${Math.round(b.share * 100)}% of ${s.path}${b.share === 0 && b.next !== null ? ` · from ${b.next}s` : ""}`);
      p.share += b.share;
      parts.set(id, p);
    }
  }
  const out: Record<string, RouteShare> = {};
  for (const [id, p] of parts) out[id] = { text: p.texts.join(" · "), share: p.share };
  return out;
}
