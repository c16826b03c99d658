// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Progress, WindowEvent } from "../api/types";
import { LiveBuffer, type LiveBatch } from "./liveBuffer";

const win = (i: number) => ({ index: i }) as unknown as WindowEvent;
const prog = (f: number) => ({ fraction: f }) as unknown as Progress;

describe("LiveBuffer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands a burst of events over once, in arrival order", () => {
    const applied: LiveBatch[] = [];
    const live = new LiveBuffer((b) => applied.push(b), 100);
    for (let i = 0; i < 5000; i++) live.window(win(i));
    live.progress(prog(0.5));
    expect(applied).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(applied).toHaveLength(1);
    expect(applied[0]?.windows.map((w) => (w as unknown as { index: number }).index)).toEqual([...Array(5000).keys()]);
    expect(applied[0]?.progress).toEqual([prog(0.5)]);
  });

  it("keeps handing over while events keep coming, one batch per interval", () => {
    const applied: LiveBatch[] = [];
    const live = new LiveBuffer((b) => applied.push(b), 100);
    for (let t = 0; t < 1000; t += 10) {
      live.window(win(t));
      vi.advanceTimersByTime(10);
    }
    expect(applied).toHaveLength(10);
    expect(applied.flatMap((b) => b.windows)).toHaveLength(100);
  });

  it("flushes at once when asked, and never hands over an empty batch", () => {
    const applied: LiveBatch[] = [];
    const live = new LiveBuffer((b) => applied.push(b), 100);
    live.flush();
    expect(applied).toHaveLength(0);
    live.window(win(1));
    live.flush();
    expect(applied).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect(applied).toHaveLength(1);
  });

  it("drops what is pending when closed", () => {
    const applied: LiveBatch[] = [];
    const live = new LiveBuffer((b) => applied.push(b), 100);
    live.window(win(1));
    live.close();
    vi.advanceTimersByTime(500);
    expect(applied).toHaveLength(0);
  });
});
