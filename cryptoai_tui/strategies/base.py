"""The contract between strategies and everything that runs them (engine, backtests).

The engine calls `evaluate` with a window whose last bar is the bar being judged:
- on a forming update: `evaluate(series.view(include_forming=True), confirmed=False)`;
  the result is provisional and the strategy must not change any state it keeps;
- on a close: `evaluate(series.view(), confirmed=True)`, exactly once per closed bar, in
  order; stateful strategies (the SMC patterns) advance their state here and only here.

A confirmed signal may read only bars <= t (no look-ahead), so a run over data[:n] gives the
same confirmed signals as the first n of a run over data[:n+k].
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping

from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.signal import Signal


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
            default = self.defaults[key]
            merged[key] = type(default)(value) if not isinstance(default, bool) else _to_bool(value)
        self.params: Mapping[str, Any] = merged

    @property
    @abstractmethod
    def lookback(self) -> int:
        """Closed candles needed before the strategy can say anything but WARMUP."""

    @abstractmethod
    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        """The signal for the last bar of `data` (see the module docstring)."""

    def reset(self) -> None:
        """Forget any state (stateless strategies have none)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
