"""O(1) indicator state for the classic strategies: one update per closed candle, a peek for
the forming one, never a recomputation over the window.

Why: on a forming update a strategy today reruns TA-Lib over the whole 1,000-candle window
to learn one new value, although only the last bar changed. TA-Lib 0.8's streaming handles
(`talib.stream`) carry the indicator's recurrence forward instead: `update` commits one
closed bar, `peek` answers what `update` would return for the forming bar and commits
nothing, so it can be called every time the forming bar is revised. Each class here wraps
the handles one strategy needs, and covers the warm-up TA-Lib's handles do not: a handle
can only be opened on `lookback + 1` bars, so until then the bars are kept and the value is
NaN, exactly where the Function API reports NaN.

Usage (the engine owns one state per strategy per series)::

    state = RsiState(14)
    state.warm(series.view())            # history: the window the series holds now
    ...
    if series.append(candle):            # a closed candle the series accepted, once
        state.update(candle)
    ...
    state.peek(series.forming)           # as often as the forming candle changes

`update_prices(high, low, close)` and `peek_prices(high, low, close)` are the same calls for
a caller holding the prices rather than a bar (the classic strategies read them straight
from the window): every state takes the same three, reads the ones it needs, and answers a
plain float or a plain tuple in its NamedTuple's order, so the hot path builds neither a bar
nor a named value per tick.

Feed `update` exactly the closed candles the series accepts, in order, once each: a candle
the series refuses (stale, duplicate) must not reach the state either.

Which value is the reference, and when the state equals it
----------------------------------------------------------
The reference is TA-Lib's Function API over the window the strategy reads: the series'
closed candles (at most its capacity, 1,000 live) plus, on a forming update, the forming
candle. That is what the strategies compute today, what replay and the backtest compute,
and what anyone gets who reruns TA-Lib on the candles the screen shows; the live path must
not quietly disagree with any of them.

* While the series has not yet slid (it holds every candle since warm-up), the state and
  the reference read the same input and agree to rounding (bit-identical for RSI, EMA,
  MACD, ADX/DI and ATR; ~1e-13 relative for Bollinger and Stochastic, which TA-Lib's batch
  functions compute with running sums).
* Once the window slides, Bollinger and Stochastic still agree (they only read their last
  `period` bars). The recursive ones (EMA, MACD, RSI, ATR, ADX/DI: TA-Lib's "unstable
  period" functions) do not, strictly: the Function API re-seeds them at the window's first
  bar on every call, while the state remembers every bar since warm-up. The difference is
  the seed's error times `decay ** (window - lookback)`, with `decay` the recurrence's
  memory ((p-1)/(p+1) for an EMA, (p-1)/p for Wilder's smoothing). For the strategies'
  defaults on a 1,000-candle window that factor is below 1e-30, far under rounding (on the
  real candles in tests/data/candles, sliding through 4,482 closes: RSI, MACD, ADX/DI, ATR
  and EMA 9/21 bit-identical, EMA 50 within 2e-16, Bollinger and Stochastic within 2.1e-13
  relative). For a long period on a short window it is not: EMA 300 over 1,000 candles
  differs by ~3e-4 relative, a genuinely different number.

So each state says, with `exact_for(window)`, whether it may stand in for the full-window
call on a window of that length: True when `window >= exact_window`, the length at which
the seed's weight falls below 1e-15. The wiring must keep the full-window call for a
strategy whose state says False (and must size nothing else on it); with the defaults and
a 1,000-candle window every state says True. The test suite proves both halves on the real
candles: equality to 1e-9 relative where `exact_for` is True, a real difference where it is
False.
"""

from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, NamedTuple, Protocol, Sequence

import numpy as np

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.indicators import talib


class BarLike(Protocol):
    """What the states read of a bar: a Candle, or the classic strategies' `Bar`."""

    @property
    def high(self) -> float: ...

    @property
    def low(self) -> float: ...

    @property
    def close(self) -> float: ...


