"""Market values shared by every layer: no I/O, no asyncio, no exchange specifics."""

from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.interval import Interval, InvalidIntervalError
from cryptoai_tui.market.series import CandleSeries, OHLCV
from cryptoai_tui.market.symbol import MarketKind, Symbol, SymbolRef, parse_symbol

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
