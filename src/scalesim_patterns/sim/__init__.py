"""Discrete-event simulation of an architecture: `simulate(arch)` and `compare(a, b)`.

See docs/simulation.md for how the engine works and docs/results-format.md for its output.
"""

from .api import compare, simulate
from .engine import Engine, SimulationError
from .pipeline import CallSite, Extensions, Installer, Invoke, LayerFactory
from .results import (
    Comparison,
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
from .stats import Estimate

__all__ = [
    "CallSite",
    "Comparison",
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
    "compare",
    "simulate",
]
