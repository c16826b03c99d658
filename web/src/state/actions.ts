/**
 * Everything that changes the state: navigation, loading, the designer's edits with undo/redo,
 * validation and saving, runs and their event stream. Components call these; nothing else talks
 * to the API.
 */
import { api, ApiError, errorText } from "../api/client";
import type { Diagnostic, Estimate as DesignerEstimate, Progress, Run, SweepPointEvent, SweepRequest, TimelineEvent, WindowEvent } from "../api/types";
import type { JsonSchema } from "../form/schema";
import { addFaultScenario, type FaultKind } from "../graph/edits";
import type { Positions } from "../graph/layout";
import type { CriticalPaths } from "../results/sections";
import { readDocument } from "../yaml/sync";
import { LiveBuffer } from "./liveBuffer";
import { getState, parseRoute, routeHash, setState, updateDesigner, updateRun, updateSweep, type Route, type Snapshot } from "./store";

export function navigate(route: Route): void {
  const hash = routeHash(route);
  if (window.location.hash !== hash) window.location.hash = hash;
  else setState((s) => ({ ...s, route }));
}

export function followHash(): void {
  setState((s) => ({ ...s, route: parseRoute(window.location.hash) }));
}

export function showError(e: unknown): void {
  setState((s) => ({ ...s, error: errorText(e) }));
}

export function dismissError(): void {
  setState((s) => ({ ...s, error: null }));
}

export function notify(notice: string | null): void {
  setState((s) => ({ ...s, notice }));
}

export async function loadCatalog(): Promise<void> {
  if (getState().catalog) return;
  try {
    const catalog = await api.catalog();
    setState((s) => ({ ...s, catalog }));
  } catch (e) {
    showError(e);
  }
}

export async function loadSchema(): Promise<void> {
  if (getState().schema) return;
  try {
    const schema = (await api.schema()) as JsonSchema;
    setState((s) => ({ ...s, schema }));
  } catch (e) {
    showError(e);
  }
}

// -- designer ----------------------------------------------------------------------------------

const LAYOUT_KEY = (id: number) => `scalesim.layout.${id}`;

/** Opens a template as a new architecture in the store, then in the designer. */
export async function openTemplate(template: string, run = false): Promise<void> {
  try {
    const created = await createWithFreeName(template);
    navigate({ page: "designer", id: created.id });
    if (run) pendingRun = created.id;
  } catch (e) {
    showError(e);
  }
}

/** A new architecture named after its template: `saga`, then `saga-2`, `saga-3`, ... */
async function createWithFreeName(template: string) {
  for (let i = 1; ; i++) {
    try {
      return await api.createFromTemplate(i === 1 ? template : `${template}-${i}`, template);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "conflict" || i >= 50) throw e;
    }
  }
}

/** A run to start as soon as the designer has opened this architecture ("try it"). */
let pendingRun: number | null = null;

