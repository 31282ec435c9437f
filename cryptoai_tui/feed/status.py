"""What a feed tells its consumers besides candles: its state and its counters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ConnectionState(str, Enum):
    CONNECTING = "connecting"
    BOOTSTRAPPING = "bootstrapping"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A change in a feed's state, with a plain sentence for the user.

    `progress`/`total` carry bootstrap progress (n/N candles); `retry_in` the seconds until
    the next connection attempt; `backfilled` how many candles a gap repair recovered.
    `symbol`/`interval` are None when the status is about the whole connection.
    """

    state: ConnectionState
    message: str
    symbol: str | None = None
    interval: str | None = None
    progress: int = 0
    total: int = 0
    retry_in: float | None = None
    backfilled: int = 0
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class FeedCounters:
    """Monotonic counters since the feed started (a frozen copy; see KlineFeed.counters)."""

    messages_received: int = 0
    messages_processed: int = 0
    messages_malformed: int = 0
    reconnects: int = 0
    candles_backfilled: int = 0
    duplicates_dropped: int = 0
    out_of_order_dropped: int = 0
    # forming updates superseded by a newer one of the same candle before the consumer read
    # them (the feed coalesces at the source: every close is kept, only the newest forming)
    forming_coalesced: int = 0
