"""CandleSeries: the bounded window of candles every strategy reads.

Storage is a "sliding" numpy buffer of twice the capacity: closed candles are appended
at the end and, when the end is reached, the newest `capacity` rows are copied back to
the front (amortised O(1) per candle). That keeps the window contiguous, so strategies
get zero-copy views that TA-Lib accepts directly, and the forming candle lives in the
slot just past the last closed one so a view *including* it is contiguous too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from cryptoai_tui.market.candle import Candle

if TYPE_CHECKING:
    import pandas as pd

_FIELDS = ("open", "high", "low", "close", "volume")


class OHLCV(NamedTuple):
    """Zero-copy, read-only views of the window, oldest first."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.close.shape[0])


class CandleSeries:
    """Closed candles (at most `capacity`, oldest dropped) plus the candle still forming.

    Appending a closed candle that is not newer than the last one is refused (returns
    False): de-duplication and ordering are the feed's job, but the series never lets a
    violation corrupt what strategies read.
    """

    def __init__(self, capacity: int = 1000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        size = 2 * capacity + 1
        self._time = np.zeros(size, dtype=np.int64)
        self._close_time = np.zeros(size, dtype=np.int64)
        self._values = np.zeros((5, size), dtype=np.float64)
        self._start = 0
        self._end = 0  # one past the last closed candle
        self._forming: Candle | None = None
        self.version = 0  # bumped on every change; lets readers skip unchanged work

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def forming(self) -> Candle | None:
        return self._forming

    @property
    def last_closed(self) -> Candle | None:
        if self._end == self._start:
            return None
        i = self._end - 1
        o, h, l, c, v = self._values[:, i]
        return Candle(int(self._time[i]), float(o), float(h), float(l), float(c), float(v),
                      int(self._close_time[i]), True)

    @property
    def last_open_time(self) -> int | None:
        """Open time of the newest closed candle, or None when empty."""
        return int(self._time[self._end - 1]) if self._end > self._start else None

    @property
    def latest(self) -> Candle | None:
        """The forming candle when there is one, else the last closed candle."""
        return self._forming or self.last_closed

    def apply(self, candle: Candle) -> bool:
        """Route a candle to `append` (closed) or `set_forming`; True if the series changed."""
        if candle.closed:
            return self.append(candle)
        return self.set_forming(candle)

    def append(self, candle: Candle) -> bool:
        last = self.last_open_time
        if last is not None and candle.open_time <= last:
            return False
        if self._end >= 2 * self.capacity:
            self._compact()
        i = self._end
        self._write(i, candle)
        self._end += 1
        if self._end - self._start > self.capacity:
            self._start += 1
        if self._forming is not None and self._forming.open_time <= candle.open_time:
            self._forming = None
        self.version += 1
        return True

    def set_forming(self, candle: Candle) -> bool:
        last = self.last_open_time
        if last is not None and candle.open_time <= last:
            return False
        if self._forming is not None and candle.open_time < self._forming.open_time:
            return False
        self._forming = candle
        self.version += 1
        return True

    def extend(self, candles: list[Candle]) -> int:
        """Append closed candles in order; returns how many were accepted."""
        return sum(1 for candle in candles if self.append(candle))

    def view(self, include_forming: bool = False) -> OHLCV:
        """Contiguous read-only views of the window (optionally with the forming candle last).

        The views alias the buffer: they are valid until the series next changes, so a
        reader uses them within one evaluation and never keeps them.
        """
        end = self._end
        if include_forming and self._forming is not None:
            if end >= 2 * self.capacity + 1:
                self._compact()
                end = self._end
            self._write(end, self._forming)
            end += 1
        start = self._start
        values = self._values[:, start:end]
        arrays = (self._time[start:end], values[0], values[1], values[2], values[3], values[4])
        for array in arrays:
            array.flags.writeable = False
        return OHLCV(*arrays)

    def candles(self, include_forming: bool = False) -> list[Candle]:
        """The window as Candle values (for callers that want objects, not arrays)."""
        start, end = self._start, self._end
        out = [
            Candle(int(self._time[i]), *(float(x) for x in self._values[:, i]),
                   int(self._close_time[i]), True)
            for i in range(start, end)
        ]
        if include_forming and self._forming is not None:
            out.append(self._forming)
        return out

    def to_frame(self, include_forming: bool = False) -> pd.DataFrame:
        """A pandas DataFrame of the window; pandas is imported only here, on request."""
        import pandas as pd

        data = self.view(include_forming)
        frame = pd.DataFrame(
            {
                "open_time": pd.to_datetime(np.array(data.open_time), unit="ms", utc=True),
                "open": np.array(data.open),
                "high": np.array(data.high),
                "low": np.array(data.low),
                "close": np.array(data.close),
                "volume": np.array(data.volume),
            }
        )
        closed = np.ones(len(frame), dtype=bool)
        if include_forming and self._forming is not None and len(frame):
            closed[-1] = False
        frame["closed"] = closed
        return frame.set_index("open_time")

    def _write(self, i: int, candle: Candle) -> None:
        self._time[i] = candle.open_time
        self._close_time[i] = candle.close_time
        self._values[:, i] = (candle.open, candle.high, candle.low, candle.close, candle.volume)

    def _compact(self) -> None:
        n = self._end - self._start
        self._time[:n] = self._time[self._start:self._end]
        self._close_time[:n] = self._close_time[self._start:self._end]
        self._values[:, :n] = self._values[:, self._start:self._end]
        self._start, self._end = 0, n