export async function openDesigner(id: number): Promise<boolean> {
  const d = getState().designer;
  if (d && d.id === id) return true;
  try {
    const a = await api.architecture(id);
    let positions: Positions = {};
    let layoutStore: "server" | "browser" = "server";
    if (a.layout) positions = a.layout.positions;
    else {
      try {
        positions = (await api.layout(id)).positions ?? {};
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
        layoutStore = "browser";
        positions = JSON.parse(window.localStorage.getItem(LAYOUT_KEY(id)) ?? "{}") as Positions;
      }
    }
    setState((s) => ({
      ...s,
      designer: {
        id,
        name: a.name,
        version: a.version,
        text: a.text,
        savedText: a.text,
        positions,
        layoutStore,
        diagnostics: a.diagnostics,
        syntaxErrors: readDocument(a.text).errors,
        validating: false,
        saving: false,
        undo: [],
        redo: [],
        selected: null,
        revision: 0,
        layoutMs: null,
        estimate: { value: null, problem: null, pending: false },
      },
    }));
    scheduleEstimate(0);
    if (pendingRun === id) {
      pendingRun = null;
      const scenarios = a.scenarios;
      await startRun({ scenario: scenarios[0] ?? null, replications: 1 });
    }
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

let validateTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Replaces the architecture text (from the editor, the form or the graph). `fromEditor` leaves the
 * YAML editor's own content alone; every other source bumps the revision so the editor reloads.
 */
export function editText(text: string, fromEditor = false): void {
  const d = getState().designer;
  if (!d || d.text === text) return;
  const snapshot: Snapshot = { text: d.text, positions: d.positions };
  updateDesigner((x) => ({
    ...x,
    text,
    syntaxErrors: readDocument(text).errors,
    undo: [...x.undo.slice(-199), snapshot],
    redo: [],
    revision: fromEditor ? x.revision : x.revision + 1,
  }));
  scheduleValidation();
}

function scheduleValidation(): void {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(() => void validateNow(), 350);
  scheduleEstimate();
}

// -- live estimate while editing ------------------------------------------------------------------

/** Quiet time after the last keystroke before the estimate is asked for (it takes the server a
 * few milliseconds; asking on every keystroke would only queue answers the next one outdates). */
export const ESTIMATE_DEBOUNCE_MS = 600;
let estimateTimer: ReturnType<typeof setTimeout> | undefined;

export function scheduleEstimate(delay = ESTIMATE_DEBOUNCE_MS): void {
  clearTimeout(estimateTimer);
  updateDesigner((x) => (x.estimate.pending ? x : { ...x, estimate: { ...x.estimate, pending: true } }));
  estimateTimer = setTimeout(() => void estimateNow(), delay);
}

/** The analytic steady state of the text as it is now; a stale answer (the text changed while it
 * was asked) is dropped, the newer request will answer. */
export async function estimateNow(): Promise<void> {
  const d = getState().designer;
  if (!d) return;
  const text = d.text;
  const apply = (est: { value: DesignerEstimate | null; problem: string | null }) =>
    updateDesigner((x) => (x.text === text ? { ...x, estimate: { ...est, pending: false } } : x));
  if (readDocument(text).errors.length > 0) {
    apply({ value: null, problem: "The YAML does not parse; fix it for an estimate." });
    return;
  }
  try {
    apply({ value: await api.estimate(text), problem: null });
  } catch (e) {
    if (e instanceof ApiError && e.code === "invalid_architecture") {
      const n = ((e.details.diagnostics as Diagnostic[] | undefined) ?? []).filter((x) => x.severity === "error").length;
      apply({ value: null, problem: `No estimate while the architecture has ${n || "some"} error${n === 1 ? "" : "s"}.` });
    } else apply({ value: null, problem: errorText(e) });
  }
}

export async function validateNow(): Promise<void> {
  const d = getState().designer;
  if (!d) return;
  const text = d.text;
  if (readDocument(text).errors.length > 0) {
    updateDesigner((x) => ({ ...x, diagnostics: [] }));
    return;
  }
  updateDesigner((x) => ({ ...x, validating: true }));
  try {
    const r = await api.validate(text);
    updateDesigner((x) => (x.text === text ? { ...x, diagnostics: r.diagnostics, validating: false } : { ...x, validating: false }));
  } catch (e) {
    updateDesigner((x) => ({ ...x, validating: false }));
    showError(e);
  }
}

export function undo(): void {
  const d = getState().designer;
  const prev = d?.undo.at(-1);
  if (!d || !prev) return;
  updateDesigner((x) => ({
    ...x,
    text: prev.text,
    positions: prev.positions,
    syntaxErrors: readDocument(prev.text).errors,
    undo: x.undo.slice(0, -1),
    redo: [...x.redo, { text: x.text, positions: x.positions }],
    revision: x.revision + 1,
  }));
  persistLayout();
  scheduleValidation();
}

export function redo(): void {
  const d = getState().designer;
  const next = d?.redo.at(-1);
  if (!d || !next) return;
  updateDesigner((x) => ({
    ...x,
    text: next.text,
    positions: next.positions,
    syntaxErrors: readDocument(next.text).errors,
    redo: x.redo.slice(0, -1),
    undo: [...x.undo, { text: x.text, positions: x.positions }],
    revision: x.revision + 1,
  }));
  persistLayout();
  scheduleValidation();
}

export function select(id: string | null): void {
  updateDesigner((x) => (x.selected === id ? x : { ...x, selected: id }));
}

/** Positions from the automatic layout: not an edit of the user's, so no undo entry. */
export function setAutoPositions(positions: Positions, ms: number | null): void {
  if (ms !== null) {
    window.__scalesim ??= { charts: {} };
    window.__scalesim.layoutMs = ms;
  }
  updateDesigner((x) => ({ ...x, positions, layoutMs: ms ?? x.layoutMs }));
  persistLayout();
}

/** The user dragged nodes: kept, undoable, saved with the architecture. */
export function moveNodes(moved: Positions): void {
  updateDesigner((x) => ({
    ...x,
    undo: [...x.undo.slice(-199), { text: x.text, positions: x.positions }],
    redo: [],
    positions: { ...x.positions, ...moved },
  }));
  persistLayout();
}

let layoutTimer: ReturnType<typeof setTimeout> | undefined;

function persistLayout(): void {
  clearTimeout(layoutTimer);
  layoutTimer = setTimeout(() => void saveLayoutNow(), 300);
}

export async function saveLayoutNow(): Promise<void> {
  const d = getState().designer;
  if (!d) return;
  if (d.layoutStore === "browser") {
    window.localStorage.setItem(LAYOUT_KEY(d.id), JSON.stringify(d.positions));
    return;
  }
  try {
    await api.saveLayout(d.id, { positions: d.positions });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
      updateDesigner((x) => ({ ...x, layoutStore: "browser" }));
      window.localStorage.setItem(LAYOUT_KEY(d.id), JSON.stringify(d.positions));
    } else showError(e);
  }
}

/** Stores the text as a new version; returns it, or null when saving failed (said in the banner). */
export async function save(): Promise<number | null> {
  const d = getState().designer;
  if (!d) return null;
  if (d.text === d.savedText) return d.version;
  updateDesigner((x) => ({ ...x, saving: true }));
  try {
    const a = await api.save(d.id, d.text);
    updateDesigner((x) => ({ ...x, version: a.version, savedText: d.text, diagnostics: x.text === d.text ? a.diagnostics : x.diagnostics, saving: false }));
    return a.version;
  } catch (e) {
    updateDesigner((x) => ({ ...x, saving: false }));
    showError(e);
    return null;
  }
}

export function errorsOf(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === "error");
}

