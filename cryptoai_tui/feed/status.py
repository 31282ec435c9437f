"""What a feed tells its consumers besides candles: its state and its counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType


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
    """A change in a feed's state: the reason as a plain sentence, the numbers as data.

    `message` is the reason only ("127.0.0.1:9 refused the connection: ..."); it never
    carries the retry figure, which would be stale the moment it is printed. `retry_in` is
    the seconds from `at` until the next attempt and `retry_at` the same moment as epoch
    seconds (`time.time()`, like `at`), so a front end counts down `retry_at - time.time()`
    and composes its own sentence (see `retry_sentence`). `progress`/`total` carry bootstrap
    progress (n/N candles); `backfilled` how many candles a gap repair recovered.
    `reset` (with `symbol`/`interval`) means "history restored late: restart this stream":
    a stream that went live without its history (the download kept failing) got it later,
    and what follows for that stream is its whole series again, the history candles and
    then the closed candles already delivered live, in order, once each, all with
    `backfilled=True`, closed by a FeedStatus(LIVE, backfilled=K) for the K history candles;
    then live continues. A consumer that keeps a series drops that stream's series and
    state on it and rebuilds from what follows; one that prints (`stream`) skips the
    candles it already printed.
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
    retry_at: float | None = None
    reset: bool = False

    def retry_left(self, now: float) -> float | None:
        """Seconds still to wait at epoch `now` (never negative), None when nothing waits."""
        if self.retry_at is None:
            return self.retry_in
        return max(0.0, self.retry_at - now)


def retry_sentence(state: ConnectionState, retry_in: float | None) -> str:
    """The words a command-line front end appends to a status' reason: "Reconnecting in
    4.2 s." while a connection waits, "Retrying in 2.0 s." for anything else, "" when
    nothing waits."""
    if retry_in is None:
        return ""
    verb = "Reconnecting" if state in (ConnectionState.RECONNECTING, ConnectionState.STALLED) else "Retrying"
    return f"{verb} now." if retry_in <= 0 else f"{verb} in {retry_in:.1f} s."


def _no_refusals() -> Mapping[str, int]:
    return MappingProxyType({})


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
    #: refused frames and REST rows by `MalformedMessageError.reason` ("bad JSON": 18, ...),
    #: plus the feed's own "open time in the future"
    refused: Mapping[str, int] = field(default_factory=_no_refusals, hash=False)
