"""CandleSeries: the bounded window of candles every strategy reads.

Storage is one "sliding" numpy block of `capacity + SLACK + 1` rows by 6 fields (open time
as int64, then open, high, low, close, volume as float64): 48 bytes a candle. Closed candles
are appended at the end; when the end reaches the last row but one, the newest `capacity`
rows are copied back to the front, once every SLACK appends (amortised O(1): a 48 KB copy per
64 closes for a 1,000-candle window). That keeps the window contiguous, so strategies get
zero-copy views that TA-Lib accepts directly, and the spare last row holds the forming
candle, so a view *including* it is contiguous too.

Why not twice the capacity (the layout before): a watchlist holds one series per stream, and
at 1,000 streams the second half of every buffer was ~50 MB of rows nobody reads. Why not a
true ring of `capacity + 1`: its window wraps around the end, so a view would be a copy.

Close times are not stored per candle: every interval but the month has one span (close
time minus open time), kept once; a series that meets a second span (a monthly series)
starts a per-row array of spans then, and only then.
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

    def __len__(self) -> int:
        return int(self.close.shape[0])


# Appends between two compactions; the rows a series holds beyond its capacity.
SLACK = 64
_TIME, _OPEN = 0, 1  # rows of the block: open time (as int64), then open..volume


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
        rows = capacity + SLACK + 1  # the last row is the forming candle's
        self._block = np.zeros((6, rows), dtype=np.float64)
        self._time = self._block[_TIME].view(np.int64)
        self._values = self._block[_OPEN:]
        self._limit = capacity + SLACK  # closed candles never go past this row
        self._start = 0
        self._end = 0  # one past the last closed candle
        self._span: int | None = None  # close_time - open_time, while it is the same for all
        self._spans: np.ndarray | None = None  # per row, once a second span was seen
        self._forming: Candle | None = None
        # The last views handed out, by whether they include the forming row: the views
        # alias the block, so they stay right until the window's bounds move (an append, a
        # compaction); the forming row's values are rewritten in place under them.
        self._views: dict[bool, tuple[int, int, OHLCV]] = {}
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
        return self._candle(self._end - 1)

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
        if self._end >= self._limit:
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
        forming_candle = self._forming if include_forming else None
        forming = forming_candle is not None
        if forming_candle is not None:
            self._write_values(end, forming_candle)  # the row past the last closed one
            end += 1
        start = self._start
        cached = self._views.get(forming)
        if cached is not None and cached[0] == start and cached[1] == end:
            return cached[2]
        values = self._values[:, start:end]
        arrays = (self._time[start:end], values[0], values[1], values[2], values[3], values[4])
        for array in arrays:
            array.flags.writeable = False
        view = OHLCV(*arrays)
        self._views[forming] = (start, end, view)
        return view

    def candles(self, include_forming: bool = False) -> list[Candle]:
        """The window as Candle values (for callers that want objects, not arrays)."""
        out = [self._candle(i) for i in range(self._start, self._end)]
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

    def _candle(self, i: int) -> Candle:
        open_time = int(self._time[i])
        o, h, l, c, v = self._values[:, i].tolist()
        span = int(self._spans[i]) if self._spans is not None else self._span
        return Candle(open_time, o, h, l, c, v, open_time + (span or 0), True)

    def _write_values(self, i: int, candle: Candle) -> None:
        self._time[i] = candle.open_time
        values = self._values
        values[0, i] = candle.open
        values[1, i] = candle.high
        values[2, i] = candle.low
        values[3, i] = candle.close
        values[4, i] = candle.volume

    def _write(self, i: int, candle: Candle) -> None:
        self._write_values(i, candle)
        span = candle.close_time - candle.open_time
        if self._spans is not None:
            self._spans[i] = span
        elif self._span is None:
            self._span = span
        elif span != self._span:  # a second span: monthly candles; keep one per row from now
            self._spans = np.full(self._time.shape[0], self._span, dtype=np.int64)
            self._spans[i] = span

    def _compact(self) -> None:
        start, end = self._start, self._end
        n = end - start
        self._block[:, :n] = self._block[:, start:end]
        if self._spans is not None:
            self._spans[:n] = self._spans[start:end]
        self._start, self._end = 0, n
