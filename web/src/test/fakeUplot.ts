/**
 * uPlot needs a real canvas and `matchMedia`, which jsdom lacks: component tests replace it with
 * this stand-in (`vi.mock("uplot", () => import("../test/fakeUplot"))`) and read what a chart
 * shows from `window.__scalesim.charts`, as the browser tests do.
 */
export default class FakePlot {
  static paths = { stepped: () => null };
  constructor(_opts: unknown, _data: unknown, _host: unknown) {}
  setData(): void {}
  setSize(): void {}
  redraw(): void {}
  destroy(): void {}
}

export function installResizeObserver(): void {
  if (typeof globalThis.ResizeObserver === "undefined") {
    globalThis.ResizeObserver = class {
      observe(): void {}
      unobserve(): void {}
      disconnect(): void {}
    } as unknown as typeof ResizeObserver;
  }
}
