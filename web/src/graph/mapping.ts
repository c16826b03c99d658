/**
 * Architecture document → graph. The designer edits the architecture itself (YAML/JSON), so the
 * graph is derived from it on every change, in the browser, the same way the catalog's
 * `topology()` does on the server: one node per traffic source, gateway, service, database,
 * topic, event store; one edge per step of the file. Edges that join the same two nodes the same
 * way are merged so the canvas stays readable.
 */

export type NodeKind = "client" | "gateway" | "service" | "event-store" | "topic" | "database";
export type EdgeKind =
  | "request"
  | "route"
  | "call"
  | "saga-step"
  | "query"
  | "append"
  | "publish"
  | "consume"
  | "project";

/** A pattern made visible on the graph: a small label on a node or an edge. */
export type Badge = "breaker" | "bulkhead" | "retry" | "timeout" | "mesh" | "canary" | "blue-green" | "hpa" | "saga" | "external";

export interface GraphNode {
  id: string;
  kind: NodeKind;
  name: string;
  detail: string;
  group: string | null;
  badges: Badge[];
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: EdgeKind;
  labels: string[];
  badges: Badge[];
  /** Only a scenario's scheduled route changes send traffic along it (graph/routeChanges.ts). */
  scheduled?: boolean;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function num(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

export function nodeId(kind: NodeKind, name: string): string {
  return `${kind}:${name}`;
}

function splitRef(ref: string): [string, string] {
  const i = ref.indexOf(".");
  return i < 0 ? [ref, ""] : [ref.slice(0, i), ref.slice(i + 1)];
}

function suffix(probability: number, repeat: number): string {
  const extra: string[] = [];
  if (probability < 1) extra.push(`p=${probability}`);
  if (repeat > 1) extra.push(`×${repeat}`);
  return extra.length ? ` (${extra.join(", ")})` : "";
}

/** Badges of the client policy a service applies to calls to `target` (its own or `*`). */
function policyBadges(clients: Obj, target: string): Badge[] {
  const out: Badge[] = [];
  for (const key of [target, "*"]) {
    const p = obj(clients[key]);
    if (p.circuitBreaker != null && !out.includes("breaker")) out.push("breaker");
    if (p.bulkhead != null && !out.includes("bulkhead")) out.push("bulkhead");
    if (p.retry != null && !out.includes("retry")) out.push("retry");
    if (p.timeout != null && !out.includes("timeout")) out.push("timeout");
  }
  return out;
}

function serviceDetail(svc: Obj): string {
  if (svc.external === true) return "external API";
  const auto = obj(svc.autoscaling);
  const parts = [
    svc.autoscaling != null
      ? `×${num(auto.minReplicas, 1)}-${num(auto.maxReplicas, 1)} hpa`
      : `×${num(svc.replicas, 1)}`,
    `${num(svc.workers, 8)} workers${svc.concurrency === "async" ? " async" : ""}`,
  ];
  const strategy = str(obj(svc.deployment).strategy);
  if (strategy && strategy !== "rolling") parts.push(strategy);
  return parts.join(" · ");
}

class Builder {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();

  node(kind: NodeKind, name: string, detail: string, group: string | null = null, badges: Badge[] = []): void {
    const id = nodeId(kind, name);
    if (!this.nodes.has(id)) this.nodes.set(id, { id, kind, name, detail, group, badges });
  }

  /** Adds one step as an edge, merged with the edges of the same kind between the same nodes. */
  edge(source: string, target: string, kind: EdgeKind, label: string, badges: Badge[] = []): void {
    if (!this.nodes.has(source) || !this.nodes.has(target)) return;
    const id = `${kind}:${source}->${target}`;
    const e = this.edges.get(id);
    if (e === undefined) {
      this.edges.set(id, { id, source, target, kind, labels: label ? [label] : [], badges: [...badges] });
      return;
    }
    if (label && !e.labels.includes(label)) e.labels.push(label);
    for (const b of badges) if (!e.badges.includes(b)) e.badges.push(b);
  }
}

/** The graph of an architecture document (the parsed YAML, any shape: bad parts are skipped). */
export function architectureGraph(doc: unknown): Graph {
  const spec = obj(obj(doc).spec);
  const b = new Builder();
  const services = obj(spec.services);
  const meshOn = spec.mesh != null && obj(spec.mesh).enabled !== false;

  for (const [name, src] of Object.entries(obj(spec.traffic))) {
    const s = obj(src);
    const detail = s.type === "closed" ? `closed ${num(s.users, 0)} users` : `open ${str(obj(s.arrival).rate) ?? ""}`.trim();
    b.node("client", name, detail);
  }
  if (spec.gateway != null) {
    const gw = obj(spec.gateway);
    const auth = str(obj(gw.auth).type);
    b.node("gateway", "gateway", `kong ×${num(gw.replicas, 2)}${auth && auth !== "none" ? ` · ${auth}` : ""}`);
  }
  for (const [name, raw] of Object.entries(services)) {
    const svc = obj(raw);
    const badges: Badge[] = [];
    if (meshOn) badges.push("mesh");
    const strategy = str(obj(svc.deployment).strategy);
    if (strategy === "canary") badges.push("canary");
    if (strategy === "blue-green") badges.push("blue-green");
    if (svc.autoscaling != null) badges.push("hpa");
    if (svc.external === true) badges.push("external");
    for (const p of Object.values(obj(svc.clients))) {
      if (obj(p).bulkhead != null && !badges.includes("bulkhead")) badges.push("bulkhead");
    }
    b.node("service", name, serviceDetail(svc), null, badges);
  }
  for (const [name, raw] of Object.entries(obj(spec.eventStores))) {
    const n = list(obj(raw).projections).length;
    b.node("event-store", name, `event store · ${n} projection${n === 1 ? "" : "s"}`);
  }
  for (const [bname, raw] of Object.entries(obj(spec.brokers))) {
    const broker = obj(raw);
    for (const [tname, topic] of Object.entries(obj(broker.topics))) {
      b.node("topic", tname, `${str(broker.type) ?? "kafka"} · ${num(obj(topic).partitions, 3)} partitions`, bname);
    }
  }
  for (const [name, raw] of Object.entries(obj(spec.databases))) {
    const db = obj(raw);
    b.node("database", name, `${str(db.engine) ?? "?"} · pool ${num(db.pool, 10)}`);
  }

  // Entry edges: traffic → gateway or service, gateway → service.
  for (const [name, src] of Object.entries(obj(spec.traffic))) {
    const mix = list(obj(src).mix).map(obj);
    const total = mix.reduce((acc, m) => acc + num(m.weight, 1), 0) || 1;
    for (const m of mix) {
      const share = `${Math.round((num(m.weight, 1) / total) * 100)}%`;
      const route = str(m.route);
      const endpoint = str(m.endpoint);
      if (route !== undefined) b.edge(nodeId("client", name), "gateway:gateway", "request", `${route} ${share}`);
      else if (endpoint !== undefined) {
        const [svc, ep] = splitRef(endpoint);
        b.edge(nodeId("client", name), nodeId("service", svc), "request", `${ep} ${share}`);
      }
    }
  }
  for (const r of list(obj(spec.gateway).routes).map(obj)) {
    const path = str(r.path) ?? "/";
    const targets: [string, number | null][] = str(r.endpoint) !== undefined
      ? [[str(r.endpoint) as string, null]]
      : list(r.split).map(obj).map((t) => [str(t.endpoint) ?? "", num(t.weight, 0)]);
    for (const [target, weight] of targets) {
      const [svc, ep] = splitRef(target);
      b.edge("gateway:gateway", nodeId("service", svc), "route", `${path} → ${ep}${weight === null ? "" : ` ${weight}%`}`);
    }
  }

  // Step edges.
  const sagas = obj(spec.sagas);
  for (const [sname, raw] of Object.entries(services)) {
    const svc = obj(raw);
    const me = nodeId("service", sname);
    const clients = obj(svc.clients);
    for (const [ename, ep] of Object.entries(obj(svc.endpoints))) {
      for (const step of list(obj(ep).steps).map(obj)) {
        const p = num(step.probability, 1);
        if (typeof step.call === "string") {
          const [svcName, epName] = splitRef(step.call);
          b.edge(me, nodeId("service", svcName), "call", `${ename} → ${epName}${suffix(p, num(step.repeat, 1))}`, policyBadges(clients, svcName));
        } else if (Array.isArray(step.parallel)) {
          for (const c of step.parallel.map(obj)) {
            const [svcName, epName] = splitRef(str(c.call) ?? "");
            b.edge(me, nodeId("service", svcName), "call", `${ename} → ${epName} parallel${suffix(p * num(c.probability, 1), num(c.repeat, 1))}`, policyBadges(clients, svcName));
          }
        } else if (typeof step.query === "string") {
          b.edge(me, nodeId("database", step.query), "query", `${ename}: ${str(step.operation) ?? "read"}${suffix(p, num(step.repeat, 1))}`);
        } else if (typeof step.publish === "string") {
          b.edge(me, nodeId("topic", step.publish), "publish", `${ename}${suffix(p, 1)}`);
        } else if (typeof step.append === "string") {
          const events = num(step.events, 1);
          b.edge(me, nodeId("event-store", step.append), "append", `${ename}${events > 1 ? ` (${events} events)` : ""}${suffix(p, 1)}`);
        } else if (typeof step.saga === "string") {
          sagaEdges(b, me, step.saga, obj(sagas[step.saga]), services);
        }
      }
    }
  }

  // Data edges: topic → consumer, event store → projection, orchestrator → saga state store.
  for (const raw of Object.values(obj(spec.brokers))) {
    for (const [tname, topic] of Object.entries(obj(obj(raw).topics))) {
      for (const c of list(obj(topic).consumers).map(obj)) {
        const group = str(c.group);
        b.edge(nodeId("topic", tname), nodeId("service", str(c.service) ?? ""), "consume", `${str(c.endpoint) ?? ""}${group ? ` (group ${group})` : ""}`);
      }
    }
  }
  for (const [sname, raw] of Object.entries(obj(spec.eventStores))) {
    for (const p of list(obj(raw).projections).map(obj)) {
      b.edge(nodeId("event-store", sname), nodeId("service", str(p.service) ?? ""), "project", str(p.name) ?? "");
    }
  }
  for (const [gname, raw] of Object.entries(sagas)) {
    const saga = obj(raw);
    const orch = str(saga.orchestrator);
    const store = str(saga.stateStore);
    if (orch && store) b.edge(nodeId("service", orch), nodeId("database", store), "query", `${gname}: saga state`);
  }
  for (const [sname, raw] of Object.entries(sagas)) {
    const orch = str(obj(raw).orchestrator);
    if (orch) b.nodes.get(nodeId("service", orch))?.badges.push("saga");
    void sname;
  }
  return { nodes: [...b.nodes.values()], edges: [...b.edges.values()] };
}

function sagaEdges(b: Builder, initiator: string, name: string, saga: Obj, services: Obj): void {
  const steps = list(saga.steps).map(obj);
  const targets = steps.map((s) => nodeId("service", splitRef(str(s.action) ?? "")[0]));
  const orch = str(saga.orchestrator);
  if (saga.mode !== "choreographed" && orch !== undefined) {
    const o = nodeId("service", orch);
    const clients = obj(obj(services[orch]).clients);
    if (initiator !== o) b.edge(initiator, o, "saga-step", `${name}: start`);
    steps.forEach((s, i) => {
      const undo = str(s.compensation) ? ` / undo ${splitRef(str(s.compensation) ?? "")[1]}` : "";
      b.edge(o, targets[i] ?? "", "saga-step", `${name} ${i + 1}. ${str(s.name) ?? ""}${s.pivot === true ? " (pivot)" : ""}${undo}`, policyBadges(clients, splitRef(str(s.action) ?? "")[0]));
    });
    return;
  }
  const via = str(saga.broker) ? ` via ${str(saga.broker)}` : "";
  if (targets.length && initiator !== targets[0]) b.edge(initiator, targets[0] ?? "", "saga-step", `${name} 1. ${str(steps[0]?.name) ?? ""}${via}`);
  for (let i = 1; i < targets.length; i++) {
    b.edge(targets[i - 1] ?? "", targets[i] ?? "", "saga-step", `${name} ${i + 1}. ${str(steps[i]?.name) ?? ""}${via}`);
  }
}

/** The part of the document a node stands for, as a path (`spec.services.order`). */
export function nodePath(node: Pick<GraphNode, "kind" | "name" | "group">): (string | number)[] {
  switch (node.kind) {
    case "client":
      return ["spec", "traffic", node.name];
    case "gateway":
      return ["spec", "gateway"];
    case "service":
      return ["spec", "services", node.name];
    case "database":
      return ["spec", "databases", node.name];
    case "event-store":
      return ["spec", "eventStores", node.name];
    case "topic":
      return ["spec", "brokers", node.group ?? "", "topics", node.name];
  }
}

/** The node a document path (e.g. from a diagnostic) falls in, if any. */
export function nodeOfPath(path: readonly (string | number)[]): string | null {
  const [root, section, name, sub, topic] = path;
  if (root !== "spec") return null;
  switch (section) {
    case "traffic":
      return typeof name === "string" ? nodeId("client", name) : null;
    case "gateway":
      return "gateway:gateway";
    case "services":
      return typeof name === "string" ? nodeId("service", name) : null;
    case "databases":
      return typeof name === "string" ? nodeId("database", name) : null;
    case "eventStores":
      return typeof name === "string" ? nodeId("event-store", name) : null;
    case "brokers":
      return sub === "topics" && typeof topic === "string" ? nodeId("topic", topic) : null;
    default:
      return null;
  }
}
