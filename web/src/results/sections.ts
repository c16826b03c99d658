/**
 * Readers of the result sections the run view draws beside its charts (docs/results-format.md):
 * each returns plain rows, or an empty list when the run does not have the section, so every
 * component shows itself only when its section is there.
 */

export type Result = Record<string, unknown>;

interface RunPart {
  replication?: number;
  cpu?: Record<string, CpuEntry>;
  caches?: Record<string, CacheEntry>;
  sessions?: Record<string, SessionEntry>;
  changes?: ChangesEntry;
  resilience?: { rate_limits?: RateLimitEntry[] };
  timeseries?: { time?: number[] };
}

interface CpuEntry {
  cores: number;
  used: number;
  utilisation: number;
  throttled: number;
}

interface CacheEntry {
  lookups: number;
  hits: number;
  misses: number;
  errors: number;
  hit_ratio: number | null;
  throughput: number;
  series?: { lookups?: (number | null)[]; hit_ratio?: (number | null)[]; errors?: (number | null)[] };
}

interface SessionEntry {
  started: number;
  completed: number;
  steps: { name: string; requests: number; failed: number; per_session: number | null }[];
}

export interface ChangesEntry {
  log: [number, number, string, string, string][];
  routes: Record<string, { targets: string[]; share: Record<string, (number | null)[]>; weight: Record<string, (number | null)[]> }>;
}

interface RateLimitEntry {
  scope: string;
  replica: number | null;
  allowed: number;
  rejected: number;
}

