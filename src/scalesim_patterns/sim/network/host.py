"""What plug-ins see of the engine: a narrow, typed interface instead of the engine itself.

Patterns (`sim/patterns/`), platform pieces (`sim/platform/`), the default extensions and the
reports that hook into a run are typed against `Host`, never against `Engine`: they read the
model, the clock and the random streams, find the runtimes of services and databases, build
call sites, keep their own state in `plugins`, and hook into warm-up, window closing and the
report. Anything else of the engine is out of their reach, so the engine can change its
internals without touching them, and a plug-in can be tested with any object that has these
members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    from scalesim_patterns.model.architecture import Architecture
    from scalesim_patterns.model.resilience import ClientPolicy
    from scalesim_patterns.model.traffic import Scenario
    from scalesim_patterns.sim.core.kernel import Kernel
    from scalesim_patterns.sim.core.plugins import PluginStates
    from scalesim_patterns.sim.core.rng import Streams
    from scalesim_patterns.sim.network.pipeline import CallSite, Invoke
    from scalesim_patterns.sim.network.station import EndpointRuntime, ServiceRuntime
    from scalesim_patterns.sim.network.steps import DatabaseRuntime

    # The run's result types: plain data, read by hooks that add figures to them.
    from scalesim_patterns.sim.reports.results import Report, TimeSeries
    from scalesim_patterns.sim.tracing.recorder import Tracer

__all__ = ["Host", "SimulationError", "WindowRecorder"]


@mypyc_attr(allow_interpreted_subclasses=True)  # budget's SimulationTooLarge
class SimulationError(ValueError):
    """The architecture uses something the simulator cannot run."""


class WindowRecorder(Protocol):
    """The time-series columns a window hook may extend when a window closes."""

    @property
    def time(self) -> list[float]:
        """Start of each closed window, the one closing included."""
        ...

    @property
    def services(self) -> dict[str, dict[str, list[float | None]]]:
        """Columns per service."""
        ...

    @property
    def clients(self) -> dict[str, dict[str, list[float | None]]]:
        """Columns per client (`caller->target`)."""
        ...


class Host(Protocol):
    """The engine as plug-ins see it (implemented by `sim.engine.Engine`)."""

    @property
    def arch(self) -> Architecture: ...
    @property
    def scenario(self) -> Scenario | None:
        """The scenario being run, if any."""
        ...

    @property
    def warmup(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def kernel(self) -> Kernel: ...
    @property
    def streams(self) -> Streams: ...
    @property
    def causes(self) -> int:
        """Number of outcome codes (`core.causes.CAUSE_NAMES`)."""
        ...

    @property
    def services(self) -> dict[str, ServiceRuntime]: ...
    @property
    def gateway(self) -> ServiceRuntime | None: ...
    @property
    def databases(self) -> dict[str, DatabaseRuntime]: ...
    @property
    def sites(self) -> list[CallSite]:
        """Every call site built so far."""
        ...

    @property
    def plugins(self) -> PluginStates:
        """Plug-ins' own state, one object per class."""
        ...

    @property
    def tracer(self) -> Tracer | None:
        """Records spans of sampled requests, in a run asked for traces (replication 0 only);
        it is also the `Tracer` in `plugins`."""
        ...

    @property
    def notes(self) -> list[str]:
        """Remarks for the reader of the results."""
        ...

    @property
    def reset_hooks(self) -> list[Callable[[], None]]:
        """Run at the end of warm-up, after the engine's own counters are reset."""
        ...

    @property
    def window_hooks(self) -> list[Callable[[WindowRecorder], None]]:
        """Run when a time-series window closes, after the engine's own columns."""
        ...

    @property
    def report_hooks(self) -> list[Callable[[Report[float]], Report[float]]]:
        """Each may return the run's report with figures added."""
        ...

    @property
    def run_extras(self) -> dict[str, Callable[[TimeSeries], Any]]:
        """Extra per-run sections of the result, computed after the run."""
        ...

    def every(self, period: float, fn: Callable[[float], None], start: float | None = None) -> None:
        """Call `fn(now)` every `period` simulated seconds from `start` (default: one period)."""
        ...

    def call_site(
        self, name: str, caller: str, target: str, policy: ClientPolicy, *, sidecars: int
    ) -> tuple[CallSite, Invoke]:
        """A new call site from `caller` to `target` ("service.endpoint") and its pipeline."""
        ...

    def endpoint(self, ref: str) -> EndpointRuntime:
        """The runtime of "service.endpoint"."""
        ...
