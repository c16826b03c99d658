// @vitest-environment node
// Form generation is checked against the real schema of the architecture file, read from the
// Python model in this checkout, so the form follows the model.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formFields, parseField, schemaAt, type FieldSpec, type JsonSchema } from "./schema";

const python = process.env.SCALESIM_PYTHON ?? resolve(process.cwd(), "../.venv/bin/python");
const schema = JSON.parse(
  execFileSync(python, ["-c", "import json; from scalesim_patterns.model.schema import json_schema; print(json.dumps(json_schema()))"], {
    encoding: "utf8",
  }),
) as JsonSchema;
const byKey = (fields: FieldSpec[], key: string): FieldSpec => {
  const f = fields.find((x) => x.key === key);
  if (!f) throw new Error(`no field ${key}`);
  return f;
};

describe("formFields", () => {
  const service = formFields(schema, ["spec", "services", "order"]);

  it("gives a service its scalar fields with kinds and bounds from the schema", () => {
    expect(byKey(service, "replicas")).toMatchObject({ kind: "integer", minimum: 1, required: false });
    expect(byKey(service, "workers").description).toMatch(/at once/);
    expect(byKey(service, "language")).toMatchObject({ kind: "choice", choices: ["python", "node", "go", "java"] });
    expect(byKey(service, "queueCapacity")).toMatchObject({ kind: "integer", nullable: true, minimum: 0 });
    expect(byKey(service, "endpoints").kind).toBe("complex");
  });

  it("opens a plain nested object one level (resources: cpu, memory)", () => {
    const res = byKey(service, "resources");
    expect(res.kind).toBe("object");
    expect(res.children.map((c) => c.key)).toEqual(expect.arrayContaining(["cpu", "memory"]));
  });

  it("knows unit fields: a duration on a client policy, a rate on an arrival", () => {
    const policy = formFields(schema, ["spec", "services", "order", "clients", "payment"]);
    const timeout = byKey(policy, "timeout");
    expect(timeout.kind).toBe("text");
    expect(parseField(timeout, "250ms")).toEqual({ ok: true, value: "250ms" });
    expect(parseField(timeout, "250 parsecs")).toMatchObject({ ok: false });
    expect(parseField(timeout, "")).toEqual({ ok: true, value: undefined });
    const arrival = schemaAt(schema, ["spec", "traffic", "checkout"]);
    expect(arrival).not.toBeNull();
  });

  it("finds the fields of every kind of graph element", () => {
    for (const path of [
      ["spec", "gateway"],
      ["spec", "databases", "orders-db"],
      ["spec", "brokers", "events", "topics", "orders"],
      ["spec", "eventStores", "ledger"],
    ]) {
      expect(formFields(schema, path).length, path.join(".")).toBeGreaterThan(0);
    }
    expect(byKey(formFields(schema, ["spec", "databases", "x"]), "engine").kind).toBe("choice");
    expect(byKey(formFields(schema, ["spec", "databases", "x"]), "owner").required).toBe(true);
  });
});

describe("parseField", () => {
  const replicas = byKey(formFields(schema, ["spec", "services", "s"]), "replicas");
  it("turns typed text into the file's value, or says what would be valid", () => {
    expect(parseField(replicas, "5")).toEqual({ ok: true, value: 5 });
    expect(parseField(replicas, "0")).toEqual({ ok: false, message: "at least 1" });
    expect(parseField(replicas, "2.5")).toEqual({ ok: false, message: "a whole number" });
    expect(parseField(replicas, "many")).toMatchObject({ ok: false });
  });
  it("accepts Kubernetes quantities where the schema does", () => {
    const storage = byKey(formFields(schema, ["spec", "databases", "d"]), "storage");
    expect(parseField(storage, "10Gi")).toEqual({ ok: true, value: "10Gi" });
    expect(parseField(storage, "ten gigs")).toMatchObject({ ok: false });
  });
});
