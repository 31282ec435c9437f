"""Hand-built candle series for strategy tests: small, exact, and readable in the test."""

from __future__ import annotations

from typing import Iterable, Sequence

from cryptoai_tui.market import Candle, CandleSeries, OHLCV
from cryptoai_tui.engine.history import history_signals
from cryptoai_tui.strategies import Signal, Strategy

HOUR_MS = 3_600_000
START_MS = 1_700_000_000_000 - (1_700_000_000_000 % HOUR_MS)


def bar(i: int, o: float, h: float, l: float, c: float, volume: float = 1.0) -> Candle:
    open_time = START_MS + i * HOUR_MS
    return Candle(open_time, o, h, l, c, volume, open_time + HOUR_MS - 1, True)


def from_closes(closes: Sequence[float], *, wick: float = 0.5, volume: float = 1.0) -> list[Candle]:
    """Each bar opens at the previous close; high and low sit `wick` beyond the body."""
    candles = []
    previous = closes[0]
    for i, close in enumerate(closes):
        o = previous
        candles.append(bar(i, o, max(o, close) + wick, min(o, close) - wick, close, volume))
        previous = close
    return candles


def from_ohlc(rows: Iterable[tuple[float, float, float, float]], start: int = 0) -> list[Candle]:
    return [bar(start + i, o, h, l, c) for i, (o, h, l, c) in enumerate(rows)]


def legs(start: float, *targets: tuple[float, int]) -> list[float]:
    """Closes walking in straight lines: from `start` to each (price, bars) target in turn."""
    closes: list[float] = []
    price = start
    for target, bars in targets:
        step = (target - price) / bars
        closes.extend(price + step * (k + 1) for k in range(bars))
        price = target
    return closes


def renumber(candles: Sequence[Candle]) -> list[Candle]:
    """The same bars with consecutive open times (after splicing lists together)."""
    return [
        bar(i, c.open, c.high, c.low, c.close, c.volume) for i, c in enumerate(candles)
    ]


def with_volume(candles: Sequence[Candle], index: int, volume: float) -> list[Candle]:
    out = list(candles)
    c = out[index]
    out[index] = Candle(c.open_time, c.open, c.high, c.low, c.close, volume, c.close_time, True)
    return out


def mirrored(candles: Sequence[Candle], axis: float = 200.0) -> list[Candle]:
    """Prices reflected (p -> axis - p): highs become lows, a BUY setup becomes a SELL one."""
    return [
        Candle(c.open_time, axis - c.open, axis - c.low, axis - c.high, axis - c.close,
               c.volume, c.close_time, True)
        for c in candles
    ]


def window(candles: Sequence[Candle]) -> OHLCV:
    series = CandleSeries(capacity=max(1, len(candles)))
    series.extend(list(candles))
    return series.view()


def signals(strategy: Strategy, candles: Sequence[Candle]) -> list[Signal]:
    """The confirmed signal of every bar, as the engine would produce them."""
    return [row[strategy.name] for row in history_signals([strategy], candles, window=len(candles))]


def last_signal(strategy: Strategy, candles: Sequence[Candle]) -> Signal:
    return strategy.evaluate(window(candles), confirmed=True)


def fired(found: Sequence[Signal]) -> list[tuple[int, str]]:
    """(bar index, action) of every BUY or SELL: the shape of a run at a glance."""
    return [(i, s.action.value) for i, s in enumerate(found) if s.action.value in ("BUY", "SELL")]
