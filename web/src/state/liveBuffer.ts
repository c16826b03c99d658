import type { Progress, TimelineEvent, WindowEvent } from "../api/types";

/** How often a live run's events reach the page's state, at most. */
export const FLUSH_MS = 100;

/** The events of a live run that arrived since the last flush, in arrival order per kind. */
export interface LiveBatch {
  progress: Progress[];
  windows: WindowEvent[];
  timeline: TimelineEvent[];
}

const empty = (): LiveBatch => ({ progress: [], windows: [], timeline: [] });

/**
 * A live run's events, handed to the page's state in batches, at most one every `everyMs`.
 *
 * The compiled engine closes windows far faster than a page can render once per window (a 6 h run
 * has 21 600 of them, sent within seconds): applied one by one, each copied the list of windows and
 * re-rendered the charts and the graph, and the tab stopped responding until the run ended.
 * `flush` applies what is pending at once, for events that must come after it (a state change).
 */
export class LiveBuffer {
  private batch: LiveBatch = empty();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly apply: (batch: LiveBatch) => void,
    private readonly everyMs: number = FLUSH_MS,
  ) {}

  progress(p: Progress): void {
    this.batch.progress.push(p);
    this.schedule();
  }

  window(w: WindowEvent): void {
    this.batch.windows.push(w);
    this.schedule();
  }

  timeline(t: TimelineEvent): void {
    this.batch.timeline.push(t);
    this.schedule();
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const b = this.batch;
    if (b.progress.length === 0 && b.windows.length === 0 && b.timeline.length === 0) return;
    this.batch = empty();
    this.apply(b);
  }

  /** Drops what is pending (the page left the run). */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.batch = empty();
  }

  private schedule(): void {
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.everyMs);
    }
  }
}
