"""The JSON line `signals` prints for a confirmed signal."""

from __future__ import annotations

import json
from types import MappingProxyType

from cryptoai_tui.commands.signals import confirmed_signal_json, confirmed_signal_line, is_warmed_up
from cryptoai_tui.snapshot import ConfirmedSignal, StrategyRow
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Signal


def confirmed(rsi_value: float, macd_action: Action = Action.BUY) -> ConfirmedSignal:
    rows = (
        StrategyRow("rsi", Signal(Action.HOLD, 0.0, "between", MappingProxyType({"rsi": rsi_value}))),
        StrategyRow("macd", Signal(macd_action, 0.75, "crossed", MappingProxyType({"hist": 1.5, "signal": -2.0}))),
    )
    verdict = ConfluenceResult(ConfluenceMode.ANY, Action.BUY, 0.75, ("macd",), 2, "1/2 BUY, none against")
    return ConfirmedSignal(1_606_780_800_000, 19565.47, verdict, rows)


def test_line_has_the_documented_shape() -> None:
    line = json.loads(confirmed_signal_line(confirmed(48.5)))
    assert line == {
        "open_time": 1_606_780_800_000,
        "close": 19565.47,
        "confluence": {"mode": "any", "action": "BUY", "confidence": 0.75, "agree": ["macd"]},
        "strategies": {
            "rsi": {"action": "HOLD", "confidence": 0.0, "values": {"rsi": 48.5}},
            "macd": {"action": "BUY", "confidence": 0.75, "values": {"hist": 1.5, "signal": -2.0}},
        },
    }
    assert line == confirmed_signal_json(confirmed(48.5))


def test_non_finite_values_become_null_so_every_line_is_strict_json() -> None:
    for bad in (float("nan"), float("inf"), float("-inf")):
        text = confirmed_signal_line(confirmed(bad))
        line = json.loads(text, parse_constant=lambda token: (_ for _ in ()).throw(ValueError(token)))
        assert line["strategies"]["rsi"]["values"] == {"rsi": None}


def test_warm_up_means_no_strategy_is_still_warming_up() -> None:
    assert is_warmed_up(confirmed(50.0))
    assert not is_warmed_up(confirmed(50.0, macd_action=Action.WARMUP))
