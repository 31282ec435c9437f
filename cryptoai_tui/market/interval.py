"""Timeframes as values, so no layer ever does arithmetic on the string "5m"."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

    @property
    def is_calendar(self) -> bool:
        """Monthly candles follow the calendar, not a fixed number of milliseconds."""
        return self.name.endswith("M")

    def open_time_of(self, time_ms: int) -> int:
        """The open time of the candle containing `time_ms` (fixed-length intervals, UTC)."""
        if self.ms >= _UNIT_MS["w"] and self.name.endswith("w"):
            # Binance weeks start on Monday; the epoch was a Thursday.
            monday_offset = 4 * _UNIT_MS["d"]
            return ((time_ms - monday_offset) // self.ms) * self.ms + monday_offset
        return (time_ms // self.ms) * self.ms

    def __str__(self) -> str:
        return self.name


COMMON_INTERVALS: tuple[str, ...] = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)
