"""What the classic strategies share: O(1) indicator state, and the rules every one applies.

A signal is a function of the window (TA-Lib's Function API over it is the reference,
strategies/streaming.py says why), but recomputing a 1,000-bar indicator to learn the one
value a forming update changed is most of a tick. So each strategy keeps TA-Lib stream
state (`StreamedStrategy`): every closed bar of the window is fed to it once, in order
(`update`), and the forming bar is only looked at (`peek`), which commits nothing, so it can
be revised any number of times. Readings are plain tuples of floats; the decision (the
`*_trigger` / `*_stance` functions in each module) reads only them, so it cannot tell which
source produced them.

Where the state may differ from the reference by rounding (~1e-13 relative for Bollinger
and Stochastic; far below that for the recursive ones after the window slid), a comparison
that is that close to a tie could come out the other way. So a reading within `TIE` of a
decision boundary is re-read from the full window with TA-Lib and decided on those numbers
(rare: a few bars in thousands), and so is every reading on a window where the state's
memory matters (`exact_for` False, see streaming.py). Triggers and stances therefore equal
the Function API's exactly; values equal it to rounding.
"""

from __future__ import annotations

from abc import abstractmethod
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Generic, Protocol, TypeVar

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.indicators import atr
from cryptoai_tui.strategies.streaming import AtrState
from cryptoai_tui.strategies.signal import (
    BUY,
    HOLD,
    NEUTRAL,
    SELL,
    Action,
    Reason,
    Signal,
    Stance,
    make_signal,
)

NO_VOLUME = "no volume on this bar (exchange maintenance?); no signal"
BOTH_FIRED = "BUY and SELL rules both fired; no signal"


class ClassicStrategy(Strategy):
    group: ClassVar[str] = "Classic"

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        have, need = len(data), self.lookback
        if have < need:
            return Signal.warmup(have, need)
        return self.judge(data)

    @abstractmethod
    def judge(self, data: OHLCV) -> Signal:
        """The signal for the last bar; `data` holds at least `lookback` bars."""


# Relative distance from a decision boundary under which the state's reading is not trusted
# to fall on the same side as the Function API's (its error is ~1e-13 relative at worst).
TIE = 1e-9


def near(a: float, b: float, scale: float) -> bool:
    """True when a and b are within TIE * scale of each other (NaN is never near)."""
    return abs(a - b) <= TIE * scale


class StreamState(Protocol):
    """A strategy's indicator state: one `update_prices` per closed bar, `peek_prices` for
    the forming one (streaming.py), each given the bar's high, low and close."""

    def update_prices(self, high: float, low: float, close: float) -> Any: ...

    def peek_prices(self, high: float, low: float, close: float) -> Any: ...

    @property
    def CLOSE_ONLY(self) -> bool:
        """Whether `peeker()` takes the close alone rather than (high, low, close)."""

    def peeker(self) -> Callable[..., Any]:
        """`peek_prices` without the Python frames around the C call, valid until the next
        `update_prices` (a handle may open on it)."""

    def exact_for(self, window: int) -> bool: ...


R = TypeVar("R")  # a strategy's reading: a tuple of floats (or one float)

# Which bar `_decide` judges, and where its readings came from: the newest closed bar from
# the state, the forming bar from the state's peek, or TA-Lib over the whole window (the
# state stands in for nothing, its ATR and RSI history included). Plain ints, so no bar
# object is built per tick to say which it was.
CLOSED, FORMING, FROM_WINDOW = 0, 1, 2


