// A sweep's x axis labels every swept value: the chart is made when its first points finish and
// must still label the values that finish later (it labelled "1" alone of replicas 1 and 3).
import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SweepRow } from "../api/types";
import { labelGap, sweepTicks } from "../charts/sweepTicks";
import FakePlot, { installResizeObserver } from "../test/fakeUplot";
import { SweepLineCharts } from "./SweepLineCharts";

vi.mock("uplot", () => import("../test/fakeUplot"));
installResizeObserver();
afterEach(cleanup);

const R = "services.checkout.replicas";
const L = "traffic.shoppers.arrival.rate";
const row = (point: number, replicas: string, rate: string, p99: number): SweepRow => ({ point, replication: 0, [R]: replicas, [L]: rate, p99, throughput: 90 });

describe("a sweep's x axis", () => {
  it("labels the values of points that finish after the chart was made", () => {
    const early = [row(0, "1", "100/s", 0.4), row(1, "1", "300/s", 0.4)];
    const all = [...early, row(2, "3", "100/s", 0.2), row(3, "3", "300/s", 0.3)];
    const { rerender } = render(<SweepLineCharts rows={early} dimensions={[R, L]} />);
    expect(FakePlot.xLabelsOf("sweep-p99")).toEqual(["1"]);
    rerender(<SweepLineCharts rows={all} dimensions={[R, L]} />);
    expect(FakePlot.xLabelsOf("sweep-p99")).toEqual(["1", "3"]);
    expect(FakePlot.xLabelsOf("sweep-throughput")).toEqual(["1", "3"]);
    expect(window.__scalesim?.charts["sweep-p99"]?.xLabels).toEqual(["1", "3"]);
  });

  it("labels each category, however many", () => {
    const names = Array.from({ length: 12 }, (_, i) => `policy-${String(i).padStart(2, "0")}`);
    const rows = names.map((n, i) => ({ point: i, replication: 0, lb: n, p99: 0.1, throughput: 10 }));
    render(<SweepLineCharts rows={rows} dimensions={["lb"]} />);
    expect(FakePlot.xLabelsOf("sweep-p99")).toEqual(names);
  });

  it("labels the values as typed", () => {
    render(<SweepLineCharts rows={[row(0, "1", "100/s", 0.1)].map((r) => ({ ...r, [R]: "100/s" })).concat([{ ...row(1, "1", "100/s", 0.2), [R]: "250/s" }])} dimensions={[R]} />);
    expect(FakePlot.xLabelsOf("sweep-p99")).toEqual(["100/s", "250/s"]);
  });
});

describe("sweepTicks", () => {
  const linear = (v: number) => v * 10;
  it("keeps every value while the labels fit", () => {
    expect(sweepTicks([3, 1, 2], linear, 10)).toEqual([1, 2, 3]);
  });
  it("thins crowded numbers, always keeping the first and the last, never closer than the gap", () => {
    const values = Array.from({ length: 41 }, (_, i) => i + 1);
    const ticks = sweepTicks(values, linear, 45);
    expect(ticks[0]).toBe(1);
    expect(ticks[ticks.length - 1]).toBe(41);
    expect(ticks.length).toBeGreaterThan(4);
    for (let i = 1; i < ticks.length; i++) expect(linear(ticks[i]!) - linear(ticks[i - 1]!)).toBeGreaterThanOrEqual(45);
  });
  it("keeps the ends of two values even when they are close", () => {
    expect(sweepTicks([1, 1.01], linear, 45)).toEqual([1, 1.01]);
  });
  it("keeps every value when asked (categories)", () => {
    expect(sweepTicks([0, 1, 2, 3], linear, 45, true)).toEqual([0, 1, 2, 3]);
  });
  it("gives a label room for its characters", () => {
    expect(labelGap(5)).toBeGreaterThan(labelGap(1));
  });
});
