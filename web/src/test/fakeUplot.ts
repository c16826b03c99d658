/**
 * uPlot needs a real canvas and `matchMedia`, which jsdom lacks: component tests replace it with
 * this stand-in (`vi.mock("uplot", () => import("../test/fakeUplot"))`) and read what a chart
 * shows from `window.__scalesim.charts`, as the browser tests do. The stand-in keeps its options
 * and latest data, so a test can ask what the x axis would label now (`FakePlot.xLabelsOf`).
 */
type Axis = {
  splits?: (u: FakePlot, axisIdx: number, min: number, max: number, incr: number, space: number) => number[];
  values?: (u: FakePlot, splits: number[], axisIdx: number, space: number, incr: number) => string[];
};
type Options = { width: number; scales?: { x?: { range?: (u: FakePlot, min: number, max: number) => [number, number] } }; axes?: Axis[] };

export default class FakePlot {
  static paths = { stepped: () => null };
  /** The charts alive now, in the order they were made. */
  static live: FakePlot[] = [];
  readonly opts: Options;
  data: number[][];
  readonly host: HTMLElement | null;
  constructor(opts: unknown, data: unknown, host: unknown) {
    this.opts = opts as Options;
    this.data = data as number[][];
    this.host = host instanceof HTMLElement ? host : null;
    FakePlot.live.push(this);
  }
  get width(): number {
    return this.opts.width;
  }
  private xRange(): [number, number] {
    const xs = this.data[0] ?? [];
    const min = xs.length ? Math.min(...xs) : 0;
    const max = xs.length ? Math.max(...xs) : 1;
    return this.opts.scales?.x?.range ? this.opts.scales.x.range(this, min, max) : [min, max];
  }
  /** Linear over the x range, across the whole width (uPlot's plot area, near enough). */
  valToPos(v: number): number {
    const [lo, hi] = this.xRange();
    return hi > lo ? ((v - lo) / (hi - lo)) * this.opts.width : 0;
  }
  /** The labels the x axis draws for the data it holds now (its splits, then its values). */
  xLabels(): string[] {
    const axis = this.opts.axes?.[0];
    const [lo, hi] = this.xRange();
    const splits = axis?.splits ? axis.splits(this, 0, lo, hi, 1, 50) : [];
    return axis?.values ? axis.values(this, splits, 0, 50, 1) : splits.map(String);
  }
  /** The x labels of the chart drawn in the figure `chart-<testId>`. */
  static xLabelsOf(testId: string): string[] {
    const plot = FakePlot.live.find((p) => p.host?.closest(`[data-testid="chart-${testId}"]`));
    if (!plot) throw new Error(`no chart ${testId}`);
    return plot.xLabels();
  }
  setData(data: unknown): void {
    this.data = data as number[][];
  }
  setSize(): void {}
  redraw(): void {}
  destroy(): void {
    FakePlot.live = FakePlot.live.filter((p) => p !== this);
  }
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
