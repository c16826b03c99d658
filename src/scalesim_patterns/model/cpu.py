"""A replica's processors: threads are not cores.

Without a `cpu:` block a service is what it always was: `workers` servers that each hold a
request for its `work` (and, in thread mode, for its steps). With one, `workers` is only the
concurrency — threads of a pool, or the requests an event loop admits — and the `work` is CPU
time served by the replica's cores:

- `concurrency: thread`: the operating system (or CPython's GIL, which hands the interpreter to
  another thread every `sys.getswitchinterval()` = 5 ms) time-slices the cores among the threads
  that are computing, which is processor sharing; a thread that waits on a call or a query uses no
  CPU.
- `concurrency: async`: an event loop runs each callback to completion, so the computing requests
  are served first come, first served, one per loop (`cores` loops).

The CFS quota (`resources.cpuLimit`, the generator's default being twice the request) is applied
as the kernel does: in each `quotaPeriod` the replica may use `limit × period` CPU-seconds; when
they are used up its threads are throttled until the period ends.
"""

import math

from pydantic import Field, model_validator

from .base import Spec
from .units import Duration

__all__ = ["DEFAULT_QUOTA_PERIOD", "CpuModel"]

DEFAULT_QUOTA_PERIOD = 0.1
"""`cpu.cfs_period_us` = 100 000 µs, the kernel's and the kubelet's (`--cpu-cfs-quota-period`)
default."""


class CpuModel(Spec):
    """How a replica's CPU serves its endpoints' `work`."""

    cores: int | None = Field(None, ge=1, le=1024)
    """CPUs the replica's threads run on at once. Default: the CPU limit rounded up
    (`resources.cpuLimit`, else twice `resources.cpu`, as the generated manifests set it)."""
    gil: bool = False
    """CPython's global interpreter lock: one thread runs Python code at a time, so the
    replica computes on one core whatever its thread count."""
    throttling: bool = True
    """Enforce the CPU limit as a CFS quota (throttled until the period ends once it is used)."""
    quota_period: Duration = Field(DEFAULT_QUOTA_PERIOD, gt=0)
    """`cpu.cfs_period_us`; the quota per period is the CPU limit × this."""

    @model_validator(mode="after")
    def _gil_one_core(self) -> "CpuModel":
        if self.gil and self.cores is not None and self.cores > 1:
            raise ValueError(
                f"gil: true runs one thread at a time, so cores: {self.cores} cannot be used; "
                "drop `cores` (1) or set gil: false"
            )
        return self

    def limit(self, cpu_request: float, cpu_limit: float | None) -> float:
        """The container's CPU limit in cores, as the generator writes it."""
        return cpu_limit if cpu_limit is not None else 2 * cpu_request

    def parallelism(self, cpu_request: float, cpu_limit: float | None) -> int:
        """How many requests compute at once at full speed."""
        if self.gil:
            return 1
        if self.cores is not None:
            return self.cores
        return max(1, math.ceil(self.limit(cpu_request, cpu_limit) - 1e-9))

    def quota(self, cpu_request: float, cpu_limit: float | None) -> float | None:
        """CPU-seconds per `quota_period`, or None when the quota can never bind."""
        if not self.throttling:
            return None
        limit = self.limit(cpu_request, cpu_limit)
        if limit >= self.parallelism(cpu_request, cpu_limit):
            return None
        return limit * self.quota_period

    def capacity(self, cpu_request: float, cpu_limit: float | None) -> float:
        """Long-run CPU-seconds per second one replica can serve."""
        cores = float(self.parallelism(cpu_request, cpu_limit))
        if self.throttling:
            return min(cores, self.limit(cpu_request, cpu_limit))
        return cores
