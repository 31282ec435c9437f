"""The contract between strategies and everything that runs them (engine, backtests).

The engine calls `evaluate` with a window whose last bar is the bar being judged:
- on a forming update: `evaluate(series.view(include_forming=True), confirmed=False)`;
  the result is provisional and the strategy must not change any state it keeps;
- on a close: `evaluate(series.view(), confirmed=True)`, exactly once per closed bar, in
  order; stateful strategies (the SMC patterns' structure, the classic ones' TA-Lib stream
  state) advance their state with the closed bars of the window they are given, matched
  by open time, so a repeat of the same window changes nothing and a forming update
  first catches up on closed bars it has not seen, then only looks at the forming one.

A confirmed signal may read only bars <= t (no look-ahead), so a run over data[:n] gives the
same confirmed signals as the first n of a run over data[:n+k].
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from cryptoai_tui.strategies.signal import Signal

if TYPE_CHECKING:  # numpy loads with the series, when a strategy first evaluates
    from cryptoai_tui.market.series import OHLCV


class Strategy(ABC):
    name: ClassVar[str]  # registry name: rsi, ema_cross, ..., liquidity_sweep
    title: ClassVar[str]  # "RSI mean reversion"
    group: ClassVar[str]  # "Classic" or "Smart Money"
    description: ClassVar[str]  # one line for the picker
    defaults: ClassVar[Mapping[str, Any]]  # default parameters

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"{self.name} has no parameter {', '.join(unknown)}; "
                f"its parameters are {', '.join(sorted(self.defaults))}."
            )
        merged = dict(self.defaults)
        for key, value in params.items():
            merged[key] = _coerce(self.name, key, value, self.defaults[key])
        self.params: Mapping[str, Any] = merged
        self.validate()

    @property
    @abstractmethod
    def lookback(self) -> int:
        """Closed candles needed before the strategy can say anything but WARMUP."""

    @classmethod
    def lookback_for(cls, **params: Any) -> int:
        """The lookback these parameters would give, without keeping an instance.

        Raises ValueError (the same sentence as the constructor) for parameters that are
        not valid at all; window size is a separate question (`registry.check_fits`).
        """
        return cls(**params).lookback

    @abstractmethod
    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        """The signal for the last bar of `data` (see the module docstring)."""

    def validate(self) -> None:
        """Raise ValueError (a sentence naming the parameter) if the parameters cannot work.

        Called once by __init__ so a bad command line fails before any candle arrives.
        """

    def reset(self) -> None:
        """Forget any state (stateless strategies have none)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _coerce(strategy: str, key: str, value: Any, default: Any) -> Any:
    """The value converted to the default's type, or a ValueError that says what was wrong.

    Values come from the command line as text and from Python as anything, so "10", 10 and
    10.0 are all an int 10, while 10.5 is refused rather than silently truncated.
    """
    kind = type(default)
    text = value.strip() if isinstance(value, str) else value
    try:
        if kind is bool:
            if isinstance(text, bool):
                return text
            if isinstance(text, str) and text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if kind is int:
            if isinstance(text, bool):
                raise ValueError
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            if isinstance(text, bool):
                raise ValueError
            number = float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        return kind(text)
    except (TypeError, ValueError):
        expected = {bool: "true or false", int: "a whole number", float: "a number"}.get(
            kind, f"a {kind.__name__}"
        )
        raise ValueError(
            f"{strategy} parameter {key} must be {expected}, got {value!r}; "
            f"its default is {default!r}."
        ) from None