_stream = talib.stream
_InsufficientHistory: type[Exception] = talib.InsufficientHistory
_SMA = 0  # TA-Lib MA_Type.SMA, as strategies/indicators.py passes it
_NAN = float("nan")
# The seed's weight below which a recursive state counts as equal to the full-window value.
SEED_WEIGHT = 1e-15


def _window_for(lookback: int, decay: float) -> int:
    """Bars a window needs so a seed `lookback` bars in weighs below SEED_WEIGHT."""
    if decay <= 0.0:
        return lookback + 1
    return lookback + 1 + math.ceil(math.log(SEED_WEIGHT) / math.log(decay))


def _ema_decay(period: int) -> float:
    return (period - 1) / (period + 1)


def _wilder_decay(period: int) -> float:
    return (period - 1) / period


class _Handle:
    """One TA-Lib streaming handle, or the bars seen so far while there are too few to open it.

    `update` and `peek` are the handle's own (C) methods once it is open, so a ready state
    costs one Python call per bar; until then they keep the bars and answer NaN, which is
    where the Function API reports NaN too.
    """

    __slots__ = ("_open", "_handle", "_pending", "_nan", "update", "peek")

    def __init__(self, open_: Callable[..., Any], nan: Any) -> None:
        self._open = open_
        self._nan = nan
        self._pending: list[list[float]] = []
        self._handle: Any = None
        self.update: Callable[..., Any] = self._update_warming
        self.peek: Callable[..., Any] = self._peek_warming

    def warm(self, arrays: Sequence[np.ndarray]) -> None:
        self._handle = None
        self.update, self.peek = self._update_warming, self._peek_warming
        self._pending = [np.asarray(a, dtype=np.float64).tolist() for a in arrays]
        self._try_open()

    def _try_open(self) -> None:
        try:
            handle = self._open(*(np.array(p, dtype=np.float64) for p in self._pending))
        except _InsufficientHistory:
            return
        self._handle, self._pending = handle, []
        self.update, self.peek = handle.update, handle.peek

    @property
    def ready(self) -> bool:
        return self._handle is not None

    @property
    def value(self) -> Any:
        return self._nan if self._handle is None else self._handle.value

    def _update_warming(self, *bar: float) -> Any:
        if not self._pending:
            self._pending = [[] for _ in bar]
        for column, x in zip(self._pending, bar):
            column.append(x)
        self._try_open()
        return self.value

    def _peek_warming(self, *bar: float) -> Any:
        columns = self._pending or [[] for _ in bar]
        try:
            trial = self._open(*(np.array(c + [x], dtype=np.float64) for c, x in zip(columns, bar)))
        except _InsufficientHistory:
            return self._nan
        return trial.value


# Multi-output handles answer plain tuples; `tuple.__new__(Value, t)` names them without
# unpacking (a third of the cost of `Value(*t)` on a sub-microsecond path).


class MacdValue(NamedTuple):
    macd: float
    signal: float
    hist: float


class BollingerValue(NamedTuple):
    upper: float
    middle: float
    lower: float


class StochasticValue(NamedTuple):
    k: float
    d: float


class DirectionalValue(NamedTuple):
    adx: float
    plus_di: float
    minus_di: float


class EmaPairValue(NamedTuple):
    fast: float
    slow: float


class _OnCloses:
    """A state whose one TA-Lib handle reads closes alone (RSI, EMA, MACD, Bollinger): the
    per-tick price methods, written once."""

    CLOSE_ONLY: ClassVar[bool] = True  # what `peeker()` takes: the close, or (h, l, c)

    __slots__ = ("_h",)

    _h: _Handle

    @property
    def ready(self) -> bool:
        return self._h.ready

    def update_prices(self, high: float, low: float, close: float) -> Any:
        """`update` from the prices themselves: no bar object built per tick (see
        `update_prices` in the module docstring)."""
        return self._h.update(close)

    def peek_prices(self, high: float, low: float, close: float) -> Any:
        return self._h.peek(close)

    def peeker(self) -> Callable[..., Any]:
        """The callable `peek_prices` ends in, taking only the close (`CLOSE_ONLY`): the
        handle's own C method once it is open. Valid until the next update (the handle
        opens on one), so a caller keeps it from one closed bar to the next."""
        return self._h.peek