class StreamedStrategy(ClassicStrategy, Generic[R]):
    """A classic strategy that reads its indicators from O(1) stream state.

    Subclasses supply `_new_state` (the stream state, whose outputs are the strategy's
    readings as they come), `_window` (the previous and current readings from TA-Lib over
    the whole window: the reference, used on near-ties), `_tied` and `_decide`.

    The closed bars of each window are matched to the state by open time, as the SMC
    patterns do: the usual call brings one new closed bar (one `update`), a repeat of the
    same window brings none, anything else (a bootstrap, a gap, another market) re-warms
    the state from the window's first bar, feeding it bar by bar so the state is the same
    whichever way the bars arrived.
    """

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.reset()

    def reset(self) -> None:
        self._state: StreamState = self._new_state()
        self._last_time: int | None = None  # open time of the newest closed bar fed
        self._origin: int | None = None  # open time of the first bar the state saw
        self._prev: R | None = None  # reading at the closed bar before the newest
        self._cur: R | None = None  # reading at the newest closed bar
        self._cur_signal: Signal | None = None  # confirmed signal of the newest closed bar
        self._need = self.lookback
        self._exact: set[int] = set()  # window lengths the state may stand in for
        self._bind()

    def _bind(self) -> None:
        """Keep the state's peeker (refreshed after every update: a handle may have opened)
        so a forming step calls TA-Lib's C method directly, reading only the prices it
        takes, instead of going through a Python method per wrapping layer."""
        state = self._state
        self._peek = state.peeker()
        self._close_only = state.CLOSE_ONLY

    @abstractmethod
    def _new_state(self) -> StreamState: ...

    @abstractmethod
    def _window(self, data: OHLCV) -> tuple[R, R]:
        """(previous, current) readings from TA-Lib over the whole window."""

    @abstractmethod
    def _tied(self, prev: R, now: R, data: OHLCV) -> bool:
        """True when a decision compares two numbers within TIE of each other."""

    @abstractmethod
    def _decide(self, data: OHLCV, prev: R, now: R, step: int) -> Signal:
        """The signal from the readings; `step` (CLOSED, FORMING or FROM_WINDOW) says which
        bar they are for and where they came from, for states a fired signal's confidence
        reads (an ATR, the RSI history)."""

    def judge(self, data: OHLCV) -> Signal:
        return self._decide(data, *self._window(data), FROM_WINDOW)

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        # The hot path (every strategy, every update): locals, no property reads, and
        # `.item()` for every number read from the window (a Python int or float at once,
        # where indexing builds a numpy scalar first and compares it slowly).
        times = data.open_time
        n = times.shape[0]
        if n < self._need:
            return Signal.warmup(n, self._need)
        last = self._last_time
        if not confirmed and last is not None and times.item(n - 1) <= last:
            confirmed = True  # no forming bar in the window: its last bar is closed
        closed = n if confirmed else n - 1
        if times.item(closed - 1) != last:
            if closed >= 2 and last is not None and times.item(closed - 2) == last:
                self._feed(data, closed - 1)
            else:
                self._warm(data, closed)
        elif confirmed and self._cur_signal is not None:
            return self._cur_signal  # the same closed window again
        if n not in self._exact and times.item(0) != self._origin:
            if not self._state.exact_for(n):
                return self.judge(data)  # the state remembers bars the window no longer has
            self._exact.add(n)
        if confirmed:
            prev, now, step = self._prev, self._cur, CLOSED
        else:
            i = n - 1
            prev, step = self._cur, FORMING
            if self._close_only:
                now = self._peek(data.close.item(i))
            else:
                now = self._peek(data.high.item(i), data.low.item(i), data.close.item(i))
        assert prev is not None and now is not None
        if self._tied(prev, now, data):
            prev, now = self._window(data)
        signal = self._decide(data, prev, now, step)
        if confirmed:
            self._cur_signal = signal
        return signal

    def _feed(self, data: OHLCV, i: int) -> None:
        self._prev, self._cur = self._cur, self._state.update_prices(
            data.high.item(i), data.low.item(i), data.close.item(i))
        self._last_time = data.open_time.item(i)
        self._cur_signal = None
        self._peek = self._state.peeker()  # a handle may have opened on this bar

    def _warm(self, data: OHLCV, closed: int) -> None:
        self._state = self._new_state()
        self._prev = self._cur = None
        highs, lows, closes = data.high.tolist(), data.low.tolist(), data.close.tolist()
        update = self._state.update_prices
        for i in range(closed):
            self._prev, self._cur = self._cur, update(highs[i], lows[i], closes[i])
        self._origin = data.open_time.item(0)
        self._last_time = data.open_time.item(closed - 1)
        self._cur_signal = None
        self._bind()


def decide(
    *,
    buy: bool,
    sell: bool,
    volume: float,
    values: dict[str, float],
    hold_reason: Reason,
    explain: Callable[[Action], tuple[float, Reason]],
    stance: Stance = NEUTRAL,
) -> Signal:
    """Apply the rules every classic strategy shares (strategies.md §2.1): a zero-volume bar
    never signals, and BUY and SELL together cancel out to HOLD.

    `explain(action)` returns (confidence, reason); it is called only when a signal fires,
    so work needed only for the confidence (an ATR) is not paid on quiet bars. The stance
    is reported whatever the trigger: a zero-volume bar hides no indicator reading.
    `hold_reason` may be a function (see `Signal`): quiet bars are most bars, and their
    text is built only if someone reads it.
    """
    frozen = MappingProxyType(values)  # each strategy passes a dict of its own
    if not (buy or sell):
        return make_signal(HOLD, 0.0, hold_reason, frozen, stance)  # most bars: first, cheapest
    if volume <= 0.0:
        return make_signal(HOLD, 0.0, NO_VOLUME, frozen, stance)
    if buy and sell:
        return make_signal(HOLD, 0.0, BOTH_FIRED, frozen, stance)
    action = BUY if buy else SELL
    confidence, reason = explain(action)
    return make_signal(action, confidence, reason, frozen, stance)


class WithAtr:
    """A strategy's stream state plus the ATR a fired signal's confidence reads.

    The ATR is committed with every closed bar (one C call) so a trigger on a closed bar
    reads it at once; a forming bar's ATR is peeked only when a rule fires.
    """

    __slots__ = ("inner", "atr", "atr_now")

    def __init__(self, inner: StreamState, atr_period: int) -> None:
        self.inner = inner
        self.atr = AtrState(atr_period)
        self.atr_now = float("nan")

    def exact_for(self, window: int) -> bool:
        return self.inner.exact_for(window) and self.atr.exact_for(window)

    def update_prices(self, high: float, low: float, close: float) -> Any:
        self.atr_now = self.atr.update_prices(high, low, close)
        return self.inner.update_prices(high, low, close)

    def peek_prices(self, high: float, low: float, close: float) -> Any:
        return self.inner.peek_prices(high, low, close)

    @property
    def CLOSE_ONLY(self) -> bool:
        return self.inner.CLOSE_ONLY

    def peeker(self) -> Callable[..., Any]:
        return self.inner.peeker()  # peeking never touches the ATR


def atr_on(strategy: StreamedStrategy[Any], data: OHLCV, step: int, period: int) -> float:
    """ATR(period) on the bar `strategy` is judging: from its `WithAtr` state while that
    stands in for the window, from TA-Lib over the window otherwise."""
    state = strategy._state
    if step != FROM_WINDOW and isinstance(state, WithAtr):
        if step == CLOSED:
            return float(state.atr_now)
        return float(state.atr.peek_prices(data.high.item(-1), data.low.item(-1),
                                           data.close.item(-1)))
    return float(atr(data.high, data.low, data.close, period)[-1])
