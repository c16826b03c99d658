"""Discrete-event simulation of an architecture: `simulate(arch)` and `compare(a, b)`.

See docs/simulation.md for how the engine works and docs/results-format.md for its output.
"""

from scalesim_patterns.sim.api import compare, simulate
from scalesim_patterns.sim.core.stats import Estimate
from scalesim_patterns.sim.engine import Engine, SimulationError
from scalesim_patterns.sim.network.pipeline import (
    CallSite,
    Extensions,
    Installer,
    Invoke,
    LayerFactory,
)
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
