/**
 * The YAML text is the one source of truth of the designer: the form, the graph and the editor
 * all read it, and the form and graph write to it through `setAtPath`, which edits the parsed
 * document in place so comments, anchors and key order the user wrote survive every edit.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document } from "yaml";

export type DocPath = (string | number)[];

export interface LocalDiagnostic {
  line: number;
  column: number;
  severity: "error" | "warning";
  path: string;
  message: string;
}

/** `spec.services.order.steps[0].call` → `["spec","services","order","steps",0,"call"]`. */
export function parsePath(path: string): DocPath {
  const out: DocPath = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${p}`;
  return out;
}

function load(text: string): Document.Parsed {
  return parseDocument(text, { keepSourceTokens: false, uniqueKeys: true, merge: true });
}

/** The document as plain data and its YAML syntax errors (located), for the graph and the form. */
export function readDocument(text: string): { value: unknown; errors: LocalDiagnostic[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, merge: true });
  const errors: LocalDiagnostic[] = doc.errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    return { line: pos.line, column: pos.col, severity: "error", path: "(document)", message: e.message.split("\n")[0] ?? e.message };
  });
  if (errors.length > 0) return { value: null, errors };
  try {
    return { value: doc.toJS({ maxAliasCount: 1000 }), errors };
  } catch (e) {
    return { value: null, errors: [{ line: 1, column: 1, severity: "error", path: "(document)", message: String(e) }] };
  }
}

/**
 * The text with the value at `path` replaced (or removed when `value` is undefined). Missing
 * parents are created as maps. Text that does not parse is returned unchanged: the form waits
 * until the YAML is readable again.
 */
export function setAtPath(text: string, path: DocPath, value: unknown): string {
  const doc = load(text);
  if (doc.errors.length > 0) return text;
  if (value === undefined) {
    if (!doc.hasIn(path)) return text;
    doc.deleteIn(path);
  } else {
    const node = doc.getIn(path, true);
    if (isScalar(node) && (typeof value !== "object" || value === null)) {
      // The common case, one field changed: splice the new value into the text, so every other
      // byte (folding, spacing, quoting) stays as the user wrote it.
      if (node.range && !node.anchor && !node.tag && node.type !== "BLOCK_FOLDED" && node.type !== "BLOCK_LITERAL") {
        return text.slice(0, node.range[0]) + scalarText(value) + text.slice(node.range[1]);
      }
      node.value = value;
    } else {
      doc.setIn(path, doc.createNode(value, { flow: isFlowObject(value) }));
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A scalar as YAML source that reads back as the same value in block and flow context alike. */
function scalarText(value: unknown): string {
  const plain = stringify(value, { lineWidth: 0 }).trimEnd();
  if (typeof value === "string" && (/[,[\]{}#\n]|: /.test(plain) || plain !== value)) return JSON.stringify(value);
  return plain;
}

/** Small maps and lists of scalars read best inline, the way the templates write them. */
function isFlowObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const entries = Array.isArray(value) ? value : Object.values(value);
  return entries.length <= 4 && entries.every((v) => typeof v !== "object" || v === null);
}

/** The value at `path` in the text, as plain data (undefined when absent or unreadable). */
export function getAtPath(text: string, path: DocPath): unknown {
  const doc = load(text);
  if (doc.errors.length > 0) return undefined;
  const node = doc.getIn(path, true);
  if (node === undefined) return undefined;
  if (isScalar(node)) return node.value;
  if (isMap(node) || isSeq(node)) return node.toJSON();
  return undefined;
}

/** The 1-based line where the entry at `path` is written (its key), or of its deepest existing parent. */
export function lineOfPath(text: string, path: DocPath): number {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  let line = 1;
  let node: unknown = doc.contents;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === part);
      if (!pair) break;
      const key = pair.key as { range?: [number, number, number] };
      if (key.range) line = lc.linePos(key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number") {
      const item = node.items[part] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      if (item.range) line = lc.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return line;
}
