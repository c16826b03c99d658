/**
 * Canvas gestures as edits of the architecture text: adding a node adds the smallest valid entry
 * of its kind, connecting two nodes adds the step that makes the edge (a call, a query, a
 * publish, a consumer), removing a node removes its entry. Each returns new text; the graph is
 * then derived from it like from any other edit.
 */
import { getAtPath, readDocument, setAtPath } from "../yaml/sync";
import { nodePath, type GraphNode } from "./mapping";

export type AddableKind = "service" | "database" | "topic" | "event-store";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});

function spec(text: string): Obj {
  return obj(obj(readDocument(text).value).spec);
}

/** A name of the form `<base>`, `<base>-2`, ... not used in `taken`. */
export function freshName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function addNode(text: string, kind: AddableKind): { text: string; id: string } {
  const s = spec(text);
  const services = Object.keys(obj(s.services));
  const owner = services[0] ?? "service";
  switch (kind) {
    case "service": {
      const name = freshName("service", services);
      const value = { replicas: 1, workers: 4, endpoints: { handle: { work: { type: "lognormal", p50: "5ms", p99: "25ms" } } } };
      return { text: setAtPath(text, ["spec", "services", name], value), id: `service:${name}` };
    }
    case "database": {
      const name = freshName("db", Object.keys(obj(s.databases)));
      return { text: setAtPath(text, ["spec", "databases", name], { engine: "postgresql", owner, pool: 10 }), id: `database:${name}` };
    }
    case "event-store": {
      const name = freshName("events", Object.keys(obj(s.eventStores)));
      return { text: setAtPath(text, ["spec", "eventStores", name], { owner }), id: `event-store:${name}` };
    }
    case "topic": {
      const brokers = Object.keys(obj(s.brokers));
      const broker = brokers[0] ?? "events";
      const topics = Object.values(obj(s.brokers)).flatMap((b) => Object.keys(obj(obj(b).topics)));
      const name = freshName("topic", topics);
      const next = brokers.length
        ? setAtPath(text, ["spec", "brokers", broker, "topics", name], { partitions: 3 })
        : setAtPath(text, ["spec", "brokers", broker], { type: "kafka", topics: { [name]: { partitions: 3 } } });
      return { text: next, id: `topic:${name}` };
    }
  }
}

export function removeNode(text: string, node: Pick<GraphNode, "kind" | "name" | "group">): string {
  if (node.kind === "client") return setAtPath(text, ["spec", "traffic", node.name], undefined);
  return setAtPath(text, nodePath(node), undefined);
}

function firstEndpoint(text: string, service: string): string | null {
  const eps = Object.keys(obj(getAtPath(text, ["spec", "services", service, "endpoints"])));
  return eps[0] ?? null;
}

/**
 * The edit that draws an edge from `source` to `target`, or a sentence saying why there is none.
 */
export function connect(text: string, source: GraphNode, target: GraphNode): { text: string } | { error: string } {
  const appendStep = (service: string, step: Obj): { text: string } | { error: string } => {
    const ep = firstEndpoint(text, service);
    if (ep === null) return { error: `${service} has no endpoint to add a step to` };
    const path = ["spec", "services", service, "endpoints", ep, "steps"];
    const steps = getAtPath(text, path);
    const list = Array.isArray(steps) ? steps : [];
    return { text: setAtPath(text, [...path, list.length], step) };
  };
  if (source.kind === "service" && target.kind === "service") {
    const ep = firstEndpoint(text, target.name);
    if (ep === null) return { error: `${target.name} has no endpoint to call` };
    return appendStep(source.name, { call: `${target.name}.${ep}` });
  }
  if (source.kind === "service" && target.kind === "database") return appendStep(source.name, { query: target.name });
  if (source.kind === "service" && target.kind === "topic") return appendStep(source.name, { publish: target.name });
  if (source.kind === "service" && target.kind === "event-store") return appendStep(source.name, { append: target.name });
  if (source.kind === "topic" && target.kind === "service" && source.group) {
    const ep = firstEndpoint(text, target.name);
    if (ep === null) return { error: `${target.name} has no endpoint to consume with` };
    const path = ["spec", "brokers", source.group, "topics", source.name, "consumers"];
    const list = getAtPath(text, path);
    return { text: setAtPath(text, [...path, Array.isArray(list) ? list.length : 0], { service: target.name, endpoint: ep }) };
  }
  if (source.kind === "gateway" && target.kind === "service") {
    const ep = firstEndpoint(text, target.name);
    if (ep === null) return { error: `${target.name} has no endpoint to route to` };
    const list = getAtPath(text, ["spec", "gateway", "routes"]);
    return { text: setAtPath(text, ["spec", "gateway", "routes", Array.isArray(list) ? list.length : 0], { path: `/${target.name}`, endpoint: `${target.name}.${ep}` }) };
  }
  return { error: `a ${source.kind} cannot be connected to a ${target.kind}` };
}

export type FaultKind = "crash" | "slow" | "outage";

/** A scenario with one fault on `service`, added to the text; returns its name. */
export function addFaultScenario(text: string, service: string, kind: FaultKind): { text: string; scenario: string } {
  const scenarios = Object.keys(obj(spec(text).scenarios));
  const scenario = freshName(`${kind}-${service}`, scenarios);
  const fault: Obj =
    kind === "crash"
      ? { type: "crash", target: service, at: "20s", duration: "40s" }
      : kind === "slow"
        ? { type: "latency", target: service, add: "300ms", at: "20s", duration: "40s" }
        : { type: "outage", target: service, at: "20s", duration: "40s" };
  const description = `${kind === "slow" ? "300ms added to" : kind === "crash" ? "Every replica of" : "No answer from"} ${service}${kind === "crash" ? " crashes" : ""} from 20s for 40s (added from the graph).`;
  return { text: setAtPath(text, ["spec", "scenarios", scenario], { description, faults: [fault] }), scenario };
}
