"""Candidates of a capacity search, simulated on Dask one replication per task.

A capacity search (capacity.py) asks one question at a time — does this assignment, at this
load, meet every SLO? — and the next question depends on the answer, so its parallelism is
within a candidate: its `replications` runs are Dask tasks (cluster.py), on the embedded
LocalCluster or the user's scheduler, and their results are taken as they finish. When all
are in, the SLO verdicts are those `simulate` gives (the same engine, seeds and summary), and
the candidate's verdict is journaled (journal.py) before the search goes on, so Ctrl-C or a
crash loses no finished candidate and `--resume` replays the search without simulating them
again. A candidate the search asks about twice is simulated once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalesim_patterns.model import Architecture

from .journal import Journal, digest
from .tasks import replicate

if TYPE_CHECKING:
    from scalesim_patterns.sim.parallel import Replication

__all__ = ["Candidates", "Replica", "SearchProgress", "Verdict", "candidate_key", "run_replica"]


@dataclass(frozen=True)
class Replica:
    """One replication of one candidate: what a worker runs. The candidate travels as the text
    of its architecture (validated here already), so a worker needs only this package."""

    candidate: str
    replication: int
    replications: int
    text: str
    seed: int
    duration: float | None
    warmup: float | None
    scenario: str | None
    label: str = ""
    """The candidate in words, for messages: `back=3 front=1 at 2×`."""


def run_replica(task: Replica) -> Replication:
    """Simulate one replication exactly as `simulate` would (same engine options and seed)."""
    from scalesim_patterns.model import validate_text

    model, diags = validate_text(task.text)
    if model is None:  # pragma: no cover - the search validated it
        raise ValueError("; ".join(str(d) for d in diags))
    return replicate(model, task, task.replications)


@dataclass(frozen=True)
class Verdict:
    """What the search keeps of a simulated candidate."""

    met: bool
    """Every SLO met (an uncertain verdict is not met)."""
    words: str
    """The verdicts as the steps print them: `fast met, errors uncertain`."""
    utilisation: dict[str, float]
    """Mean utilisation of each varied service."""

    def row(self, key: str) -> dict[str, Any]:
        return {"candidate": key, "met": self.met, "words": self.words, "util": self.utilisation}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Verdict:
        return cls(
            bool(row["met"]), str(row["words"]), {k: float(v) for k, v in row["util"].items()}
        )


@dataclass(frozen=True)
class SearchProgress:
    """Passed to the progress callback as each replication of a candidate comes back."""

    candidate: int
    """How many candidates the search has asked about, this one included."""
    label: str
    done: int
    """Replications of this candidate finished."""
    total: int
    runs: int
    """Replications finished by this process in all (journaled candidates not counted)."""


def candidate_key(assignment: dict[str, int], load: float) -> str:
    """The journal's name for a candidate: its replicas (sorted) and the load, exactly."""
    return json.dumps(dict(sorted(assignment.items()))) + "@" + repr(load)


Runner = Callable[[list[Replica], Callable[[Replica, Any], None]], None]
"""Runs the replicas (on Dask) and hands each result to the callback as it arrives."""


class Candidates:
    """Every candidate's verdict, from the journal when it is there, else simulated.

    `count` is the number of times the search asked (a repeated question counts again, as it
    did when each was simulated), `resumed` those answered by a journal of an earlier run.
    """

    def __init__(
        self,
        run: Runner,
        search_id: str,
        *,
        replications: int,
        seed: int,
        duration: float | None,
        warmup: float | None,
        scenario: str,
        journal: Journal | None = None,
        progress: Callable[[SearchProgress], None] | None = None,
    ) -> None:
        self._run = run
        self.search_id = search_id
        self.replications = replications
        self.seed = seed
        self.duration = duration
        self.warmup = warmup
        self.scenario = scenario
        self.journal = journal
        self.progress = progress
        self.known: dict[str, Verdict] = {}
        if journal is not None:
            self.known = {k: Verdict.from_row(r) for k, r in journal.rows.items()}
        self.from_journal = set(self.known)
        self.count = 0
        self.resumed = 0
        self.runs = 0

    def verdict(
        self, key: str, label: str, model: Architecture, text: str, varied: list[str]
    ) -> Verdict:
        """The candidate's verdict; `model` is `text` validated, `varied` the services whose
        utilisation the search reads."""
        self.count += 1
        if key in self.known:
            if key in self.from_journal:
                self.from_journal.discard(key)
                self.resumed += 1
            return self.known[key]
        found = self._simulate(key, label, model, text, varied)
        self.known[key] = found
        if self.journal is not None:
            self.journal.add(found.row(key))
        return found

    def _simulate(
        self, key: str, label: str, model: Architecture, text: str, varied: list[str]
    ) -> Verdict:
        from scalesim_patterns.sim.budget import check
        from scalesim_patterns.sim.reports.results import summarise
        from scalesim_patterns.sim.reports.slo import evaluate_slos

        check(model, duration=self.duration, scenario=self.scenario, replications=self.replications)
        tag = digest(key)
        tasks = [
            Replica(
                f"{self.search_id}-{tag}",
                r,
                self.replications,
                text,
                self.seed,
                self.duration,
                self.warmup,
                self.scenario,
                label,
            )
            for r in range(self.replications)
        ]
        results: dict[int, Replication] = {}

        def arrived(task: Replica, rep: Replication) -> None:
            if task.replication in results:  # pragma: no cover - Dask hands each future once
                return
            results[task.replication] = rep
            self.runs += 1
            if self.progress is not None:
                self.progress(
                    SearchProgress(self.count, label, len(results), self.replications, self.runs)
                )

        if self.progress is not None:
            self.progress(SearchProgress(self.count, label, 0, self.replications, self.runs))
        self._run(tasks, arrived)
        reps = [results[r] for r in range(self.replications)]
        summary = summarise([r.run for r in reps], reps[0].warmup)
        slos = evaluate_slos(model, summary)
        return Verdict(
            all(s.verdict == "met" for s in slos),
            ", ".join(f"{s.name} {s.verdict}" for s in slos),
            {
                name: summary.services[name].utilisation.mean
                for name in varied
                if name in summary.services
            },
        )