class _CloseState(_OnCloses):
    """One TA-Lib stream handle over closes returning one float: what RSI and EMA share."""

    __slots__ = ("period",)

    period: int

    @property
    def exact_window(self) -> int:
        raise NotImplementedError

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    def warm(self, history: OHLCV) -> float:
        self._h.warm((history.close,))
        return self.value

    @property
    def value(self) -> float:
        return float(self._h.value)

    def update(self, bar: BarLike) -> float:
        return self._h.update(bar.close)

    def peek(self, bar: BarLike) -> float:
        return self._h.peek(bar.close)


class RsiState(_CloseState):
    """RSI(period) of closes, Wilder-smoothed, as `indicators.rsi`."""

    __slots__ = ()

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self._h = _Handle(lambda c: _stream.RSI(c, timeperiod=period), _NAN)

    @property
    def exact_window(self) -> int:
        return _window_for(self.period, _wilder_decay(self.period))


class EmaState(_CloseState):
    """EMA(period) of closes, seeded with an SMA as TA-Lib does, as `indicators.ema`."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        self.period = period
        self._h = _Handle(lambda c: _stream.EMA(c, timeperiod=period), _NAN)

    @property
    def exact_window(self) -> int:
        return _window_for(self.period - 1, _ema_decay(self.period))


class EmaPairState:
    """The fast and slow EMAs the EMA-cross strategy compares."""

    CLOSE_ONLY: ClassVar[bool] = True  # what `peeker()` takes: the close, or (h, l, c)

    __slots__ = ("fast", "slow")

    def __init__(self, fast: int = 9, slow: int = 21) -> None:
        self.fast = EmaState(fast)
        self.slow = EmaState(slow)

    @property
    def exact_window(self) -> int:
        return max(self.fast.exact_window, self.slow.exact_window)

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    @property
    def ready(self) -> bool:
        return self.slow.ready and self.fast.ready

    def warm(self, history: OHLCV) -> EmaPairValue:
        self.fast.warm(history)
        self.slow.warm(history)
        return self.value

    @property
    def value(self) -> EmaPairValue:
        return EmaPairValue(self.fast.value, self.slow.value)

    def update(self, bar: BarLike) -> EmaPairValue:
        close = bar.close
        return EmaPairValue(self.fast._h.update(close), self.slow._h.update(close))

    def peek(self, bar: BarLike) -> EmaPairValue:
        close = bar.close
        return EmaPairValue(self.fast._h.peek(close), self.slow._h.peek(close))

    def update_prices(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self.fast._h.update(close), self.slow._h.update(close)

    def peek_prices(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self.fast._h.peek(close), self.slow._h.peek(close)

    def peek_close(self, close: float) -> tuple[float, float]:
        return self.fast._h.peek(close), self.slow._h.peek(close)

    def peeker(self) -> Callable[..., Any]:
        """What to call with the close alone for `peek_prices` (see `_CloseState.peeker`)."""
        return self.peek_close


class MacdState(_OnCloses):
    """MACD(fast, slow, signal) as `indicators.macd`: (macd, signal, hist)."""

    __slots__ = ("fast", "slow", "signal")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast, self.slow, self.signal = fast, slow, signal
        self._h = _Handle(
            lambda c: _stream.MACD(c, fastperiod=fast, slowperiod=slow, signalperiod=signal),
            MacdValue(_NAN, _NAN, _NAN),
        )

    @property
    def exact_window(self) -> int:
        lookback = self.slow + self.signal - 2
        return _window_for(lookback, max(_ema_decay(self.slow), _ema_decay(self.signal)))

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    def warm(self, history: OHLCV) -> MacdValue:
        self._h.warm((history.close,))
        return self.value

    @property
    def value(self) -> MacdValue:
        return MacdValue(*self._h.value)

    def update(self, bar: BarLike) -> MacdValue:
        return tuple.__new__(MacdValue, self._h.update(bar.close))

    def peek(self, bar: BarLike) -> MacdValue:
        return tuple.__new__(MacdValue, self._h.peek(bar.close))


class BollingerState(_OnCloses):
    """Bollinger bands (SMA middle, population sigma) as `indicators.bollinger`."""

    __slots__ = ("period", "nbdev")

    def __init__(self, period: int = 20, nbdev: float = 2.0) -> None:
        self.period, self.nbdev = period, nbdev
        self._h = _Handle(
            lambda c: _stream.BBANDS(c, timeperiod=period, nbdevup=nbdev, nbdevdn=nbdev,
                                     matype=_SMA),
            BollingerValue(_NAN, _NAN, _NAN),
        )

    @property
    def exact_window(self) -> int:
        return self.period  # a fixed window: only the last `period` bars count

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    def warm(self, history: OHLCV) -> BollingerValue:
        self._h.warm((history.close,))
        return self.value

    @property
    def value(self) -> BollingerValue:
        return BollingerValue(*self._h.value)

    def update(self, bar: BarLike) -> BollingerValue:
        return tuple.__new__(BollingerValue, self._h.update(bar.close))

    def peek(self, bar: BarLike) -> BollingerValue:
        return tuple.__new__(BollingerValue, self._h.peek(bar.close))


class StochasticState:
    """Slow stochastic (%K, %D), both SMA-smoothed, as `indicators.stochastic`."""

    CLOSE_ONLY: ClassVar[bool] = False  # what `peeker()` takes: the close, or (h, l, c)

    __slots__ = ("fastk", "slowk", "slowd", "_h")

    def __init__(self, fastk: int = 14, slowk: int = 3, slowd: int = 3) -> None:
        self.fastk, self.slowk, self.slowd = fastk, slowk, slowd
        self._h = _Handle(
            lambda h, l, c: _stream.STOCH(
                h, l, c, fastk_period=fastk, slowk_period=slowk, slowk_matype=_SMA,
                slowd_period=slowd, slowd_matype=_SMA,
            ),
            StochasticValue(_NAN, _NAN),
        )

    @property
    def exact_window(self) -> int:
        return self.fastk + self.slowk + self.slowd - 2  # fixed windows end to end

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    @property
    def ready(self) -> bool:
        return self._h.ready

    def warm(self, history: OHLCV) -> StochasticValue:
        self._h.warm((history.high, history.low, history.close))
        return self.value

    @property
    def value(self) -> StochasticValue:
        return StochasticValue(*self._h.value)

    def update(self, bar: BarLike) -> StochasticValue:
        return tuple.__new__(StochasticValue, self._h.update(bar.high, bar.low, bar.close))

    def peek(self, bar: BarLike) -> StochasticValue:
        return tuple.__new__(StochasticValue, self._h.peek(bar.high, bar.low, bar.close))

    def update_prices(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self._h.update(high, low, close)

    def peek_prices(self, high: float, low: float, close: float) -> tuple[float, float]:
        return self._h.peek(high, low, close)

    def peeker(self) -> Callable[..., Any]:
        """The callable `peek_prices` ends in, taking (high, low, close): the handle's own
        C method once it is open. Valid until the next update (see `_CloseState.peeker`)."""
        return self._h.peek


class DirectionalState:
    """(ADX, +DI, -DI) with Wilder smoothing, as `indicators.directional`.

    Three handles, because each output starts on its own bar (+DI/-DI at `period`, ADX at
    `2*period - 1`) and must be NaN exactly where the Function API says NaN.
    """

    CLOSE_ONLY: ClassVar[bool] = False  # what `peeker()` takes: the close, or (h, l, c)

    __slots__ = ("period", "_adx", "_plus", "_minus")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self._adx = _Handle(lambda h, l, c: _stream.ADX(h, l, c, timeperiod=period), _NAN)
        self._plus = _Handle(lambda h, l, c: _stream.PLUS_DI(h, l, c, timeperiod=period), _NAN)
        self._minus = _Handle(lambda h, l, c: _stream.MINUS_DI(h, l, c, timeperiod=period), _NAN)

    @property
    def exact_window(self) -> int:
        # Two Wilder smoothings in a row: the seed's error decays as n * decay**n, so the
        # single-stage length gets log(n) / -log(decay) more bars for the factor n.
        decay = _wilder_decay(self.period)
        base = _window_for(2 * self.period - 1, decay)
        return base + math.ceil(math.log(base) / -math.log(decay))

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    @property
    def ready(self) -> bool:
        return self._adx.ready

    def warm(self, history: OHLCV) -> DirectionalValue:
        arrays = (history.high, history.low, history.close)
        for handle in (self._adx, self._plus, self._minus):
            handle.warm(arrays)
        return self.value

    @property
    def value(self) -> DirectionalValue:
        return DirectionalValue(
            float(self._adx.value), float(self._plus.value), float(self._minus.value)
        )

    def update(self, bar: BarLike) -> DirectionalValue:
        h, l, c = bar.high, bar.low, bar.close
        return DirectionalValue(self._adx.update(h, l, c), self._plus.update(h, l, c),
                                self._minus.update(h, l, c))

    def peek(self, bar: BarLike) -> DirectionalValue:
        h, l, c = bar.high, bar.low, bar.close
        return DirectionalValue(self._adx.peek(h, l, c), self._plus.peek(h, l, c),
                                self._minus.peek(h, l, c))

    def update_prices(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        return (self._adx.update(high, low, close), self._plus.update(high, low, close),
                self._minus.update(high, low, close))

    def peek_prices(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        return (self._adx.peek(high, low, close), self._plus.peek(high, low, close),
                self._minus.peek(high, low, close))

    def peeker(self) -> Callable[..., Any]:
        """What to call with (high, low, close) for `peek_prices`: three handles, so this
        method itself."""
        return self.peek_prices


class AtrState:
    """ATR(period), Wilder-smoothed, as `indicators.atr` (the EMA-cross and MACD stops)."""

    CLOSE_ONLY: ClassVar[bool] = False  # what `peeker()` takes: the close, or (h, l, c)

    __slots__ = ("period", "_h")

    def __init__(self, period: int = 14) -> None:
        self.period = period
        self._h = _Handle(lambda h, l, c: _stream.ATR(h, l, c, timeperiod=period), _NAN)

    @property
    def exact_window(self) -> int:
        return _window_for(self.period, _wilder_decay(self.period))

    def exact_for(self, window: int) -> bool:
        return window >= self.exact_window

    @property
    def ready(self) -> bool:
        return self._h.ready

    def warm(self, history: OHLCV) -> float:
        self._h.warm((history.high, history.low, history.close))
        return self.value

    @property
    def value(self) -> float:
        return float(self._h.value)

    def update(self, bar: BarLike) -> float:
        return self._h.update(bar.high, bar.low, bar.close)

    def peek(self, bar: BarLike) -> float:
        return self._h.peek(bar.high, bar.low, bar.close)

    def update_prices(self, high: float, low: float, close: float) -> float:
        return self._h.update(high, low, close)

    def peek_prices(self, high: float, low: float, close: float) -> float:
        return self._h.peek(high, low, close)

    def peeker(self) -> Callable[..., Any]:
        """The callable `peek_prices` ends in, taking (high, low, close): the handle's own
        C method once it is open. Valid until the next update (see `_CloseState.peeker`)."""
        return self._h.peek
