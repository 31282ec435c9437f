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
import csv
import math
import time
from pathlib import Path
from typing import AsyncIterator, Iterable, Sequence

from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.candle_csv import CSV_COLUMNS, CandleRow, CandleRowError, RowProblem, candle_rows
from cryptoai_tui.market.interval import Interval

CSV_HEADER = CSV_COLUMNS


class ReplayFileError(ValueError):
    """A replay CSV that cannot be read as candles; the message names the file and the row."""


def read_candles_csv(path: str | Path, interval: Interval) -> list[Candle]:
    """Closed candles of `path`, checked for order and for spacing that matches `interval`."""
    path = Path(path)
    try:
        handle = path.open(newline="")
    except FileNotFoundError:
        raise ReplayFileError(f"Replay file {str(path)!r} does not exist; check the path.") from None
    except OSError as error:
        raise ReplayFileError(f"Cannot open replay file {str(path)!r}: {error.strerror}.") from None
    candles: list[Candle] = []
    with handle:
        try:
            for row in candle_rows(csv.reader(handle), optional_header=True):
                candles.append(_candle(path, row, interval))
        except CandleRowError as error:
            raise ReplayFileError(_row_problem(path, error)) from None
    if not candles:
        raise ReplayFileError(
            f"Replay file {str(path)!r} has no candles; expected rows of "
            f"{','.join(CSV_HEADER)}."
        )
    _check_spacing(path, candles, interval)
    return candles


def _row_problem(path: Path, error: CandleRowError) -> str:
    """This reader's sentence for a row the shared grammar rejects."""
    where = f"{path.name} line {error.line}"
    if error.problem is RowProblem.TOO_FEW_FIELDS:
        return f"{where} has {len(error.cells)} fields; each row needs {','.join(CSV_HEADER)}."
    return (
        f"{where} is not numeric ({','.join(error.cells[:6])}); each row needs {','.join(CSV_HEADER)}."
    )


def _candle(path: Path, row: CandleRow, interval: Interval) -> Candle:
    """A closed candle of `interval`; NaN or infinity is refused here because the engine's
    indicators would carry it silently to every later signal."""
    o, h, l, c, v = row.ohlcv
    if not all(math.isfinite(x) for x in (o, h, l, c, v)):
        raise ReplayFileError(f"{path.name} line {row.line} contains NaN or infinity; remove or repair that row.")
    return Candle(row.open_time, o, h, l, c, v, row.open_time + interval.ms - 1, True)


def _check_spacing(path: Path, candles: Sequence[Candle], interval: Interval) -> None:
    steps = [b.open_time - a.open_time for a, b in zip(candles, candles[1:])]
    for index, step in enumerate(steps):
        if step <= 0:
            raise ReplayFileError(
                f"{path.name}: candles are not in time order (open time {candles[index + 1].open_time} "
                f"follows {candles[index].open_time}); sort the file by open_time_ms."
            )
    if steps and not interval.is_calendar:
        smallest = min(steps)
        if smallest != interval.ms:
            raise ReplayFileError(
                f"{path.name}: candles are {_describe_ms(smallest)} apart but the interval is "
                f"{interval.name}; pass the interval the file was recorded at."
            )


def _describe_ms(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms} ms"


def write_candles_csv(path: str | Path, candles: Iterable[Candle]) -> int:
    """Write closed candles in the replay format; returns how many rows were written.

    Public API: the way to save candles (a live run's series, a download) for
    `signals --replay`; the tests and benchmarks build their fixtures with it."""
    count = 0
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for candle in candles:
            writer.writerow([candle.open_time, repr(candle.open), repr(candle.high), repr(candle.low),
                             repr(candle.close), repr(candle.volume)])
            count += 1
    return count


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