// -- runs ---------------------------------------------------------------------------------------

export interface RunOptions {
  scenario: string | null;
  /** Simulated time per replication; undefined runs the file's own `simulation.duration`. */
  duration?: string;
  replications: number;
}

export async function startRun(opts: RunOptions): Promise<void> {
  const d = getState().designer;
  if (!d) return;
  const version = await save();
  if (version === null) return;
  const errs = errorsOf(getState().designer?.diagnostics ?? []);
  if (errs.length > 0) {
    showError(`The architecture has ${errs.length} error${errs.length === 1 ? "" : "s"}; fix ${errs.length === 1 ? "it" : "them"} before running (first: line ${errs[0]?.line}: ${errs[0]?.message}).`);
    return;
  }
  try {
    const run = await api.startRun({
      architecture_id: d.id,
      version,
      scenario: opts.scenario,
      duration: opts.duration,
      replications: opts.replications,
    });
    navigate({ page: "run", id: run.id });
  } catch (e) {
    showError(e);
  }
}

/** Adds a one-fault scenario on a service and runs it. */
export async function runFault(service: string, kind: FaultKind, duration = "90s"): Promise<void> {
  const d = getState().designer;
  if (!d) return;
  const { text, scenario } = addFaultScenario(d.text, service, kind);
  editText(text);
  await startRun({ scenario, duration, replications: 1 });
}

let source: EventSource | null = null;
let live: LiveBuffer | null = null;

export function closeRunStream(): void {
  source?.close();
  source = null;
  live?.close();
  live = null;
}

