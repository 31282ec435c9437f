"""Per-stream state of a KlineFeed and the mailbox its consumer drains.

`StreamState` is one (symbol, interval) stream: its sequencer, whether it is being repaired
and the klines parked meanwhile. `Mailbox` is where the feed puts what the consumer reads:
coalescing happens here, at the source, so nothing downstream needs a second queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from cryptoai_tui.exchanges.base import KlineMessage
from cryptoai_tui.feed.sequencer import KlineSequencer
from cryptoai_tui.market import Candle, CandleEvent, Interval

if TYPE_CHECKING:
    from cryptoai_tui.feed.connection import FeedConnection


class Counts:
    """Mutable counters owned by the feed; `KlineFeed.counters` hands out frozen copies."""

    __slots__ = ("received", "processed", "malformed", "reconnects", "backfilled", "duplicates", "stale",
                 "refused")

    def __init__(self) -> None:
        self.received = self.processed = self.malformed = self.reconnects = 0
        self.backfilled = self.duplicates = self.stale = 0
        #: refused frames and rows by `MalformedMessageError.reason`
        self.refused: dict[str, int] = {}


class StreamState:
    """One (symbol, interval) stream of a feed."""

    __slots__ = ("symbol", "interval", "interval_name", "name", "history", "seq", "repairing", "pending",
                 "conn", "key", "future_slack_ms", "kept")

    def __init__(self, symbol: str, interval: Interval, name: str, history: int) -> None:
        self.symbol = symbol
        self.history = history
        self.interval = interval
        self.interval_name = interval.name
        self.name = name
        self.key = (symbol, interval.name)
        self.seq = KlineSequencer(interval)
        #: True while missing candles are fetched; klines then wait in `pending`
        self.repairing = False
        self.pending: list[tuple[KlineMessage, float]] = []
        self.conn: FeedConnection | None = None
        #: how far a kline may open after its own frame's event time (one interval): more is
        #: a kline from the future, refused on arrival instead of parked as a gap
        self.future_slack_ms = 31 * 86_400_000 if interval.is_calendar else interval.ms
        #: while the stream is live without its history (the download failed): the closed
        #: candles delivered since, newest `history` of them, replayed after the history
        #: when it arrives late; None otherwise (nothing is kept on the hot path)
        self.kept: deque[Candle] | None = None

    def park(self, message: KlineMessage, received_at: float) -> None:
        pending = self.pending
        candle = message.candle
        if pending and not candle.closed:
            last = pending[-1][0]
            # Only the newest forming update of a candle matters; keeps the list short
            # when a repair takes long on a busy stream.
            if (not last.candle.closed and last.candle.open_time == candle.open_time
                    and last.event_time <= message.event_time):
                pending[-1] = (message, received_at)
                return
        pending.append((message, received_at))


def exchange_order(item: tuple[KlineMessage, float]) -> tuple[int, bool, int]:
    """Parked klines in the order the exchange produced them: by candle, forming before its
    close, then by event time."""
    message = item[0]
    return message.candle.open_time, message.candle.closed, message.event_time


class _Slot:
    """One place in the mailbox; a superseded forming update leaves its slot empty."""

    __slots__ = ("item", "key")

    def __init__(self, item: Any, key: tuple[str, str] | None) -> None:
        self.item = item
        self.key = key


class Mailbox:
    """What a feed says, in order, with forming updates coalesced per stream at the source.

    Every closed candle and every status is kept, in the order the feed produced them. A
    forming update replaces the stream's previous forming update if the consumer has not
    read that one yet (it moves to the newer one's place, so the order stays a subsequence
    of what the feed produced); a closed candle drops the unread forming update of the same
    candle. A slow consumer therefore reads at most one forming update per stream per
    drain, however fast the exchange pushes, and never misses a close.
    """

    __slots__ = ("_slots", "_forming", "_waiter", "coalesced")

    def __init__(self) -> None:
        self._slots: deque[_Slot] = deque()
        #: the unread forming update of each stream, if any
        self._forming: dict[tuple[str, str], _Slot] = {}
        self._waiter: asyncio.Future[None] | None = None
        #: forming updates superseded before the consumer read them
        self.coalesced = 0

    def __len__(self) -> int:
        return sum(1 for slot in self._slots if slot.item is not None)

    def put(self, item: Any) -> None:
        """A status (or the end marker): kept in order, never coalesced."""
        self._slots.append(_Slot(item, None))
        self._wake()

    def put_candle(self, event: CandleEvent) -> None:
        key = (event.symbol, event.interval)
        forming = self._forming
        old = forming.get(key)
        if event.candle.closed:
            if old is not None:
                del forming[key]
                if old.item is not None and old.item.candle.open_time == event.candle.open_time:
                    old.item = None
                    self.coalesced += 1
            self._slots.append(_Slot(event, None))
        else:
            if old is not None and old.item is not None:
                old.item = None
                self.coalesced += 1
            slot = _Slot(event, key)
            forming[key] = slot
            self._slots.append(slot)
        self._wake()

    def get_nowait(self) -> Any:
        """The next item; IndexError when none is waiting."""
        slots = self._slots
        while True:
            slot = slots.popleft()
            item = slot.item
            if item is None:
                continue
            key = slot.key
            if key is not None and self._forming.get(key) is slot:
                del self._forming[key]
            return item

    async def get(self) -> Any:
        while True:
            try:
                return self.get_nowait()
            except IndexError:
                pass
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
