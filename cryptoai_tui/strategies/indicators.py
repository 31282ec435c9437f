"""The indicator layer: TA-Lib calls with every parameter spelled out, and the shared maths
of signals (crosses, confidence).

TA-Lib is the reference (strategies.md §1): its defaults are surprising (STOCH 5/3/3, EMA 30,
BBANDS 5 before 0.8), so nothing here relies on them. Inputs must be float64, contiguous and
free of NaN; the CandleSeries views are.

Recursive indicators (RSI, EMA, MACD, ADX/DI, ATR) depend on where the input starts, so
callers pass the whole window. Fixed-window ones (BBANDS with SMA, STOCH with SMA) only need
their last few bars; `bollinger_bars` and `stochastic_bars` say how many, so a strategy can
pass a short tail and pay for two outputs instead of a thousand.
"""

from __future__ import annotations

import math
import sys
from types import ModuleType

import numpy as np


def _import_talib() -> ModuleType:
    """TA-Lib, imported without letting it import pandas and polars.

    The wrapper imports pandas (about 0.25 s) just to accept pandas Series, and wraps every
    function in a type check for it; we only pass numpy arrays. A None in sys.modules makes
    `import pandas` fail the way a missing package does, which TA-Lib tolerates; the
    placeholder is removed at once, so pandas stays importable for those who ask for it.
    """
    blocked = [name for name in ("pandas", "polars") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import talib
    finally:
        for name in blocked:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return talib


talib = _import_talib()

_SMA = 0  # TA-Lib MA_Type.SMA


def clip01(x: float) -> float:
    """x clamped to [0, 1]; NaN (an indicator still warming up) counts as 0."""
    if x != x:
        return 0.0
    return 1.0 if x > 1.0 else 0.0 if x < 0.0 else x


def confidence(strength: float, scale: float) -> float:
    """strategies.md §2.2: a barely valid signal scores 0.5, strength >= scale scores 1."""
    if scale <= 0.0 or not math.isfinite(scale):
        return 0.5
    return 0.5 + 0.5 * clip01(strength / scale)


def crossed_above(a_prev: float, a_now: float, b_prev: float, b_now: float) -> bool:
    """qtpylib's cross: above now, at or below on the previous bar (NaN never crosses)."""
    return a_now > b_now and a_prev <= b_prev


def crossed_below(a_prev: float, a_now: float, b_prev: float, b_now: float) -> bool:
    return a_now < b_now and a_prev >= b_prev


def rsi(close: np.ndarray, period: int) -> np.ndarray:
    return talib.RSI(close, timeperiod=period)


def ema(values: np.ndarray, period: int) -> np.ndarray:
    return talib.EMA(values, timeperiod=period)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    return talib.ATR(high, low, close, timeperiod=period)


def bollinger(
    close: np.ndarray, period: int, nbdev: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(upper, middle, lower): SMA middle, population sigma, symmetric bands."""
    return talib.BBANDS(close, timeperiod=period, nbdevup=nbdev, nbdevdn=nbdev, matype=_SMA)


def bollinger_bars(period: int, outputs: int = 2) -> int:
    """Input bars BBANDS needs to produce its last `outputs` values."""
    return period - 1 + outputs


def macd(
    close: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(macd, signal, hist) with TA-Lib's seeding (both EMAs seeded on bar slow-1)."""
    return talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal)


def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int, slowk: int, slowd: int
) -> tuple[np.ndarray, np.ndarray]:
    """(slow %K, slow %D), both smoothed with an SMA."""
    return talib.STOCH(
        high, low, close,
        fastk_period=fastk, slowk_period=slowk, slowk_matype=_SMA,
        slowd_period=slowd, slowd_matype=_SMA,
    )


def stochastic_bars(fastk: int, slowk: int, slowd: int, outputs: int = 2) -> int:
    """Input bars STOCH needs to produce its last `outputs` values."""
    return (fastk - 1) + (slowk - 1) + (slowd - 1) + outputs


def directional(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ADX, +DI, -DI), Wilder smoothing as TA-Lib computes them."""
    return (
        talib.ADX(high, low, close, timeperiod=period),
        talib.PLUS_DI(high, low, close, timeperiod=period),
        talib.MINUS_DI(high, low, close, timeperiod=period),
    )
