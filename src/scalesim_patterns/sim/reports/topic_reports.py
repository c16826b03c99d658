"""Topic figures: per consumer group delivered, redelivered and dead-lettered messages, the
backlog (waiting plus in flight) and the age of the oldest message, over the run and per window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from scalesim_patterns.sim.core.histogram import LogHistogram
from scalesim_patterns.sim.network.topics import GroupRuntime, TopicRuntime

if TYPE_CHECKING:
    # The report functions import these when a run reports; `TopicSeries` records from the
    # first event, before the results' dataclasses are defined.
    from scalesim_patterns.sim.reports.results import ConsumerGroupReport, Latency, TopicReport

__all__ = ["TopicSeries", "group_report", "topic_report"]

COLUMNS = (
    "backlog",
    "backlog_max",
    "age",
    "age_max",
    "delivered",
    "redeliveries",
    "dead_lettered",
)
"""Per window: backlog and oldest age at the window's end, their largest values in the window,
and messages acknowledged, redelivered and dead-lettered in it."""


def _latency(hist: LogHistogram) -> Latency[float]:
    from scalesim_patterns.sim.reports.results import QUANTILES, Latency

    if hist.count == 0:
        return Latency(None, None, None, None, None, None, None)
    q = hist.quantiles(QUANTILES)
    return Latency(hist.mean, q[0], q[1], q[2], q[3], q[4], hist.max)


def group_report(g: GroupRuntime, span: float) -> ConsumerGroupReport[float]:
    from scalesim_patterns.sim.reports.results import ConsumerGroupReport

    sub = g.sub
    now = g.kernel.now
    _offered0, delivered0, dead0, redelivered0, backlog0 = g.base
    sub.flush(now)
    return ConsumerGroupReport(
        delivered=float(sub.delivered - delivered0),
        redeliveries=float(sub.redelivered - redelivered0),
        dead_lettered=float(sub.dead_lettered - dead0),
        backlog_start=float(backlog0),
        backlog_end=float(sub.backlog),
        backlog_mean=(sub.area - sub.area0) / span if span > 0 else float(sub.backlog),
        backlog_max=float(sub.backlog_max),
        age_end=sub.oldest_age(now),
        age_max=max(sub.age_max, sub.oldest_age(now)),
        lag=_latency(g.lag),
    )


def topic_report(t: TopicRuntime, span: float) -> TopicReport[float]:
    from scalesim_patterns.sim.reports.results import TopicReport

    groups = {name: group_report(g, span) for name, g in t.groups.items()}
    merged = LogHistogram.merged(g.lag for g in t.groups.values())
    return TopicReport(
        published=float(t.published - t.published0),
        consumed=float(sum(g.calls - g.calls0 for g in t.groups.values())),
        failures=float(sum(g.fails - g.fails0 for g in t.groups.values())),
        lag=_latency(merged),
        redeliveries=sum(r.redeliveries for r in groups.values()),
        dead_lettered=sum(r.dead_lettered for r in groups.values()),
        backlog_end=sum(r.backlog_end for r in groups.values()),
        age_max=max((r.age_max for r in groups.values()), default=0.0),
        groups=groups,
    )


class TopicSeries:
    """Per-window columns for every `topic/group`; closing a window costs a few reads per group."""

    def __init__(self, topics: Mapping[str, TopicRuntime]) -> None:
        self.groups: dict[str, GroupRuntime] = {
            f"{tname}/{gname}": g for tname, t in topics.items() for gname, g in t.groups.items()
        }
        self.columns: dict[str, dict[str, list[float | None]]] = {
            key: {c: [] for c in COLUMNS} for key in self.groups
        }
        self.last: dict[str, tuple[int, int, int]] = {key: (0, 0, 0) for key in self.groups}

    def close(self, now: float) -> None:
        for key, g in self.groups.items():
            sub = g.sub
            cols = self.columns[key]
            backlog_max, age_max = sub.close_window(now)
            d0, r0, x0 = self.last[key]
            cols["backlog"].append(float(sub.backlog))
            cols["backlog_max"].append(float(backlog_max))
            cols["age"].append(sub.oldest_age(now))
            cols["age_max"].append(age_max)
            cols["delivered"].append(float(sub.delivered - d0))
            cols["redeliveries"].append(float(sub.redelivered - r0))
            cols["dead_lettered"].append(float(sub.dead_lettered - x0))
            self.last[key] = (sub.delivered, sub.redelivered, sub.dead_lettered)
