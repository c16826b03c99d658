/**
 * Form fields generated from the architecture's JSON Schema (the one `scalesim schema` prints and
 * the server serves): the side panel never hard-codes a field, so a field added to the model
 * appears in the form by itself. Values stay in the units the file writes (`250ms`, `500/s`),
 * checked against the schema's own patterns and bounds as the user types.
 */

export type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  title?: string;
  default?: unknown;
  examples?: unknown[];
  required?: string[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
};

export type FieldKind = "integer" | "number" | "text" | "boolean" | "choice" | "object" | "complex";

export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  nullable: boolean;
  choices: string[];
  /** Also accepts a string with a unit: `250ms`, `500/s`, `256Mi`. */
  unitPattern: string | null;
  minimum: number | null;
  maximum: number | null;
  exclusiveMinimum: number | null;
  exclusiveMaximum: number | null;
  description: string;
  placeholder: string;
  /** The fields of a plain nested object (`resources`: cpu, memory), one level down. */
  children: FieldSpec[];
}

export function deref(root: JsonSchema, s: JsonSchema | undefined): JsonSchema {
  let cur = s ?? {};
  for (let i = 0; i < 20 && cur.$ref; i++) {
    const name = cur.$ref.replace(/^#\/\$defs\//, "");
    cur = root.$defs?.[name] ?? {};
  }
  return cur;
}

/** The variants of a union, without `null`, dereferenced. */
function variants(root: JsonSchema, s: JsonSchema): { options: JsonSchema[]; nullable: boolean } {
  const d = deref(root, s);
  const list = d.anyOf ?? (d.oneOf && !d.discriminator ? d.oneOf : undefined);
  if (!list) return { options: [d], nullable: false };
  const options: JsonSchema[] = [];
  let nullable = false;
  for (const v of list) {
    const r = deref(root, v);
    if (r.type === "null") nullable = true;
    else options.push(r);
  }
  return { options, nullable };
}

/** The schema of the value found at `path` in an architecture document. */
export function schemaAt(root: JsonSchema, path: readonly (string | number)[]): JsonSchema | null {
  let cur: JsonSchema = deref(root, root);
  for (const part of path) {
    const { options } = variants(root, cur);
    let next: JsonSchema | undefined;
    for (const o of options) {
      if (typeof part === "number") next = o.items;
      else
        next =
          o.properties?.[part] ??
          Object.entries(o.patternProperties ?? {}).find(([re]) => new RegExp(re).test(part))?.[1] ??
          (typeof o.additionalProperties === "object" ? o.additionalProperties : undefined);
      if (next) break;
    }
    if (!next) return null;
    cur = deref(root, next);
  }
  return cur;
}

function humanise(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[-_]/g, " ").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fieldOf(root: JsonSchema, key: string, raw: JsonSchema, required: boolean, depth: number): FieldSpec {
  const { options, nullable } = variants(root, raw);
  const outer = deref(root, raw);
  const base: FieldSpec = {
    key,
    label: humanise(key),
    kind: "complex",
    required,
    nullable,
    choices: [],
    unitPattern: null,
    minimum: null,
    maximum: null,
    exclusiveMinimum: null,
    exclusiveMaximum: null,
    description: (outer.description ?? options.find((o) => o.description)?.description ?? "").trim(),
    placeholder: outer.default !== undefined && outer.default !== null && typeof outer.default !== "object" ? String(outer.default) : "",
    children: [],
  };
  const types = options.map((o) => (Array.isArray(o.type) ? o.type[0] : o.type));
  const bounds = (o: JsonSchema | undefined): Partial<FieldSpec> => ({
    minimum: o?.minimum ?? null,
    maximum: o?.maximum ?? null,
    exclusiveMinimum: o?.exclusiveMinimum ?? null,
    exclusiveMaximum: o?.exclusiveMaximum ?? null,
  });
  const unit = options.find((o) => o.type === "string" && o.pattern)?.pattern ?? null;
  if (options.length === 1 && options[0]?.enum) {
    return { ...base, kind: "choice", choices: options[0].enum.map(String) };
  }
  if (options.length === 1 && options[0]?.const !== undefined) {
    return { ...base, kind: "choice", choices: [String(options[0].const)] };
  }
  if (types.every((t) => t === "boolean")) return { ...base, kind: "boolean" };
  if (types.includes("integer") && types.every((t) => t === "integer" || t === "string")) {
    return { ...base, kind: "integer", unitPattern: unit, ...bounds(options.find((o) => o.type === "integer")) };
  }
  if (types.includes("number") && types.every((t) => t === "number" || t === "integer" || t === "string")) {
    return { ...base, kind: "number", unitPattern: unit, ...bounds(options.find((o) => o.type === "number")) };
  }
  if (types.every((t) => t === "string")) {
    const str = options[0];
    if (options.length === 1 && str && !str.pattern && str.examples === undefined && !unit) return { ...base, kind: "text" };
    return { ...base, kind: "text", unitPattern: unit, placeholder: base.placeholder || String(str?.examples?.[0] ?? "") };
  }
  const only = options.length === 1 ? options[0] : undefined;
  if (only && only.type === "object" && only.properties && depth === 0) {
    const children = fieldsOf(root, only, depth + 1).filter((f) => f.kind !== "complex");
    return children.length > 0 ? { ...base, kind: "object", children } : base;
  }
  return base;
}

function fieldsOf(root: JsonSchema, s: JsonSchema, depth: number): FieldSpec[] {
  const obj = variants(root, s).options.find((o) => o.properties) ?? deref(root, s);
  const required = new Set(obj.required ?? []);
  return Object.entries(obj.properties ?? {}).map(([key, raw]) => fieldOf(root, key, raw, required.has(key), depth));
}

/** The form of the element at `path` (`spec.services.order`): one field per schema property. */
export function formFields(root: JsonSchema, path: readonly (string | number)[]): FieldSpec[] {
  const s = schemaAt(root, path);
  return s ? fieldsOf(root, s, 0) : [];
}

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * The text typed in a field, as the value the file should hold, or why it cannot be. An empty
 * field removes the key (the model's default then applies).
 */
export function parseField(field: FieldSpec, raw: string): Parsed {
  const text = raw.trim();
  if (text === "") {
    return field.required ? { ok: false, message: `${field.label} is required` } : { ok: true, value: undefined };
  }
  switch (field.kind) {
    case "boolean":
      return text === "true" || text === "false" ? { ok: true, value: text === "true" } : { ok: false, message: "true or false" };
    case "choice":
      return field.choices.includes(text) ? { ok: true, value: text } : { ok: false, message: `one of ${field.choices.join(", ")}` };
    case "integer":
    case "number": {
      if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) {
        const n = Number(text);
        if (field.kind === "integer" && !Number.isInteger(n)) return { ok: false, message: "a whole number" };
        const bound = checkBounds(field, n);
        return bound ? { ok: false, message: bound } : { ok: true, value: n };
      }
      if (field.unitPattern && new RegExp(field.unitPattern).test(text)) return { ok: true, value: text };
      return { ok: false, message: field.unitPattern ? `a number or a value like ${field.placeholder || "10Mi"}` : field.kind === "integer" ? "a whole number" : "a number" };
    }
    case "text":
      if (field.unitPattern && !new RegExp(field.unitPattern).test(text)) {
        return { ok: false, message: `a value like ${field.placeholder || "250ms"}${field.description ? ` (${field.description})` : ""}` };
      }
      return { ok: true, value: text };
    default:
      return { ok: false, message: "edit this field in the YAML" };
  }
}

function checkBounds(f: FieldSpec, n: number): string | null {
  if (f.minimum !== null && n < f.minimum) return `at least ${f.minimum}`;
  if (f.maximum !== null && n > f.maximum) return `at most ${f.maximum}`;
  if (f.exclusiveMinimum !== null && n <= f.exclusiveMinimum) return `more than ${f.exclusiveMinimum}`;
  if (f.exclusiveMaximum !== null && n >= f.exclusiveMaximum) return `less than ${f.exclusiveMaximum}`;
  return null;
}

/** How a stored value shows in its field. */
export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
