"""Discrete-event simulation of an architecture: `simulate(arch)` and `compare(a, b)`.

See docs/simulation.md for how the engine works and docs/results-format.md for its output.
"""

from typing import TYPE_CHECKING, Any

from scalesim_patterns.sim.api import compare, simulate
from scalesim_patterns.sim.engine import Engine, SimulationError
from scalesim_patterns.sim.network.pipeline import (
    CallSite,
    Extensions,
    Installer,
    Invoke,
    LayerFactory,
)

if TYPE_CHECKING:
    from scalesim_patterns.sim.core.stats import Estimate
    from scalesim_patterns.sim.reports.live import Window, WindowFn
    from scalesim_patterns.sim.reports.results import (
        Comparison,
        ConsumerGroupReport,
        DatabaseReport,
        EndpointReport,
        EntryReport,
        Latency,
        Progress,
        ReplicaReport,
        Report,
        RunResult,
        ServiceReport,
        SimulationResult,
        TimeSeries,
        TopicReport,
    )

__all__ = [
    "CallSite",
    "Comparison",
    "ConsumerGroupReport",
    "DatabaseReport",
    "EndpointReport",
    "Engine",
    "EntryReport",
    "Estimate",
    "Extensions",
    "Installer",
    "Invoke",
    "Latency",
    "LayerFactory",
    "Progress",
    "ReplicaReport",
    "Report",
    "RunResult",
    "ServiceReport",
    "SimulationError",
    "SimulationResult",
    "TimeSeries",
    "TopicReport",
    "Window",
    "WindowFn",
    "compare",
    "simulate",
]

_FROM = {"Estimate": "core.stats", "Window": "reports.live", "WindowFn": "reports.live"}
"""Where the names of `__all__` not imported above come from when first asked for; any other
such name is one of the results' (`reports/results.py`)."""


def __getattr__(name: str) -> Any:
    # The results', the live windows' and the estimates' classes load on first use: they are
    # dataclasses, which cost their definition at import, and a run needs none of them before
    # it reports.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = _FROM.get(name, "reports.results")

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
