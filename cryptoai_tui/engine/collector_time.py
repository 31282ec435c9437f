"""CPU time the garbage collector spends in the engine's thread.

A full collection in a process the size of the app (Textual, pandas once a backtest has
run) takes 50-150 ms of CPU. It runs wherever an allocation happens to trip it, often in
the middle of a 10 µs strategy, and that strategy's CPU clock then shows the collector's
work as its own: a healthy strategy is branded as overrunning and a confirmed signal turns
into an ERROR no backtest would show. The engine subtracts this total from the CPU a
strategy is charged with.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable


class CollectorTime:
    """Sums the CPU time of garbage collections run by the thread that `install`ed it.

    Collections triggered by other threads are not counted: they do not advance this
    thread's CPU clock. `total_ns` is read on the hot path, so it is a plain attribute.
    """

    __slots__ = ("_cpu_timer", "_thread", "_started", "total_ns")

    def __init__(self, cpu_timer: Callable[[], int]) -> None:
        self._cpu_timer = cpu_timer
        self._thread: int | None = None
        self._started = 0
        self.total_ns = 0

    def install(self) -> None:
        """Start counting collections run by the calling thread."""
        self._thread = threading.get_ident()
        if self._on_collection not in gc.callbacks:
            gc.callbacks.append(self._on_collection)

    def remove(self) -> None:
        """Stop counting; the collector keeps no reference to this object."""
        while self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self._thread:
            return
        if phase == "start":
            self._started = self._cpu_timer()
        else:
            self.total_ns += self._cpu_timer() - self._started
