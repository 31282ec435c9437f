"""`make_signal` (the classic strategies' fast constructor) makes the same Signal as the
class does: equal, hashed alike, frozen, and picklable, including the read-only values and
the deferred reasons the strategies hand out."""

from __future__ import annotations

import dataclasses
import pickle
from types import MappingProxyType

import pytest

from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.strategies import parse_strategy_spec
from cryptoai_tui.strategies.classic.rsi import _hold_reason
from cryptoai_tui.strategies.signal import Action, Signal, Stance, make_signal
from tests.conftest import load_candles

ARGS = [
    (Action.HOLD, 0.0, "", {}, Stance.NEUTRAL),
    (Action.BUY, 0.75, "RSI crossed above 30 (low 24.1)", {"rsi": 31.2}, Stance.NEUTRAL),
    (Action.HOLD, 0.0, (_hold_reason, 25.0, 30.0, 70.0), MappingProxyType({"rsi": 25.0}),
     Stance.BULLISH),
    (Action.SELL, 0.5, lambda: "built late", MappingProxyType({"a": 1.0, "b": 2.0}),
     Stance.BEARISH),
]


@pytest.mark.parametrize("args", ARGS, ids=lambda a: a[0].value)
def test_a_fast_made_signal_equals_the_one_the_class_makes(args: tuple) -> None:
    fast, slow = make_signal(*args), Signal(*args)
    assert type(fast) is Signal
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    for name in ("action", "confidence", "reason", "stance", "trigger", "side"):
        assert getattr(fast, name) == getattr(slow, name), name
    assert dict(fast.values) == dict(slow.values)


@pytest.mark.parametrize("args", ARGS, ids=lambda a: a[0].value)
def test_a_fast_made_signal_is_frozen_and_pickles(args: tuple) -> None:
    fast = make_signal(*args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.action = Action.SELL  # type: ignore[misc]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(fast, protocol))
        assert copy == fast and copy == Signal(*args)
        assert type(copy.values) is type(args[3])  # read-only stays read-only
    assert dataclasses.replace(fast, confidence=0.25) == Signal(*args[:1], 0.25, *args[2:])


def test_the_classic_strategies_signals_pickle_round_trip() -> None:
    """What the strategies actually return (fast-made, values read-only, reasons deferred)."""
    series = CandleSeries(1000)
    series.extend(load_candles("BTCUSDT-1h.csv", limit=300))
    view = series.view()
    for strategy in parse_strategy_spec("rsi,ema_cross,bollinger,macd,stochastic,adx"):
        signal = strategy.evaluate(view, confirmed=True)
        assert pickle.loads(pickle.dumps(signal)) == signal, strategy.name
        with pytest.raises(TypeError):
            signal.values["x"] = 1.0  # type: ignore[index]
