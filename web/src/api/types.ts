/** The shapes of docs/web-api.md, as the page reads them. */

export interface Diagnostic {
  file?: string;
  line: number;
  column: number;
  severity: "error" | "warning";
  path: string;
  message: string;
}

export interface PatternRef {
  id: string;
  why: string;
}

export interface Pattern {
  id: string;
  name: string;
  group: string;
  summary: string;
  intent?: string;
  problem?: string;
  forces?: string[];
  solution?: string;
  consequences?: string[];
  use_when?: string[];
  avoid_when?: string[];
  components?: { name: string; role: string }[];
  template?: string;
  examples?: { name: string; description: string; template?: string }[];
  language?: { path: string; meaning: string }[];
  simulation?: string[];
  generation?: { kind: string; api_version: string; detail: string }[];
  expected_metrics?: unknown[];
  related?: PatternRef[];
  limitations?: string[];
  known_uses?: string[];
}

export interface PatternGroup {
  id: string;
  title: string;
  patterns: Pattern[];
}

export interface Template {
  id: string;
  title: string;
  description: string;
  patterns: string[];
  kind?: string;
}

export interface Catalog {
  groups: PatternGroup[];
  templates: Template[];
}

export interface ArchitectureSummary {
  id: number;
  name: string;
  version: number;
  valid: boolean;
  created_at: string;
  updated_at: string;
  services: number;
  databases: number;
  traffic: number;
  scenarios: string[];
}

export interface Architecture extends ArchitectureSummary {
  latest_version: number;
  text: string;
  diagnostics: Diagnostic[];
  layout?: Layout | null;
}

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
}

export type RunState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface Progress {
  fraction: number;
  replication: number;
  replications: number;
  time: number;
  end: number;
  requests: number;
  events?: number;
  /** Sweeps: simulations finished, and in all. */
  tasks_done?: number;
  tasks?: number;
}

export interface SweepPlan {
  method: "grid" | "lhs" | "sobol";
  dimensions: { path: string; values: string[] }[];
  points: number;
  replications: number;
  tasks: number;
}

/** One row of a sweep's tidy table: point, replication, each varied path's value, the metrics. */
export type SweepRow = Record<string, string | number | null>;

/** A `point` event: a finished simulation's row with the point's settings. */
export interface SweepPointEvent {
  point: number;
  replication: number;
  settings: Record<string, string>;
  [metric: string]: unknown;
}

export interface SweepResult {
  format: "scalesim.sweep/v1";
  architecture: string;
  scenario: string | null;
  method: "grid" | "lhs" | "sobol";
  dimensions: string[];
  points: string[][];
  replications: number;
  columns: string[];
  rows: SweepRow[];
  sensitivity: Record<string, Record<string, number>>;
}

export interface Run {
  id: number;
  kind: "simulate" | "compare" | "sweep";
  state: RunState;
  source: string;
  architecture_id: number;
  version: number;
  architecture_name: string;
  compare_with: { architecture_id: number; version: number; architecture_name: string } | null;
  scenario: string | null;
  duration: number | null;
  replications: number | null;
  seed: number | null;
  estimated_requests?: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  interrupted: boolean;
  last_event: number;
  progress: Progress | null;
  sweep?: SweepPlan | null;
}

export type Num = number | null;

export interface WindowStats {
  throughput?: Num;
  count?: Num;
  errors?: Num;
  utilisation?: Num;
  queue?: Num;
  replicas?: Num;
  mean?: Num;
  p50?: Num;
  p90?: Num;
  p99?: Num;
  max?: Num;
  state?: Num;
  [column: string]: Num | undefined;
}

export interface WindowEvent {
  variant: "a" | "b" | null;
  replication: number;
  index: number;
  time: number;
  window: number;
  entries: Record<string, WindowStats>;
  services: Record<string, WindowStats>;
  clients: Record<string, WindowStats>;
  /** Per route a scenario's changes move, each target's share of its requests in the window. */
  routes?: Record<string, Record<string, number | null>>;
  [group: string]: unknown;
}

export interface TimelineEvent {
  variant: "a" | "b" | null;
  replication: number;
  time: number;
  kind: "fault" | "breaker" | "scaling" | "pod" | "rollout" | "cascade" | string;
  text: string;
  nodes?: string[];
}

export interface FileEntry {
  path: string;
  bytes: number;
}

export interface LintFinding {
  file: string;
  line?: number;
  column?: number;
  severity: string;
  rule: string;
  message: string;
}

export interface Generated {
  files: FileEntry[];
  lint: { ok: boolean; summary: string; findings: LintFinding[] };
}

export interface ValidateResult {
  valid: boolean;
  diagnostics: Diagnostic[];
}

export interface SweepRequest {
  architecture_id: number;
  version?: number;
  vary: string[];
  sample?: string | null;
  scenario?: string | null;
  duration?: string;
  replications?: number;
  seed?: number;
}

/** `POST /api/estimate`: the analytic steady state (docs/estimate.md). */
export interface Estimate {
  architecture: string;
  scenario: string | null;
  load: number;
  bottleneck: string | null;
  saturation_load: number | null;
  saturated: string[];
  entries: Record<string, { arrival_rate: number; throughput: number; error_rate: number; response_mean: number | null }>;
  stations: Record<string, { kind: string; replicas: number; servers: number; throughput: number; utilisation: number; wait_mean: number | null }>;
  /** Per consumer (tenant) the traffic sends as; absent when no source names one. */
  consumers?: Record<string, { arrival_rate: number; throughput: number; error_rate: number; response_mean: number | null }>;
  ignored: string[];
}
