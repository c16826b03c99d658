// The sweep view's figures: per-point means, lines against the varied value, the heat map and
// the sensitivity order, each checked against numbers worked out by hand from the rows below;
// and the form shows the server's refusal on the line it names.
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SweepResult, SweepRow } from "../api/types";
import { installResizeObserver } from "../test/fakeUplot";
import { SensitivitySummary } from "./SensitivitySummary";
import { SweepForm } from "./SweepForm";
import { SweepHeatMap } from "./SweepHeatMap";
import { SweepTable } from "./SweepTable";
import { heatMap, numericOf, pointMeans, rowsOfPoints, sensitivityRows, sweepLines, tableCsv } from "./sweepMetrics";

vi.mock("uplot", () => import("../test/fakeUplot"));
installResizeObserver();
afterEach(cleanup);

const R = "services.api.replicas";
const L = "traffic.users.arrival.rate";

/** A 2 × 2 grid, two replications each; the p99s are chosen so every mean is a round number. */
function row(point: number, replication: number, replicas: string, rate: string, p99: number | null, throughput: number): SweepRow {
  return { point, replication, [R]: replicas, [L]: rate, p99, throughput, error_rate: 0 };
}
const ROWS: SweepRow[] = [
  row(0, 0, "1", "100/s", 0.1, 99),
  row(0, 1, "1", "100/s", 0.3, 101),
  row(1, 0, "1", "400/s", 0.9, 390),
  row(1, 1, "1", "400/s", null, 392),
  row(2, 0, "4", "100/s", 0.05, 100),
  row(2, 1, "4", "100/s", 0.05, 100),
  row(3, 0, "4", "400/s", 0.1, 400),
  row(3, 1, "4", "400/s", 0.2, 398),
];

describe("sweep figures", () => {
  it("reads numbers as the sweep package does", () => {
    expect(numericOf("200/s")).toBe(200);
    expect(numericOf("1.5e2ms")).toBe(150);
    expect(numericOf("round-robin")).toBeNull();
  });

  it("averages each point over its replications, leaving out missing values", () => {
    const m = pointMeans(ROWS, [R, L], "p99");
    expect(m.map((x) => x.point)).toEqual([0, 1, 2, 3]);
    expect(m[0]!.mean).toBeCloseTo(0.2, 12);
    expect(m[1]).toMatchObject({ mean: 0.9, n: 1, values: ["1", "400/s"] });
    expect(m[3]!.mean).toBeCloseTo(0.15, 12);
  });

  it("draws the metric against the first varied value, one line per value of the second", () => {
    const lines = sweepLines(ROWS, [R, L], "p99");
    expect(lines.x).toEqual([1, 4]);
    expect(lines.series.map((s) => s.label)).toEqual([`${L}=100/s`, `${L}=400/s`]);
    expect(lines.series[0]!.values[0]).toBeCloseTo(0.2, 12);
    expect(lines.series[0]!.values[1]).toBeCloseTo(0.05, 12);
    expect(lines.series[1]!.values[0]).toBeCloseTo(0.9, 12);
    expect(lines.series[1]!.values[1]).toBeCloseTo(0.15, 12);
  });

  it("places values that are not numbers at 0, 1, 2 in their order", () => {
    const rows = [{ point: 0, replication: 0, lb: "round-robin", p99: 1 }, { point: 1, replication: 0, lb: "least-request", p99: 2 }];
    const lines = sweepLines(rows, ["lb"], "p99");
    expect(lines.labels).toEqual(["least-request", "round-robin"]);
    expect(lines.x).toEqual([0, 1]);
    expect(lines.series[0]!.values).toEqual([2, 1]);
  });

  it("lays the heat map out with the first dimension across and the second down", () => {
    const h = heatMap(ROWS, [R, L], "throughput")!;
    expect(h.xs).toEqual(["1", "4"]);
    expect(h.ys).toEqual(["100/s", "400/s"]);
    expect(h.cells).toEqual([
      [100, 100],
      [391, 399],
    ]);
    expect([h.min, h.max]).toEqual([100, 399]);
    expect(heatMap(ROWS, [R], "p99")).toBeNull();
  });

  it("turns point events into table rows in order", () => {
    const rows = rowsOfPoints([
      { point: 1, replication: 0, settings: { [R]: "4" }, p99: 0.1 },
      { point: 0, replication: 1, settings: { [R]: "1" }, p99: 0.3 },
      { point: 0, replication: 0, settings: { [R]: "1" }, p99: 0.2 },
    ]);
    expect(rows.map((r) => [r.point, r.replication, r[R]])).toEqual([
      [0, 0, "1"],
      [0, 1, "1"],
      [1, 0, "4"],
    ]);
  });

  it("writes the table as CSV, quoting where needed", () => {
    expect(tableCsv(["point", "x"], [{ point: 0, x: "a,b" }, { point: 1, x: null }])).toBe('point,x\n0,"a,b"\n1,\n');
  });
});

