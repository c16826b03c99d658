"""The web app: `scalesim serve` runs a FastAPI server over the catalog, the model, the simulator
and the generator, with a run store shared with the CLI. The page lives in `static/`.

docs/web-api.md is the API contract; docs/web-server.md says how to run and expose it.
"""

from .app import create_app
from .config import Limits, Settings

__all__ = ["Limits", "Settings", "create_app"]
