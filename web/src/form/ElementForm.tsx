/**
 * The side panel's form for the selected element, generated from the JSON Schema. A field shows
 * what the file holds, checks what is typed against the schema at once, writes valid values to
 * the YAML, and shows the server's diagnostics for its path in place.
 */
import { useEffect, useState } from "react";
import type { Diagnostic } from "../api/types";
import { displayValue, formFields, parseField, type FieldSpec, type JsonSchema } from "./schema";
import { formatPath, getAtPath, type DocPath } from "../yaml/sync";

export interface ElementFormProps {
  schema: JsonSchema;
  text: string;
  path: DocPath;
  diagnostics: Diagnostic[];
  onSet: (path: DocPath, value: unknown) => void;
  onShowInYaml: (path: DocPath) => void;
}

export function ElementForm({ schema, text, path, diagnostics, onSet, onShowInYaml }: ElementFormProps) {
  const fields = formFields(schema, path);
  const base = formatPath(path);
  const own = diagnostics.filter((d) => d.path === base || d.path.startsWith(`${base}.`) || d.path.startsWith(`${base}[`));
  const claimed = new Set<Diagnostic>();
  const rows = fields.map((f) => {
    const fieldPath = [...path, f.key];
    const key = formatPath(fieldPath);
    const mine = own.filter((d) => d.path === key || d.path.startsWith(`${key}.`) || d.path.startsWith(`${key}[`));
    mine.forEach((d) => claimed.add(d));
    return { f, fieldPath, mine };
  });
  const rest = own.filter((d) => !claimed.has(d));
  return (
    <form className="element-form" onSubmit={(e) => e.preventDefault()} aria-label={`properties of ${base}`} data-testid="element-form">
      {rest.map((d, i) => (
        <p key={i} className={`diag diag-${d.severity}`} role="alert">
          line {d.line}: {d.message}
        </p>
      ))}
      {rows.map(({ f, fieldPath, mine }) =>
        f.kind === "object" ? (
          <fieldset key={f.key} className="form-group">
            <legend>{f.label}</legend>
            {f.children.map((c) => (
              <FieldRow key={c.key} field={c} path={[...fieldPath, c.key]} text={text} problems={mine.filter((d) => d.path.startsWith(formatPath([...fieldPath, c.key])))} onSet={onSet} onShowInYaml={onShowInYaml} />
            ))}
          </fieldset>
        ) : (
          <FieldRow key={f.key} field={f} path={fieldPath} text={text} problems={mine} onSet={onSet} onShowInYaml={onShowInYaml} />
        ),
      )}
    </form>
  );
}

interface FieldRowProps {
  field: FieldSpec;
  path: DocPath;
  text: string;
  problems: Diagnostic[];
  onSet: (path: DocPath, value: unknown) => void;
  onShowInYaml: (path: DocPath) => void;
}

function FieldRow({ field, path, text, problems, onSet, onShowInYaml }: FieldRowProps) {
  const stored = getAtPath(text, path);
  const shown = displayValue(stored);
  const [draft, setDraft] = useState(shown);
  const [local, setLocal] = useState<string | null>(null);
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) {
      setDraft(shown);
      setLocal(null);
    }
  }, [shown, focused]);
  const id = `field-${formatPath(path).replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const message = local ?? problems[0]?.message ?? null;

  if (field.kind === "complex") {
    const summary = stored === undefined ? "not set" : Array.isArray(stored) ? `${stored.length} item(s)` : typeof stored === "object" ? `${Object.keys(stored as object).length} entr${Object.keys(stored as object).length === 1 ? "y" : "ies"}` : shown;
    return (
      <div className={`form-row complex${message ? " has-error" : ""}`}>
        <span className="form-label">{field.label}</span>
        <button type="button" className="link" onClick={() => onShowInYaml(path)} title={field.description}>
          {summary} · edit in YAML
        </button>
        {message && <span className="field-error" role="alert">{message}</span>}
      </div>
    );
  }

  const commit = (raw: string) => {
    const parsed = parseField(field, raw);
    if (!parsed.ok) {
      setLocal(parsed.message);
      return;
    }
    setLocal(null);
    if (displayValue(parsed.value) !== shown) onSet(path, parsed.value);
  };

  const input =
    field.kind === "choice" || field.kind === "boolean" ? (
      <select
        id={id}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          commit(e.target.value);
        }}
        aria-invalid={message ? true : undefined}
      >
        <option value="">{field.placeholder ? `(default: ${field.placeholder})` : "(not set)"}</option>
        {(field.kind === "boolean" ? ["true", "false"] : field.choices).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    ) : (
      <input
        id={id}
        value={draft}
        placeholder={field.placeholder}
        inputMode={field.kind === "integer" || field.kind === "number" ? "decimal" : undefined}
        onFocus={() => setFocused(true)}
        onBlur={(e) => {
          setFocused(false);
          commit(e.target.value);
        }}
        onChange={(e) => {
          setDraft(e.target.value);
          const parsed = parseField(field, e.target.value);
          setLocal(parsed.ok ? null : parsed.message);
          if (parsed.ok && displayValue(parsed.value) !== shown) onSet(path, parsed.value);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit((e.target as HTMLInputElement).value);
        }}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
      />
    );
  return (
    <div className={`form-row${message ? " has-error" : ""}`} data-testid={`row-${formatPath(path)}`}>
      <label htmlFor={id} className="form-label" title={field.description}>
        {field.label}
        {field.required ? " *" : ""}
      </label>
      {input}
      {message && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {message}
        </span>
      )}
    </div>
  );
}
