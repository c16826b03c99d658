"""`scalesim calibrate`: the simulator checked against the generated services running here.

A design is run twice under the same traffic: for real (the generated services as local
processes against the machine's servers, driven by Locust) and simulated (a copy of the file with
the costs the file cannot know measured and written in). The report puts the two side by side per
entry, and for a scenario also what the resilience mechanisms did in each.

- `twin`: the copy of the file that describes what runs locally (one process per service, no
  gateway or mesh, external services stood in for), so both sides run the same system.
- `costs`: the probe that measures per-request, per-hop, per-query and per-publish costs.
- `faults`: a scenario's faults made real on the driver's clock.
- `compare`: real vs simulated, with relative errors and the issue's tolerances.
- `session`: the whole run.
"""

from .compare import Comparison, compare_results
from .costs import Costs
from .session import CalibrationError, CalibrationReport, calibrate

__all__ = [
    "CalibrationError",
    "CalibrationReport",
    "Comparison",
    "Costs",
    "calibrate",
    "compare_results",
]
