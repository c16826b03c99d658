/**
 * The YAML pane: CodeMirror 6, loaded as its own chunk. It reports every change up and reloads
 * its text only when the text changed elsewhere (`revision`), so typing is never interrupted;
 * diagnostics are drawn on their lines as the user types.
 */
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, defaultHighlightStyle, foldGutter, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { useEffect, useRef } from "react";

export interface EditorProblem {
  line: number;
  column: number;
  severity: "error" | "warning";
  message: string;
}

export interface YamlEditorProps {
  text: string;
  revision: number;
  problems: EditorProblem[];
  readOnly?: boolean;
  onChange?: (text: string) => void;
  /** 1-based line to bring into view and put the cursor on. */
  goToLine?: { line: number; seq: number } | null;
  label: string;
  language?: "yaml" | "text";
}

function toCm(state: EditorState, problems: EditorProblem[]): CmDiagnostic[] {
  const out: CmDiagnostic[] = [];
  for (const p of problems) {
    if (p.line < 1 || p.line > state.doc.lines) continue;
    const line = state.doc.line(p.line);
    const from = Math.min(line.to, line.from + Math.max(0, p.column - 1));
    out.push({ from, to: Math.max(from, line.to), severity: p.severity, message: p.message });
  }
  return out;
}

export default function YamlEditor({ text, revision, problems, readOnly = false, onChange, goToLine, label, language = "yaml" }: YamlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changeRef = useRef(onChange);
  changeRef.current = onChange;

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: text,
        extensions: [
          lineNumbers(),
          foldGutter(),
          history(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle),
          language === "yaml" ? yaml() : [],
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap]),
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ "aria-label": label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changeRef.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; later text arrives through `revision`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const current = v.state.doc.toString();
    if (current !== text) v.dispatch({ changes: { from: 0, to: current.length, insert: text }, selection: { anchor: 0 } });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [revision, readOnly ? text : null]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch(setDiagnostics(v.state, toCm(v.state, problems)));
  }, [problems, revision]);

  useEffect(() => {
    const v = view.current;
    if (!v || !goToLine) return;
    const n = Math.min(Math.max(1, goToLine.line), v.state.doc.lines);
    const line = v.state.doc.line(n);
    v.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
  }, [goToLine]);

  return <div className="yaml-editor" ref={host} data-testid={readOnly ? "file-viewer" : "yaml-editor"} />;
}
