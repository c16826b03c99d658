// A count axis ticks at whole numbers from 0: counts below 2 no longer read "1, 1, 0".
import { describe, expect, it, vi } from "vitest";
import { INTEGER_STEPS, integerRange, paddedRange } from "./TimeSeriesChart";

vi.mock("uplot", () => import("../test/fakeUplot"));

describe("count axes", () => {
  it("run from 0 to a whole number at least 1", () => {
    expect(integerRange(null, 0, 0)).toEqual([0, 1]);
    expect(integerRange(null, 0, 0.4)).toEqual([0, 1]);
    expect(integerRange(null, 0, 1.6)).toEqual([0, 2]);
    expect(integerRange(null, null, null)).toEqual([0, 1]);
  });
  it("step only by whole numbers", () => {
    expect(INTEGER_STEPS.every((s) => Number.isInteger(s) && s >= 1)).toBe(true);
  });
});

describe("a sweep's x axis", () => {
  it("leaves room around the first and last values so their ticks are drawn", () => {
    const [lo, hi] = paddedRange(null, 1, 3);
    expect(lo).toBeCloseTo(0.88, 12);
    expect(hi).toBeCloseTo(3.12, 12);
    expect(paddedRange(null, 4, 4)).toEqual([3.5, 4.5]);
  });
});
