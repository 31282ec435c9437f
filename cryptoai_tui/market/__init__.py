"""Market values shared by every layer: no I/O, no asyncio, no exchange specifics.

`CandleSeries` and `OHLCV` (numpy) load on first use, so a module that only needs a symbol
or an interval does not pay for numpy at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.interval import Interval, InvalidIntervalError
from cryptoai_tui.market.symbol import MarketKind, Symbol, SymbolRef, parse_symbol

if TYPE_CHECKING:
    from cryptoai_tui.market.series import OHLCV, CandleSeries

__all__ = [
    "Candle",
    "CandleEvent",
    "CandleSeries",
    "Interval",
    "InvalidIntervalError",
    "MarketKind",
    "OHLCV",
    "Symbol",
    "SymbolRef",
    "parse_symbol",
]


def __getattr__(name: str) -> Any:
    if name in ("CandleSeries", "OHLCV"):
        from cryptoai_tui.market import series

        return getattr(series, name)
    raise AttributeError(f"module 'cryptoai_tui.market' has no attribute {name!r}")
