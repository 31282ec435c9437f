"""What the engine reads: a typed source of candle events and feed statuses.

The engine never opens a socket, a protocol or a simulator; the composition root
(`wiring.open_kline_feed`, the commands, the TUI's services) builds the source and hands it
over. `KlineFeed` and the CSV `ReplaySource` both satisfy this Protocol, so live, replay and
tests run the very same consume loop.
"""

from __future__ import annotations

from typing import AsyncIterator, Protocol, runtime_checkable

from cryptoai_tui.feed.status import FeedCounters, FeedStatus
from cryptoai_tui.market.candle import CandleEvent

SourceItem = CandleEvent | FeedStatus


@runtime_checkable
class CandleSource(Protocol):
    """An async iterable of CandleEvent | FeedStatus for one stream, plus its health figures.

    Guarantees the engine relies on: every closed candle once and in order; forming updates
    may be coalesced at the source (superseded ones counted in `counters.forming_coalesced`).
    """

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    @property
    def counters(self) -> FeedCounters:
        """The source's own counts (frames, malformed, reconnects, backfilled, dropped)."""
        ...

    @property
    def clock_offset_ms(self) -> float | None:
        """Exchange time minus local time (ms) if measured, else None (lag is then uncorrected)."""
        ...
