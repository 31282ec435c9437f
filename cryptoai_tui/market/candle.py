"""One candle and the event that carries it from a feed to its consumers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV for one bucket. Times are exchange times in epoch milliseconds (UTC).

    `closed` is the exchange's own verdict (Binance `k.x`, Bybit `confirm`, or a REST row
    whose close time is before the exchange's clock), never the local clock's.
    """

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_time: int
    closed: bool = True


@dataclass(frozen=True, slots=True)
class CandleEvent:
    """A candle as delivered by a feed: forming update or closed candle.

    `received_at` is local wall time in ms when the message arrived (for latency);
    `event_time` is the exchange's time for the message (for lag and ordering).
    `backfilled` marks closed candles recovered over REST after a gap.
    """

    exchange: str
    symbol: str
    interval: str
    candle: Candle
    received_at: float
    event_time: int
    backfilled: bool = False

    @property
    def closed(self) -> bool:
        return self.candle.closed