function runs(result: Result | null): RunPart[] {
  const r = result?.runs;
  return Array.isArray(r) ? (r as RunPart[]) : [];
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Means over replications of the numbers under `section[name][field]`, names in first-seen order. */
function perName<T extends object>(parts: (Record<string, T> | undefined)[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const p of parts) {
    if (!p) continue;
    for (const [name, v] of Object.entries(p)) {
      const list = out.get(name) ?? [];
      list.push(v);
      out.set(name, list);
    }
  }
  return out;
}

// -- the brief's figures (`brief`) ----------------------------------------------------------------

export interface BriefRow {
  pattern: string;
  figure: string;
  expectation: string;
  measured: number | null;
  half_width: number | null;
  unit: string;
  verdict: string;
  note: string;
}

export function briefRows(result: Result | null): BriefRow[] {
  const b = result?.brief;
  return Array.isArray(b) ? (b as BriefRow[]) : [];
}

// -- CPU per service (`runs[i].cpu`) ---------------------------------------------------------------

export interface CpuRow {
  service: string;
  cores: number;
  used: number;
  utilisation: number;
  throttled: number;
}

/** One row per service that models its CPU, each figure the mean over replications. */
export function cpuRows(result: Result | null): CpuRow[] {
  return [...perName(runs(result).map((r) => r.cpu)).entries()].map(([service, xs]) => ({
    service,
    cores: mean(xs.map((x) => x.cores)),
    used: mean(xs.map((x) => x.used)),
    utilisation: mean(xs.map((x) => x.utilisation)),
    throttled: mean(xs.map((x) => x.throttled)),
  }));
}

// -- caches (`runs[i].caches`) ---------------------------------------------------------------------

export interface CacheRow {
  cache: string;
  lookups: number;
  hits: number;
  misses: number;
  errors: number;
  /** Hits over lookups of all replications together (not a mean of ratios). */
  hitRatio: number | null;
  /** Reads the store took for the cache: misses plus lookups that failed (cache down). */
  storeReads: number;
}

export function cacheRows(result: Result | null): CacheRow[] {
  return [...perName(runs(result).map((r) => r.caches)).entries()].map(([cache, xs]) => {
    const lookups = xs.reduce((a, x) => a + x.lookups, 0);
    const hits = xs.reduce((a, x) => a + x.hits, 0);
    const misses = xs.reduce((a, x) => a + x.misses, 0);
    const errors = xs.reduce((a, x) => a + x.errors, 0);
    const n = xs.length;
    return { cache, lookups: lookups / n, hits: hits / n, misses: misses / n, errors: errors / n, hitRatio: lookups > 0 ? hits / lookups : null, storeReads: (misses + errors) / n };
  });
}

/** Replication 0's hit ratio per window, one series per cache, for the chart. */
export function cacheSeries(result: Result | null): { time: number[]; series: { label: string; values: (number | null)[] }[] } {
  const first = runs(result)[0];
  const time = first?.timeseries?.time ?? [];
  const series = Object.entries(first?.caches ?? {}).map(([name, c]) => ({ label: name, values: c.series?.hit_ratio ?? [] }));
  return { time, series };
}

// -- sessions (`runs[i].sessions`) -----------------------------------------------------------------

export interface SessionRow {
  source: string;
  started: number;
  completed: number;
  steps: { name: string; requests: number; failed: number; perSession: number | null }[];
}

export function sessionRows(result: Result | null): SessionRow[] {
  return [...perName(runs(result).map((r) => r.sessions)).entries()].map(([source, xs]) => {
    const names = xs[0]?.steps.map((s) => s.name) ?? [];
    return {
      source,
      started: mean(xs.map((x) => x.started)),
      completed: mean(xs.map((x) => x.completed)),
      steps: names.map((name) => {
        const of = xs.map((x) => x.steps.find((s) => s.name === name));
        const per = of.map((s) => s?.per_session).filter((v): v is number => typeof v === "number");
        return {
          name,
          requests: mean(of.map((s) => s?.requests ?? 0)),
          failed: mean(of.map((s) => s?.failed ?? 0)),
          perSession: per.length ? mean(per) : null,
        };
      }),
    };
  });
}

// -- scheduled changes (`runs[i].changes`) ---------------------------------------------------------

export interface ChangeLogRow {
  time: number;
  type: string;
  target: string;
  what: string;
}

/** Replication 0's log and its per-route shares (one value per window). */
export function changesOf(result: Result | null): { log: ChangeLogRow[]; time: number[]; routes: { route: string; shares: { label: string; values: (number | null)[] }[] }[] } | null {
  const first = runs(result)[0];
  const c = first?.changes;
  if (!c) return null;
  return {
    log: c.log.map(([time, , type, target, what]) => ({ time, type, target, what })),
    time: first.timeseries?.time ?? [],
    routes: Object.entries(c.routes).map(([route, r]) => ({
      route,
      shares: r.targets.map((t) => ({ label: t, values: r.share[t] ?? [] })),
    })),
  };
}

// -- consumers and tenants: rate limits and bulkheads ----------------------------------------------

export interface LimitRow {
  scope: string;
  allowed: number;
  rejected: number;
  /** Rejected over allowed + rejected. */
  share: number;
}

/** Rate limiters summed over their replicas (a local policy has one per gateway replica). */
export function rateLimitRows(result: Result | null): LimitRow[] {
  const parts = runs(result);
  const sums = new Map<string, { allowed: number; rejected: number }>();
  for (const r of parts) {
    for (const l of r.resilience?.rate_limits ?? []) {
      const s = sums.get(l.scope) ?? { allowed: 0, rejected: 0 };
      s.allowed += l.allowed;
      s.rejected += l.rejected;
      sums.set(l.scope, s);
    }
  }
  const n = Math.max(1, parts.length);
  return [...sums.entries()].map(([scope, s]) => ({
    scope,
    allowed: s.allowed / n,
    rejected: s.rejected / n,
    share: s.allowed + s.rejected > 0 ? s.rejected / (s.allowed + s.rejected) : 0,
  }));
}

export interface BulkheadRow {
  client: string;
  calls: number;
  rejected: number;
  fallbacks: number;
}

/** Clients whose bulkhead refused calls (summary means over replications). */
export function bulkheadRows(result: Result | null): BulkheadRow[] {
  const clients = (result?.summary as { clients?: Record<string, Record<string, { mean: number | null } | undefined>> } | undefined)?.clients ?? {};
  const v = (x: { mean: number | null } | undefined) => x?.mean ?? 0;
  return Object.entries(clients)
    .map(([client, c]) => ({ client, calls: v(c.calls), rejected: v(c.bulkhead_full), fallbacks: v(c.fallbacks) }))
    .filter((r) => r.rejected > 0);
}

// -- traces' critical path (the run's `traces` event) ----------------------------------------------

export interface CriticalPart {
  hop: string;
  cause: string;
  ms: number;
  share: number;
}

export interface CriticalBand {
  latency_ms: number;
  traces: number;
  parts: CriticalPart[];
}

export interface CriticalPaths {
  message: string;
  entries: { entry: string; traces: number; p50: CriticalBand; p99: CriticalBand }[];
}
