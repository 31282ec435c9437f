"""Timeframes as values, so no layer ever does arithmetic on the string "5m"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

_UNIT_MS = {
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    # A month has no fixed length; 30 days is only used for sizing and
    # never to decide where a monthly candle starts.
    "M": 2_592_000_000,
}

_PATTERN = re.compile(r"^(\d+)([smhdwM])$")

# 1970-01-01 was a Thursday: Monday 1970-01-05 00:00 UTC is 4 days in.
_MONDAY_OFFSET_MS = 4 * _UNIT_MS["d"]


class InvalidIntervalError(ValueError):
    """An interval spelling we cannot read; `valid` lists what would have worked."""

    def __init__(self, text: str, valid: tuple[str, ...] = ()) -> None:
        self.text = text
        self.valid = valid
        hint = f" Valid intervals: {', '.join(valid)}." if valid else ""
        super().__init__(f"Unknown interval {text!r}.{hint}")


@dataclass(frozen=True, slots=True, order=False)
class Interval:
    """A candle timeframe in the canonical (Binance) spelling: 1s 1m 3m 5m ... 1d 3d 1w 1M."""

    name: str
    ms: int

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Read `1m`, `5m`, `1h`, `1d`, `1w`, `1M` (month; `1m` is a minute, as on Binance)."""
        cleaned = text.strip()
        match = _PATTERN.match(cleaned)
        if match is None:
            lowered = cleaned.lower()
            if lowered in ("1mo", "1mon", "1month"):
                return cls("1M", _UNIT_MS["M"])
            raise InvalidIntervalError(text, COMMON_INTERVALS)
        count, unit = int(match.group(1)), match.group(2)
        if count <= 0:
            raise InvalidIntervalError(text, COMMON_INTERVALS)
        return cls(f"{count}{unit}", count * _UNIT_MS[unit])

    @classmethod
    def of_ms(cls, ms: int) -> Interval:
        """The fixed-length interval of `ms` milliseconds in its shortest spelling (weeks,
        days, hours, minutes or seconds: 3_600_000 -> `1h`, 90_000 -> `90s`), for sentences
        that describe a spacing. ValueError below one second or off whole seconds."""
        if ms <= 0 or ms % _UNIT_MS["s"]:
            raise ValueError(f"{ms} ms is not a whole number of seconds.")
        unit = next(u for u in "wdhms" if ms % _UNIT_MS[u] == 0)
        return cls(f"{ms // _UNIT_MS[unit]}{unit}", ms)

    @property
    def is_calendar(self) -> bool:
        """Monthly candles follow the calendar, not a fixed number of milliseconds."""
        return self.name.endswith("M")

    @property
    def months(self) -> int:
        """How many calendar months one candle spans (0 for fixed-length intervals)."""
        return int(self.name[:-1]) if self.is_calendar else 0

    def open_of(self, time_ms: int) -> int:
        """The open time (ms, UTC) of the candle containing `time_ms`.

        All calendar arithmetic lives here: weeks open on Monday 00:00 UTC (the epoch was a
        Thursday), months on the 1st 00:00 UTC, every other interval on multiples of its
        length since the epoch, as Binance and Bybit both align them.
        """
        if self.is_calendar:
            year, month = _year_month(time_ms)
            index = (year * 12 + month - 1) // self.months * self.months
            return _month_start(index // 12, index % 12 + 1)
        if self.name.endswith("w"):
            return ((time_ms - _MONDAY_OFFSET_MS) // self.ms) * self.ms + _MONDAY_OFFSET_MS
        return (time_ms // self.ms) * self.ms

    def open_time_of(self, time_ms: int) -> int:
        """Alias of `open_of`, the name older callers use."""
        return self.open_of(time_ms)

    def next_open(self, open_time: int) -> int:
        """The open time of the candle after the one opening at `open_time`."""
        if self.is_calendar:
            year, month = _year_month(open_time)
            index = year * 12 + month - 1 + self.months
            return _month_start(index // 12, index % 12 + 1)
        return open_time + self.ms

    def previous_open(self, open_time: int) -> int:
        """The open time of the candle before the one opening at `open_time`."""
        if self.is_calendar:
            year, month = _year_month(open_time)
            index = year * 12 + month - 1 - self.months
            return _month_start(index // 12, index % 12 + 1)
        return open_time - self.ms

    def close_time(self, open_time: int) -> int:
        """The last millisecond of the candle opening at `open_time` (the exchanges' close time)."""
        return self.next_open(open_time) - 1

    def is_aligned(self, open_time: int) -> bool:
        """Whether `open_time` is a candle boundary of this interval."""
        return self.open_of(open_time) == open_time

    def __str__(self) -> str:
        return self.name


COMMON_INTERVALS: tuple[str, ...] = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)


def _year_month(time_ms: int) -> tuple[int, int]:
    moment = datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc)
    return moment.year, moment.month


def _month_start(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp()) * 1000
