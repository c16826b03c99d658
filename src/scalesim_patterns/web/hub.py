"""Wakes the event streams of a run when its worker thread has stored new events.

Streams read events from the store (so a late or returning client gets them all); the hub only
says "look again". Threads call `wake_threadsafe`; streams `await wait(run_id)`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

__all__ = ["Hub"]


class Hub:
    def __init__(self) -> None:
        self._waiters: defaultdict[int, set[asyncio.Event]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None

    def register(self, run_id: int) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters[run_id].add(event)
        return event

    def unregister(self, run_id: int, event: asyncio.Event) -> None:
        waiters = self._waiters.get(run_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                self._waiters.pop(run_id, None)

    def wake(self, run_id: int) -> None:
        for event in self._waiters.get(run_id, ()):
            event.set()

    def wake_threadsafe(self, run_id: int) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.wake, run_id)
