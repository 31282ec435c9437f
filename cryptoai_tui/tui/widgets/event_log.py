"""Reconnects, backfills, state changes and confirmed signal changes, newest first."""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable

from textual.content import Content
from textual.widgets import Static

from cryptoai_tui.tui.formatting import format_candle_time, format_clock
from cryptoai_tui.tui.live_events import FIRST_SIGNALS_SHOWN, EventKind, LiveEvent

_KIND_STYLE = {
    EventKind.STATE: "$accent",
    EventKind.RECONNECT: "$warning",
    EventKind.BACKFILL: "$warning",
    EventKind.SIGNAL: "bold",
    EventKind.MODE: "$accent",
    EventKind.ERROR: "$error",
}
MAX_EVENTS = 100


class EventLog(Static):
    """Newest at the top, so a short panel always shows what just happened.

    Verdicts on the start-up history arrive over several frames while it is evaluated; only
    the newest few are kept, below everything seen live (they are older than all of it), so
    opening a session does not fill the log with the past."""

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._clock = clock
        self._lines: deque[Content] = deque(maxlen=MAX_EVENTS)
        self._history: deque[Content] = deque(maxlen=FIRST_SIGNALS_SHOWN)

    def add(self, events: Iterable[LiveEvent]) -> None:
        """Stamp events with when they happened: a verdict with its candle's time (exchange
        time, a date for daily and longer candles), everything else with the local clock,
        when the trader saw it (the exchange clock is unknown before the first message and
        runs fast on a sped-up simulator)."""
        added = False
        now_ms = int(self._clock() * 1000)
        for event in events:
            if event.at_ms is not None:
                stamp = format_candle_time(event.at_ms, event.interval)
            else:
                stamp = format_clock(now_ms)
            line = Content.assemble((stamp, "$text-muted"), "  ", (event.text, _KIND_STYLE[event.kind]))
            (self._history if event.history else self._lines).appendleft(line)
            added = True
        if added:
            self.update(Content("\n").join(self._shown()))

    def _shown(self) -> list[Content]:
        return [*self._lines, *self._history]

    @property
    def lines(self) -> list[str]:
        """Plain text of the log, newest first (what a test or a copy-paste sees)."""
        return [line.plain for line in self._shown()]