const RESULT: SweepResult = {
  format: "scalesim.sweep/v1",
  architecture: "shop",
  scenario: null,
  method: "grid",
  dimensions: [R, L],
  points: [],
  replications: 2,
  columns: [],
  rows: ROWS,
  sensitivity: { p99: { [R]: 0.3, [L]: 0.6 }, throughput: { [L]: 0.99, [R]: 0.0 } },
};

describe("sweep components", () => {
  it("SensitivitySummary: the strongest setting first, then the others", () => {
    expect(sensitivityRows(RESULT)[0]).toEqual({ metric: "p99", strongest: L, share: 0.6, others: [{ path: R, share: 0.3 }] });
    render(<SensitivitySummary result={RESULT} />);
    const p99 = within(screen.getByTestId("sensitivity")).getByText("p99").closest("tr")!;
    expect(p99.textContent).toBe(`p99${L}60%${R} 30%`);
  });

  it("SweepHeatMap: each cell's value written and coloured low to high", () => {
    render(<SweepHeatMap rows={ROWS} dimensions={[R, L]} metric="throughput" />);
    const cells = within(screen.getByTestId("sweep-heatmap")).getAllByRole("cell");
    expect(cells.map((c) => c.textContent)).toEqual(["100.00", "100.00", "391.00", "399.00"]);
    // the lowest is viridis' first colour, the highest its last
    expect(cells[0]!.style.background).toBe("rgb(68, 1, 84)");
    expect(cells[3]!.style.background).toBe("rgb(253, 231, 37)");
  });

  it("SweepTable: one row per point and replication, with the varied values", () => {
    render(<SweepTable rows={ROWS} dimensions={[R, L]} />);
    const rows = within(screen.getByTestId("sweep-table")).getAllByRole("row");
    expect(rows).toHaveLength(1 + ROWS.length);
    // throughput, p50 (not in these rows), p99 (missing in this replication), errors
    expect(rows[4]!.textContent).toBe("111400/s392.0/s––0.00%");
  });

  it("SweepForm: sends one vary per line, and marks the line the server refused", () => {
    const onStart = vi.fn();
    const { rerender } = render(<SweepForm scenarios={["peak"]} error={null} onStart={onStart} />);
    fireEvent.change(screen.getByTestId("sweep-vary"), { target: { value: `${R}=1,2\n\n ${L}=100/s..400/s:4 \n` } });
    fireEvent.change(screen.getByTestId("sweep-sample"), { target: { value: "lhs:8" } });
    fireEvent.click(screen.getByTestId("sweep-start"));
    expect(onStart).toHaveBeenCalledWith({ vary: [`${R}=1,2`, `${L}=100/s..400/s:4`], sample: "lhs:8", scenario: null, duration: "30s", replications: 1 });
    rerender(<SweepForm scenarios={["peak"]} error={{ field: "vary[1]", message: "vary[1]: 'x' is not a number" }} onStart={onStart} />);
    expect(screen.getByTestId("sweep-bad-line").textContent).toBe(`line 2: ${L}=100/s..400/s:4`);
    expect(screen.getByTestId("sweep-error").textContent).toContain("is not a number");
    expect(screen.getByTestId("sweep-vary").getAttribute("aria-invalid")).toBe("true");
  });
});