export async function openRun(id: number): Promise<boolean> {
  const current = getState().run;
  if (current && current.run.id === id) return true;
  closeRunStream();
  try {
    const run = await api.run(id);
    if (run.kind === "sweep") {
      navigate({ page: "sweep", id });
      return true;
    }
    setState((s) => ({ ...s, run: { run, windows: [], progressLog: [], timeline: [], result: null, cascade: null, traces: null, estimate: null, scrub: null, streamError: null } }));
    if (getState().designer?.id !== run.architecture_id) await openDesigner(run.architecture_id);
    connect(id);
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

function connect(id: number): void {
  const es = new EventSource(api.eventsUrl(id));
  source = es;
  const mine = () => getState().run?.run.id === id;
  const data = <T,>(ev: Event): T => JSON.parse((ev as MessageEvent<string>).data) as T;
  // Progress, windows and timeline events reach the state in batches (see LiveBuffer); anything
  // else first hands over what is pending, so the order of events is kept.
  const buffer = new LiveBuffer((b) => {
    if (!mine()) return;
    const p = b.progress.at(-1);
    updateRun((r) => ({
      ...r,
      windows: b.windows.length ? r.windows.concat(b.windows) : r.windows,
      timeline: b.timeline.length ? r.timeline.concat(b.timeline) : r.timeline,
      progressLog: b.progress.length ? r.progressLog.concat(b.progress) : r.progressLog,
      run: p ? { ...r.run, state: r.run.state === "queued" ? "running" : r.run.state, progress: p } : r.run,
    }));
  });
  live = buffer;
  es.addEventListener("progress", (ev) => {
    if (mine()) buffer.progress(data<Progress>(ev));
  });
  es.addEventListener("window", (ev) => {
    if (mine()) buffer.window(data<WindowEvent>(ev));
  });
  es.addEventListener("timeline", (ev) => {
    if (mine()) buffer.timeline(data<TimelineEvent>(ev));
  });
  es.addEventListener("traces", (ev) => {
    if (!mine()) return;
    buffer.flush();
    const traces = data<CriticalPaths>(ev);
    updateRun((r) => ({ ...r, traces }));
  });
  es.addEventListener("state", (ev) => {
    if (!mine()) return;
    buffer.flush();
    const st = data<{ state: Run["state"]; error?: string }>(ev);
    updateRun((r) => ({ ...r, run: { ...r.run, state: st.state, error: st.error ?? r.run.error } }));
    if (st.state === "done" || st.state === "failed" || st.state === "cancelled") {
      es.close();
      void finishRun(id);
    }
  });
  es.onerror = () => {
    if (!mine()) return;
    const st = getState().run?.run.state;
    if (st === "done" || st === "failed" || st === "cancelled") return;
    updateRun((r) => ({ ...r, streamError: "The live stream was interrupted; the browser is reconnecting." }));
  };
  es.onopen = () => {
    if (mine()) updateRun((r) => ({ ...r, streamError: null }));
  };
}

async function finishRun(id: number): Promise<void> {
  try {
    const run = await api.run(id);
    updateRun((r) => ({ ...r, run }));
    if (run.state !== "done") return;
    const result = await api.result(id);
    const first = (result.runs as { cascade?: { origin?: string | null; path?: string[]; cascade?: boolean } }[] | undefined)?.[0]?.cascade;
    // Highlighted only when the run found a real cascade (a chain of two parts or more).
    updateRun((r) => ({ ...r, result, cascade: first?.cascade ? { origin: first.origin ?? null, path: first.path ?? [] } : r.cascade }));
    if (run.kind === "simulate") void estimateRun(run);
  } catch (e) {
    showError(e);
  }
}

/** The estimate of the run's own version under its scenario; a run without one shows none. */
async function estimateRun(run: Run): Promise<void> {
  try {
    const version = await api.version(run.architecture_id, run.version);
    const estimate = await api.estimate(version.text, run.scenario);
    updateRun((r) => (r.run.id === run.id ? { ...r, estimate } : r));
  } catch {
    // The estimate is a comparison aid: an architecture it cannot read simply has none.
  }
}

export async function cancelRun(): Promise<void> {
  const r = getState().run;
  if (!r) return;
  try {
    const run = await api.cancel(r.run.id);
    updateRun((x) => ({ ...x, run }));
  } catch (e) {
    showError(e);
  }
}

export function scrubTo(index: number | null): void {
  updateRun((r) => ({ ...r, scrub: index }));
}

// -- sweeps -----------------------------------------------------------------------------------------

/** Saves the designer's text and queues a sweep of that version; a refusal is kept on the form. */
export async function startSweep(body: Omit<SweepRequest, "architecture_id" | "version">, archId: number): Promise<void> {
  setState((s) => ({ ...s, sweepError: null }));
  let version: number | undefined;
  if (getState().designer?.id === archId) {
    const v = await save();
    if (v === null) return;
    version = v;
  }
  try {
    const run = await api.startSweep({ ...body, architecture_id: archId, version });
    navigate({ page: "sweep", id: run.id });
  } catch (e) {
    const field = e instanceof ApiError && typeof e.details.field === "string" ? e.details.field : e instanceof ApiError && typeof e.details.limit === "string" ? e.details.limit : null;
    setState((s) => ({ ...s, sweepError: { field, message: errorText(e) } }));
  }
}

let sweepSource: EventSource | null = null;

export function closeSweepStream(): void {
  sweepSource?.close();
  sweepSource = null;
}

export async function openSweep(id: number): Promise<boolean> {
  if (getState().sweep?.run.id === id) return true;
  closeSweepStream();
  try {
    const run = await api.run(id);
    if (run.kind !== "sweep") {
      // A run's number typed into a sweep's address: open it where runs are shown.
      navigate(run.kind === "compare" ? { page: "compare" } : { page: "run", id });
      return true;
    }
    setState((s) => ({ ...s, sweep: { run, points: [], result: null, streamError: null } }));
    const es = new EventSource(api.eventsUrl(id));
    sweepSource = es;
    const mine = () => getState().sweep?.run.id === id;
    const data = <T,>(ev: Event): T => JSON.parse((ev as MessageEvent<string>).data) as T;
    es.addEventListener("progress", (ev) => {
      if (!mine()) return;
      const p = data<Progress>(ev);
      updateSweep((r) => ({ ...r, run: { ...r.run, state: r.run.state === "queued" ? "running" : r.run.state, progress: p } }));
    });
    es.addEventListener("point", (ev) => {
      if (!mine()) return;
      const p = data<SweepPointEvent>(ev);
      updateSweep((r) => ({ ...r, points: [...r.points, p] }));
    });
    es.addEventListener("state", (ev) => {
      if (!mine()) return;
      const st = data<{ state: Run["state"]; error?: string }>(ev);
      updateSweep((r) => ({ ...r, run: { ...r.run, state: st.state, error: st.error ?? r.run.error } }));
      if (st.state === "done" || st.state === "failed" || st.state === "cancelled") {
        es.close();
        void finishSweep(id);
      }
    });
    es.onerror = () => {
      if (!mine()) return;
      const st = getState().sweep?.run.state;
      if (st === "done" || st === "failed" || st === "cancelled") return;
      updateSweep((r) => ({ ...r, streamError: "The live stream was interrupted; the browser is reconnecting." }));
    };
    es.onopen = () => {
      if (mine()) updateSweep((r) => ({ ...r, streamError: null }));
    };
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

async function finishSweep(id: number): Promise<void> {
  try {
    const run = await api.run(id);
    updateSweep((r) => ({ ...r, run }));
    if (run.state !== "done") return;
    const result = await api.sweepResult(id);
    if (result.format === "scalesim.sweep/v1") updateSweep((r) => ({ ...r, result }));
  } catch (e) {
    showError(e);
  }
}

export async function cancelSweep(): Promise<void> {
  const r = getState().sweep;
  if (!r) return;
  try {
    const run = await api.cancel(r.run.id);
    updateSweep((x) => ({ ...x, run }));
  } catch (e) {
    showError(e);
  }
}
