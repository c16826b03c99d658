// The form and the YAML stay in sync: typing a valid value writes it into the text (comments
// kept), a value the schema refuses is marked in the field and leaves the text alone, and a
// server diagnostic for a field's path is shown on that field.
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { Diagnostic } from "../api/types";
import { getAtPath, setAtPath } from "../yaml/sync";
import { ElementForm } from "./ElementForm";
import type { JsonSchema } from "./schema";

const python = process.env.SCALESIM_PYTHON ?? resolve(process.cwd(), "../.venv/bin/python");
const schema = JSON.parse(
  execFileSync(python, ["-c", "import json; from scalesim_patterns.model.schema import json_schema; print(json.dumps(json_schema()))"], { encoding: "utf8" }),
) as JsonSchema;

const TEXT = `spec:
  services:
    order:
      replicas: 3 # enough for the launch
      workers: 8
  databases:
    orders-db: {engine: postgresql, owner: order}
`;

let latest = TEXT;

function Harness({ path, diagnostics = [] }: { path: (string | number)[]; diagnostics?: Diagnostic[] }) {
  const [text, setText] = useState(TEXT);
  latest = text;
  return <ElementForm schema={schema} text={text} path={path} diagnostics={diagnostics} onSet={(p, v) => setText((t) => setAtPath(t, p, v))} onShowInYaml={() => undefined} />;
}

afterEach(() => {
  cleanup();
  latest = TEXT;
});

describe("ElementForm", () => {
  it("shows the file's values in fields generated from the schema", () => {
    render(<Harness path={["spec", "services", "order"]} />);
    expect((screen.getByLabelText("Replicas") as HTMLInputElement).value).toBe("3");
    expect((screen.getByLabelText("Workers") as HTMLInputElement).value).toBe("8");
    expect(screen.getByLabelText("Language")).toBeTruthy();
    expect(screen.getAllByText(/edit in YAML/).length).toBeGreaterThan(0);
  });

  it("writes a valid value to the YAML, keeping the comment", () => {
    render(<Harness path={["spec", "services", "order"]} />);
    act(() => {
      fireEvent.change(screen.getByLabelText("Replicas"), { target: { value: "5" } });
    });
    expect(getAtPath(latest, ["spec", "services", "order", "replicas"])).toBe(5);
    expect(latest).toContain("replicas: 5 # enough for the launch");
  });

  it("marks a value the schema refuses and leaves the YAML alone", () => {
    render(<Harness path={["spec", "services", "order"]} />);
    act(() => {
      fireEvent.change(screen.getByLabelText("Replicas"), { target: { value: "0" } });
    });
    expect(screen.getByRole("alert").textContent).toBe("at least 1");
    expect(screen.getByLabelText("Replicas").getAttribute("aria-invalid")).toBe("true");
    expect(latest).toBe(TEXT);
  });

  it("writes a unit value as the file writes it", () => {
    render(<Harness path={["spec", "databases", "orders-db"]} />);
    act(() => {
      fireEvent.change(screen.getByLabelText("Storage"), { target: { value: "20Gi" } });
    });
    expect(getAtPath(latest, ["spec", "databases", "orders-db", "storage"])).toBe("20Gi");
  });

  it("shows the server's diagnostic on the field it names", () => {
    const diag: Diagnostic = { line: 7, column: 45, severity: "error", path: "spec.databases.orders-db.owner", message: "unknown service 'ordr'; did you mean 'order'?" };
    render(<Harness path={["spec", "databases", "orders-db"]} diagnostics={[diag]} />);
    const owner = screen.getByLabelText(/Owner/);
    expect(owner.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toContain("did you mean 'order'");
  });
});
