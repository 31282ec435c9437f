"""How numbers and times look on screen: one place, so every panel agrees.

Pure functions over values (no Textual), unit-tested on their own.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Mapping, Protocol, Sequence, TypeVar

BAR_FULL = "█"
BAR_PARTIALS = " ▏▎▍▌▋▊▉"


class _Measured(Protocol):
    @property
    def cell_length(self) -> int: ...


M = TypeVar("M", bound=_Measured)


def first_fitting(variants: Sequence[M], width: int | None) -> M:
    """The first of `variants` (longest wording first) that fits `width` cells, else the
    last; the first when the width is not known yet. Narrow panels say less, not cut off."""
    if width is None:
        return variants[0]
    for variant in variants:
        if variant.cell_length <= width:
            return variant
    return variants[-1]


def price_decimals(price: float) -> int:
    """Enough decimals for about six significant digits: 2 for BTC, 8 for tiny coins."""
    if price <= 0 or not math.isfinite(price):
        return 2
    return max(2, min(8, 5 - math.floor(math.log10(price))))


def format_price(price: float | None, decimals: int | None = None) -> str:
    if price is None:
        return "—"
    places = price_decimals(price) if decimals is None else decimals
    return f"{price:,.{places}f}"


def format_change(now: float | None, before: float | None, decimals: int | None = None) -> tuple[str, int]:
    """Text like `▲ +12.50 (+0.02%)` and its direction (-1, 0, +1)."""
    if now is None or before is None:
        return "—", 0
    delta = now - before
    places = price_decimals(now) if decimals is None else decimals
    direction = (delta > 0) - (delta < 0)
    arrow = {1: "▲", -1: "▼", 0: "■"}[direction]
    percent = (delta / before * 100.0) if before else 0.0
    return f"{arrow} {delta:+,.{places}f} ({percent:+.2f}%)", direction


def format_duration(seconds: float | None) -> str:
    """`42s`, `3m 05s`, `2h 10m`, `3d 4h`: compact, for countdowns."""
    if seconds is None:
        return "—"
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_latency(microseconds: float | None) -> str:
    if microseconds is None:
        return "—"
    if microseconds < 1_000:
        return f"{microseconds:.0f}µs"
    if microseconds < 1_000_000:
        return f"{microseconds / 1_000:.1f}ms"
    return f"{microseconds / 1_000_000:.1f}s"


def format_lag(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "—"
    if abs(milliseconds) < 1_000:
        return f"{milliseconds:.0f}ms"
    return f"{milliseconds / 1_000:.1f}s"


def format_count(value: int) -> str:
    """`999`, `12.3k`, `4.56M`: counters grow fast under a flood."""
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1_000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def format_clock(time_ms: int | None, *, seconds: bool = True) -> str:
    """Exchange time as UTC wall-clock time: traders compare it with the exchange's own charts."""
    if time_ms is None:
        return "—"
    moment = datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc)
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")


_DAY_MS = 86_400_000


def format_candle_time(time_ms: int | None, interval: str | None, *, short: bool = False) -> str:
    """A candle's open time as a trader names that candle: `14:05` for intraday candles,
    `2024-03-18` for daily and weekly ones, `2024-03` for monthly ones (UTC); `short`
    drops the year of a daily or weekly date (`03-18`) for narrow columns.

    A clock time alone says nothing about a daily candle: every one of them opens at 00:00.
    """
    if time_ms is None:
        return "—"
    unit = interval[-1:] if interval else ""
    if unit not in ("d", "w", "M"):
        return format_clock(time_ms, seconds=False)
    moment = datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc)
    if unit == "M":
        return moment.strftime("%Y-%m")
    return moment.strftime("%m-%d" if short else "%Y-%m-%d")


def format_confidence(confidence: float) -> str:
    return f"{max(0.0, min(1.0, confidence)) * 100:.0f}%"


def confidence_bar(confidence: float, width: int) -> str:
    """A bar `width` cells wide, filled in eighths, padded with spaces."""
    width = max(0, width)
    fraction = max(0.0, min(1.0, confidence))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    bar = BAR_FULL * full + (BAR_PARTIALS[part] if part and full < width else "")
    return bar.ljust(width)


def format_values(values: Mapping[str, float], limit: int = 3) -> str:
    """A strategy's key numbers (`rsi 28.4  ema_fast 101.2`), the first `limit` of them."""
    parts = []
    for key, value in list(values.items())[:limit]:
        parts.append(f"{key} {format_number(value)}")
    return "  ".join(parts)


def format_number(value: float) -> str:
    """Indicator values: few decimals for big numbers, more for small ones."""
    if not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"
