"""What the routes share: settings, the store, the runner, the hub, and cached generator work."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from scalesim_patterns.generate.lint import Linter

from .config import Settings
from .hub import Hub
from .runner import Runner
from .store import Store

__all__ = ["AppContext", "context"]


@dataclass
class AppContext:
    settings: Settings
    store: Store
    runner: Runner
    hub: Hub
    _linter: Linter | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _generated: OrderedDict[str, tuple[dict[str, str], dict[str, Any]]] = field(
        default_factory=OrderedDict
    )

    def linter(self) -> Linter:
        with self._lock:
            if self._linter is None:
                self._linter = Linter()
            return self._linter

    def cached_generation(self, key: str) -> tuple[dict[str, str], dict[str, Any]] | None:
        with self._lock:
            hit = self._generated.get(key)
            if hit is not None:
                self._generated.move_to_end(key)
            return hit

    def cache_generation(self, key: str, value: tuple[dict[str, str], dict[str, Any]]) -> None:
        with self._lock:
            self._generated[key] = value
            while len(self._generated) > 16:
                self._generated.popitem(last=False)


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
