// @vitest-environment node
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPath, getAtPath, lineOfPath, parsePath, readDocument, setAtPath } from "./sync";

const TEXT = `# the shop
apiVersion: scalesim.dev/v1alpha1
kind: Architecture
metadata:
  name: shop
spec:
  services:
    order:
      replicas: 3  # three pods
      health: &probes
        readiness: {path: /ready}
      endpoints:
        place:
          steps:
            - call: payment.charge
    payment:
      health: *probes
      endpoints:
        charge: {}
`;

describe("YAML sync", () => {
  it("parses and formats paths the way diagnostics write them", () => {
    const p = "spec.services.order.endpoints.place.steps[0].call";
    expect(parsePath(p)).toEqual(["spec", "services", "order", "endpoints", "place", "steps", 0, "call"]);
    expect(formatPath(parsePath(p))).toBe(p);
  });

  it("form → YAML: changes one value and keeps comments and anchors", () => {
    const out = setAtPath(TEXT, ["spec", "services", "order", "replicas"], 5);
    expect(out).toContain("replicas: 5  # three pods");
    expect(out).toContain("# the shop");
    expect(out).toContain("health: *probes");
    expect(out.split("\n").length).toBe(TEXT.split("\n").length);
    expect(getAtPath(out, ["spec", "services", "order", "replicas"])).toBe(5);
  });

  it("form → YAML: changing one value leaves every other byte of a template alone", () => {
    const template = readFileSync(resolve(process.cwd(), "../src/scalesim_patterns/catalog/templates/ecommerce.yaml"), "utf8");
    const edited = setAtPath(template, ["spec", "services", "order", "clients", "payment", "timeout"], "1500ms");
    const before = template.split("\n");
    const after = edited.split("\n");
    expect(after.length).toBe(before.length);
    expect(after.filter((l, i) => l !== before[i])).toEqual(["          timeout: 1500ms"]);
    expect(getAtPath(edited, ["spec", "services", "order", "clients", "payment", "timeout"])).toBe("1500ms");
  });

  it("form → YAML: a string that needs quotes in a flow map gets them", () => {
    const out = setAtPath("a: {b: x, c: y}\n", ["a", "b"], "p, q: r");
    expect(out).toBe('a: {b: "p, q: r", c: y}\n');
    expect(getAtPath(out, ["a", "b"])).toBe("p, q: r");
    expect(setAtPath("a: {b: x}\n", ["a", "b"], "true")).toBe('a: {b: "true"}\n');
    expect(getAtPath(setAtPath("a: {b: x}\n", ["a", "b"], "true"), ["a", "b"])).toBe("true");
  });

  it("form → YAML: adds missing parents and removes a value", () => {
    const added = setAtPath(TEXT, ["spec", "services", "payment", "clients", "bank", "timeout"], "250ms");
    expect(getAtPath(added, ["spec", "services", "payment", "clients", "bank", "timeout"])).toBe("250ms");
    const removed = setAtPath(added, ["spec", "services", "order", "replicas"], undefined);
    expect(getAtPath(removed, ["spec", "services", "order", "replicas"])).toBeUndefined();
    expect(removed).not.toContain("three pods");
  });

  it("YAML → form: reads the document as data, aliases resolved", () => {
    const { value, errors } = readDocument(TEXT);
    expect(errors).toEqual([]);
    const spec = (value as { spec: { services: Record<string, { health?: unknown }> } }).spec;
    expect(spec.services.payment?.health).toEqual({ readiness: { path: "/ready" } });
  });

  it("reports a syntax error at its line and leaves the text alone on edit", () => {
    const broken = TEXT.replace("replicas: 3", "replicas: [3");
    const { value, errors } = readDocument(broken);
    expect(value).toBeNull();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(9);
    expect(setAtPath(broken, ["metadata", "name"], "x")).toBe(broken);
  });

  it("finds the line of a path, or of its nearest existing parent", () => {
    expect(lineOfPath(TEXT, ["spec", "services", "order", "replicas"])).toBe(9);
    expect(lineOfPath(TEXT, ["spec", "services", "order", "endpoints", "place", "steps", 0, "call"])).toBe(15);
    expect(lineOfPath(TEXT, ["spec", "services", "order", "nothing", "here"])).toBe(8);
  });
});
