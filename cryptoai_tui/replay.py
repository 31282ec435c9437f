"""Candles from a CSV, delivered the way a live feed delivers them.

`ReplaySource` is an async iterable of CandleEvent | FeedStatus, so `signals --replay`
runs the very engine code the live screen runs: only the source differs. It hands over one
closed candle at a time and yields to the event loop after each, so the engine evaluates
each candle as it arrives instead of finding thousands queued.

File format (as in tests/data/candles and shared/data/binance_spot):
`open_time_ms,open,high,low,close,volume`, one closed candle per row, oldest first; a
header row is optional.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import AsyncIterator, Iterable, Sequence

from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.candle_csv import CSV_COLUMNS, CandleFileError, read_candle_csv, write_candle_csv
from cryptoai_tui.market.interval import Interval

CSV_HEADER = CSV_COLUMNS
__all__ = ["CSV_HEADER", "CandleFileError", "ReplaySource", "read_candles_csv", "write_candles_csv"]


def read_candles_csv(path: str | Path, interval: Interval) -> list[Candle]:
    """Closed candles of `path` (see `market/candle_csv.py`), checked for spacing that
    matches `interval`: replaying 1m candles as 1h would evaluate every strategy on the
    wrong timeframe without a word. Raises CandleFileError with a sentence."""
    file = read_candle_csv(path, interval)
    spacing = file.spacing_ms
    if spacing is not None and not interval.is_calendar and spacing != interval.ms:
        raise CandleFileError(
            file.path,
            f"{file.path.name}: candles are {_describe_ms(spacing)} apart but the interval is "
            f"{interval.name}; pass the interval the file was recorded at.",
        )
    return list(file.candles)


def _describe_ms(ms: int) -> str:
    """A spacing in the interval spelling when it is one (`1m`, `4h`), else in ms."""
    try:
        return Interval.of_ms(ms).name
    except ValueError:
        return f"{ms} ms"


def write_candles_csv(path: str | Path, candles: Iterable[Candle]) -> int:
    """Write closed candles in the replay format; returns how many rows were written.

    Public API: the way to save candles (a live run's series, a download) for
    `signals --replay`; the tests and benchmarks build their fixtures with it. The format
    itself is `market/candle_csv.py`'s."""
    return write_candle_csv(path, candles)


class ReplaySource:
    """Closed candles as CandleEvents, one at a time, as fast as the consumer takes them.

    A `CandleSource` like the live KlineFeed (engine/source.py), so the engine cannot tell
    them apart. `event_time` is each candle's close time (when the exchange would have sent
    it), so the engine's clock check sees a clock racing ahead and reports lag as
    unavailable; there is no exchange clock to measure, so `clock_offset_ms` is None.
    """

    def __init__(
        self,
        candles: Sequence[Candle],
        symbol: str,
        interval: Interval,
        exchange: str = "replay",
        source_name: str = "",
    ) -> None:
        self.candles = candles
        self.symbol = symbol
        self.interval = interval
        self.exchange = exchange
        self.source_name = source_name or "candles"
        self._sent = 0

    @property
    def counters(self) -> FeedCounters:
        """Candles handed over so far; a file has no malformed frames, reconnects or repairs."""
        return FeedCounters(messages_received=self._sent, messages_processed=self._sent)

    @property
    def clock_offset_ms(self) -> float | None:
        return None

    @classmethod
    def from_csv(cls, path: str | Path, symbol: str, interval: Interval, exchange: str = "replay") -> ReplaySource:
        return cls(read_candles_csv(path, interval), symbol, interval, exchange, Path(path).name)

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._events()

    async def _events(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        total = len(self.candles)
        yield FeedStatus(
            ConnectionState.LIVE,
            f"Replaying {total} candles from {self.source_name}.",
            symbol=self.symbol,
            interval=self.interval.name,
            at=time.time(),
        )
        for candle in self.candles:
            yield CandleEvent(
                self.exchange, self.symbol, self.interval.name, candle,
                received_at=time.time() * 1000.0, event_time=candle.close_time,
            )
            self._sent += 1
            await asyncio.sleep(0)
        yield FeedStatus(
            ConnectionState.STOPPED,
            f"Replay of {total} candles from {self.source_name} finished.",
            symbol=self.symbol,
            interval=self.interval.name,
            at=time.time(),
        )
