/**
 * The page's only way to the server. Every failure becomes an `ApiError` whose `message` is a
 * sentence a person can act on (the server's own message when it sent one), so no screen is ever
 * left blank by a failed request.
 */
import type {
  Architecture,
  ArchitectureSummary,
  Catalog,
  Generated,
  Layout,
  Pattern,
  Estimate,
  Run,
  SweepRequest,
  SweepResult,
  Template,
  ValidateResult,
} from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const STATUS_WORDS: Record<number, string> = {
  400: "The server could not read the request.",
  401: "The server needs an access token.",
  403: "The server refused the request.",
  404: "The server does not know this item.",
  409: "That conflicts with the current state.",
  413: "The request is too large.",
  422: "The server could not accept these values.",
  429: "The server is busy: its run queue is full. Try again in a moment.",
  500: "The server hit an internal error.",
  502: "The server is not reachable.",
  503: "The server is not ready.",
};

function token(): string | null {
  return new URLSearchParams(window.location.search).get("token");
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  } catch {
    throw new ApiError("The server does not answer. Is `scalesim serve` running?", 0, "network");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
    const message = err?.message ? sentence(err.message) : (STATUS_WORDS[res.status] ?? `The server answered ${res.status}.`);
    throw new ApiError(message, res.status, err?.code ?? "http", err?.details ?? {});
  }
  return data as T;
}

function sentence(s: string): string {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

/** A URL the browser opens itself (zip download, event stream), with the token when there is one. */
export function withToken(path: string): string {
  const t = token();
  return t ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(t)}` : path;
}

const arch = (id: number) => `/api/architectures/${id}`;
const ver = (id: number, v: number) => `${arch(id)}/versions/${v}`;

export const api = {
  catalog: () => request<Catalog>("GET", "/api/catalog"),
  pattern: (id: string) => request<{ pattern: Pattern; topology: unknown }>("GET", `/api/catalog/patterns/${encodeURIComponent(id)}`),
  template: (id: string) => request<{ template: Template; text: string; topology: unknown }>("GET", `/api/catalog/templates/${encodeURIComponent(id)}`),
  schema: () => request<Record<string, unknown>>("GET", "/api/schema"),
  validate: (text: string) => request<ValidateResult>("POST", "/api/validate", { text }),

  architectures: () => request<ArchitectureSummary[]>("GET", "/api/architectures"),
  createFromTemplate: (name: string, template: string, sets: string[] = []) =>
    request<Architecture>("POST", "/api/architectures", { name, template, sets }),
  createFromText: (name: string, text: string) => request<Architecture>("POST", "/api/architectures", { name, text }),
  architecture: (id: number) => request<Architecture>("GET", arch(id)),
  version: (id: number, v: number) => request<Architecture>("GET", ver(id, v)),
  save: (id: number, text: string) => request<Architecture>("PUT", arch(id), { text }),
  rename: (id: number, name: string) => request<Architecture>("PATCH", arch(id), { name }),
  remove: (id: number) => request<void>("DELETE", arch(id)),
  layout: (id: number) => request<Layout>("GET", `${arch(id)}/layout`),
  saveLayout: (id: number, layout: Layout) => request<Layout>("PUT", `${arch(id)}/layout`, layout),

  generated: (id: number, v: number) => request<Generated>("GET", `${ver(id, v)}/generate`),
  generatedFile: (id: number, v: number, path: string) =>
    request<{ path: string; text: string }>("GET", `${ver(id, v)}/generate/file?path=${encodeURIComponent(path)}`),
  zipUrl: (id: number, v: number) => withToken(`${ver(id, v)}/generate.zip`),

  runs: (query: { architecture_id?: number; state?: string; kind?: string; limit?: number } = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    return request<Run[]>("GET", `/api/runs${q.size ? `?${q}` : ""}`);
  },
  run: (id: number) => request<Run>("GET", `/api/runs/${id}`),
  result: (id: number) => request<Record<string, unknown>>("GET", `/api/runs/${id}/result`),
  startRun: (body: { architecture_id: number; version?: number; scenario?: string | null; duration?: string; replications?: number; seed?: number }) =>
    request<Run>("POST", "/api/runs", body),
  startCompare: (body: {
    a: { architecture_id: number; version?: number };
    b: { architecture_id: number; version?: number };
    scenario?: string | null;
    duration?: string;
    replications?: number;
    seed?: number;
  }) => request<Run>("POST", "/api/compare", body),
  startSweep: (body: SweepRequest) => request<Run>("POST", "/api/sweeps", body),
  sweepResult: (id: number) => request<SweepResult>("GET", `/api/runs/${id}/result`),
  estimate: (text: string, scenario: string | null = null) => request<Estimate>("POST", "/api/estimate", { text, scenario }),
  cancel: (id: number) => request<Run>("POST", `/api/runs/${id}/cancel`),
  eventsUrl: (id: number) => withToken(`/api/runs/${id}/events`),
};

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const d = e.details;
    if (typeof d.limit === "string" && d.maximum !== undefined) {
      return `${e.message} (limit ${d.limit}: asked ${String(d.value)}, at most ${String(d.maximum)})`;
    }
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
