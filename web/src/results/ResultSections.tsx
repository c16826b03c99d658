import { BriefFigures } from "./BriefFigures";
import { CacheHits } from "./CacheHits";
import { ConsumerLimits } from "./ConsumerLimits";
import { CpuUsage } from "./CpuUsage";
import { CriticalPath } from "./CriticalPath";
import { ScheduledChanges } from "./ScheduledChanges";
import { SessionSteps } from "./SessionSteps";
import type { CriticalPaths, Result } from "./sections";

/** The sections a finished run has beyond entries and services; each shows only when present. */
export function ResultSections({ result, traces, marker = null }: { result: Result | null; traces: CriticalPaths | null; marker?: number | null }) {
  return (
    <>
      <BriefFigures result={result} />
      <CpuUsage result={result} />
      <CacheHits result={result} />
      <SessionSteps result={result} />
      <ConsumerLimits result={result} />
      <ScheduledChanges result={result} marker={marker} />
      <CriticalPath paths={traces} />
    </>
  );
}
