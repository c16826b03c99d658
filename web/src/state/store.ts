/**
 * The page's state, in one place. Components read slices with `useStore(select)` and change it
 * only through the actions in ./actions.ts, so what the screen shows always follows one object.
 */
import { useSyncExternalStore } from "react";
import type { Catalog, Diagnostic, Estimate, Progress, Run, SweepPointEvent, SweepResult, TimelineEvent, WindowEvent } from "../api/types";
import type { JsonSchema } from "../form/schema";
import type { Positions } from "../graph/layout";
import type { LocalDiagnostic } from "../yaml/sync";
import type { CriticalPaths } from "../results/sections";

export type Route =
  | { page: "catalog" }
  | { page: "pattern"; id: string }
  | { page: "designer"; id: number }
  | { page: "run"; id: number }
  | { page: "compare" }
  | { page: "sweep-new"; arch: number }
  | { page: "sweep"; id: number }
  | { page: "generate"; id: number; version: number | null }
  | { page: "history" };

export interface Snapshot {
  text: string;
  positions: Positions;
}

export interface DesignerState {
  id: number;
  name: string;
  version: number;
  text: string;
  savedText: string;
  positions: Positions;
  /** Where the positions live: the server's layout route, or this browser until it has one. */
  layoutStore: "server" | "browser";
  diagnostics: Diagnostic[];
  syntaxErrors: LocalDiagnostic[];
  validating: boolean;
  saving: boolean;
  undo: Snapshot[];
  redo: Snapshot[];
  selected: string | null;
  /** Bumped when the text changes from outside the YAML editor (form, graph, undo). */
  revision: number;
  layoutMs: number | null;
  /** The analytic estimate of the text being edited (null until the first one answers). */
  estimate: EstimateView;
}

export interface EstimateView {
  value: Estimate | null;
  /** Why there is no estimate for the current text (errors in it, the server refused). */
  problem: string | null;
  pending: boolean;
}

export interface SweepView {
  run: Run;
  /** Finished simulations as their `point` events arrive, in arrival order. */
  points: SweepPointEvent[];
  result: SweepResult | null;
  streamError: string | null;
}

/** The sweep form's last refusal, on the field the server named (`vary[1]`, `sample`, ...). */
export interface SweepFormError {
  field: string | null;
  message: string;
}

export interface CascadeView {
  origin: string | null;
  path: string[];
}

export interface RunView {
  run: Run;
  windows: WindowEvent[];
  /** Every progress event, for the live request-rate chart while windows are not in yet. */
  progressLog: Progress[];
  timeline: TimelineEvent[];
  result: Record<string, unknown> | null;
  cascade: CascadeView | null;
  /** The critical-path summary of the run's sampled traces (its `traces` event), when traced. */
  traces: CriticalPaths | null;
  /** The analytic estimate of the run's version and scenario, beside its result. */
  estimate: Estimate | null;
  /** Window index the scrubber shows; null follows the latest. */
  scrub: number | null;
  streamError: string | null;
}

export interface State {
  route: Route;
  catalog: Catalog | null;
  schema: JsonSchema | null;
  designer: DesignerState | null;
  run: RunView | null;
  sweep: SweepView | null;
  sweepError: SweepFormError | null;
  /** The last failure, in words, shown in the banner until dismissed. */
  error: string | null;
  notice: string | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("?")[0]!.split("/").filter(Boolean).map(decodeURIComponent);
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);
  switch (parts[0]) {
    case "patterns":
      return parts[1] ? { page: "pattern", id: parts[1] } : { page: "catalog" };
    case "designer": {
      const id = num(parts[1]);
      return id === null ? { page: "history" } : { page: "designer", id };
    }
    case "runs": {
      const id = num(parts[1]);
      return id === null ? { page: "history" } : { page: "run", id };
    }
    case "sweeps": {
      if (parts[1] === "new") {
        const arch = num(parts[2]);
        return arch === null ? { page: "history" } : { page: "sweep-new", arch };
      }
      const id = num(parts[1]);
      return id === null ? { page: "history" } : { page: "sweep", id };
    }
    case "compare":
      return { page: "compare" };
    case "generate": {
      const id = num(parts[1]);
      return id === null ? { page: "history" } : { page: "generate", id, version: num(parts[2]) };
    }
    case "history":
      return { page: "history" };
    default:
      return { page: "catalog" };
  }
}

export function routeHash(r: Route): string {
  switch (r.page) {
    case "catalog":
      return "#/catalog";
    case "pattern":
      return `#/patterns/${encodeURIComponent(r.id)}`;
    case "designer":
      return `#/designer/${r.id}`;
    case "run":
      return `#/runs/${r.id}`;
    case "compare":
      return "#/compare";
    case "sweep-new":
      return `#/sweeps/new/${r.arch}`;
    case "sweep":
      return `#/sweeps/${r.id}`;
    case "generate":
      return `#/generate/${r.id}${r.version === null ? "" : `/${r.version}`}`;
    case "history":
      return "#/history";
  }
}

let state: State = {
  route: parseRoute(typeof window === "undefined" ? "" : window.location.hash),
  catalog: null,
  schema: null,
  designer: null,
  run: null,
  sweep: null,
  sweepError: null,
  error: null,
  notice: null,
};
const listeners = new Set<() => void>();

export function getState(): State {
  return state;
}

export function setState(update: (s: State) => State): void {
  const next = update(state);
  if (next === state) return;
  state = next;
  for (const l of listeners) l();
}

export function updateDesigner(update: (d: DesignerState) => DesignerState): void {
  setState((s) => (s.designer ? { ...s, designer: update(s.designer) } : s));
}

export function updateSweep(update: (r: SweepView) => SweepView): void {
  setState((s) => (s.sweep ? { ...s, sweep: update(s.sweep) } : s));
}

export function updateRun(update: (r: RunView) => RunView): void {
  setState((s) => (s.run ? { ...s, run: update(s.run) } : s));
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useStore<T>(select: (s: State) => T): T {
  return useSyncExternalStore(subscribe, () => select(state), () => select(state));
}

/** For tests: start from a clean state. */
export function resetState(partial: Partial<State> = {}): void {
  state = { route: { page: "catalog" }, catalog: null, schema: null, designer: null, run: null, sweep: null, sweepError: null, error: null, notice: null, ...partial };
  for (const l of listeners) l();
}
