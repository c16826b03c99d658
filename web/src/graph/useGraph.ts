import { useEffect, useMemo, useRef, useState } from "react";
import { readDocument } from "../yaml/sync";
import { autoLayout, hasLayout, placeNewNodes, type Positions } from "./layout";
import { architectureGraph, type Graph } from "./mapping";
import { routeSchedules, withScheduledRoutes, type RouteSchedule } from "./routeChanges";

/** The graph of a YAML text; the last readable one while the text does not parse. */
export function useGraphOf(text: string): Graph {
  const last = useRef<Graph>({ nodes: [], edges: [] });
  return useMemo(() => {
    const { value, errors } = readDocument(text);
    if (errors.length === 0 && value !== null) last.current = architectureGraph(value);
    return last.current;
  }, [text]);
}

/**
 * A run's graph: the architecture's, plus an edge to every target the run's scenario's scheduled
 * route changes can send to, with the schedules to tell each window's share.
 */
export function useRunGraphOf(text: string, scenario: string | null): { graph: Graph; schedules: RouteSchedule[] } {
  const base = useGraphOf(text);
  return useMemo(() => {
    const { value, errors } = readDocument(text);
    if (errors.length > 0 || value === null) return { graph: base, schedules: [] };
    const schedules = routeSchedules(value, scenario);
    return { graph: withScheduledRoutes(base, value, schedules), schedules };
  }, [base, text, scenario]);
}

/**
 * Positions for every node: the kept ones, ELK's for a graph that has none yet, and a nearby
 * place for nodes added since. `onAuto` receives ELK's positions and its time in milliseconds.
 */
export function usePositions(graph: Graph, kept: Positions, onAuto?: (p: Positions, ms: number) => void): Positions | null {
  const [auto, setAuto] = useState<Positions | null>(null);
  const needsElk = graph.nodes.length > 0 && !hasLayout(graph, kept) && auto === null;
  useEffect(() => {
    if (!needsElk) return;
    let live = true;
    void autoLayout(graph).then((r) => {
      if (!live) return;
      setAuto(r.positions);
      onAuto?.(r.positions, r.ms);
    });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [needsElk]);
  return useMemo(() => {
    if (graph.nodes.length === 0) return {};
    if (hasLayout(graph, kept)) return placeNewNodes(graph, kept);
    if (auto) return placeNewNodes(graph, auto);
    return null;
  }, [graph, kept, auto]);
}
