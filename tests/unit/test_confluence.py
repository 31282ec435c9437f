"""Confluence modes exactly as strategies.md §2.3: WARMUP and ERROR vote HOLD, ties and
conflicts are HOLD, and the result names who agreed."""

from __future__ import annotations

import pytest

from cryptoai_tui.strategies import Action, ConfluenceMode, Signal, confluence

ALL, ANY, MAJORITY = ConfluenceMode.ALL, ConfluenceMode.ANY, ConfluenceMode.MAJORITY


def buy(confidence: float) -> Signal:
    return Signal(Action.BUY, confidence, "up")


def sell(confidence: float) -> Signal:
    return Signal(Action.SELL, confidence, "down")


HOLD = Signal.hold("quiet")
WARMUP = Signal.warmup(10, 50)
ERROR = Signal.error("TA-Lib raised")


def test_all_fires_only_when_every_strategy_agrees_at_the_weakest_confidence() -> None:
    result = confluence({"rsi": buy(0.9), "macd": buy(0.6), "bos": buy(0.7)}, ALL)
    assert (result.action, result.confidence) == (Action.BUY, 0.6)
    assert result.agree == ("rsi", "macd", "bos")
    assert (result.total, result.reason, result.mode) == (3, "3/3 BUY", ALL)
    assert confluence({"rsi": sell(0.8), "macd": sell(0.55)}, ALL).confidence == 0.55


def test_all_holds_when_one_strategy_holds_or_warms_up() -> None:
    for odd_one in (HOLD, WARMUP, ERROR):
        result = confluence({"rsi": buy(0.9), "macd": buy(0.6), "bos": odd_one}, ALL)
        assert result.action is Action.HOLD and result.confidence == 0.0
        assert result.agree == ("bos",)
        assert result.reason == "not unanimous: 2 BUY, 0 SELL, 1 HOLD of 3"


def test_any_takes_the_strongest_signal_when_no_one_objects() -> None:
    result = confluence({"rsi": buy(0.6), "macd": HOLD, "fvg": buy(0.8), "adx": WARMUP}, ANY)
    assert (result.action, result.confidence) == (Action.BUY, 0.8)
    assert result.agree == ("rsi", "fvg")
    assert result.reason == "2/4 BUY, none against"
    assert confluence({"rsi": sell(0.7), "macd": HOLD}, ANY).action is Action.SELL


def test_any_holds_on_a_conflict() -> None:
    result = confluence({"rsi": buy(0.9), "macd": buy(0.6), "bos": sell(0.99)}, ANY)
    assert result.action is Action.HOLD and result.confidence == 0.0
    assert result.reason == "conflict: 2 BUY vs 1 SELL"
    assert result.agree == ()


def test_any_holds_when_nothing_fires() -> None:
    result = confluence({"rsi": HOLD, "macd": ERROR}, ANY)
    assert result.action is Action.HOLD and result.agree == ("rsi", "macd")
    assert result.reason == "no signal: 2/2 HOLD"


def test_majority_needs_more_than_half_of_all_chosen_strategies() -> None:
    signals = {"a": buy(0.8), "b": buy(0.6), "c": buy(1.0), "d": HOLD, "e": sell(0.9)}
    result = confluence(signals, MAJORITY)
    assert result.action is Action.BUY
    assert result.confidence == pytest.approx((0.8 + 0.6 + 1.0) / 5)
    assert result.agree == ("a", "b", "c") and result.reason == "3/5 BUY"


def test_majority_counts_holds_warmups_and_errors_in_the_total() -> None:
    signals = {"a": buy(0.9), "b": buy(0.9), "c": WARMUP, "d": ERROR, "e": HOLD}
    result = confluence(signals, MAJORITY)
    assert result.action is Action.HOLD
    assert result.reason == "no majority: 2 BUY, 0 SELL, 3 HOLD of 5"


def test_majority_tie_is_hold_never_a_coin_flip() -> None:
    result = confluence({"a": buy(0.9), "b": sell(0.9)}, MAJORITY)
    assert result.action is Action.HOLD
    assert result.reason == "conflict: 1 BUY vs 1 SELL, no majority of 2"
    half = confluence({"a": buy(0.9), "b": buy(0.9), "c": HOLD, "d": HOLD}, MAJORITY)
    assert half.action is Action.HOLD  # 2 of 4 is not more than half


def test_majority_sells_on_eleven_strategies() -> None:
    names = [f"s{i}" for i in range(11)]
    signals = {name: (sell(0.6) if i < 7 else HOLD) for i, name in enumerate(names)}
    result = confluence(signals, MAJORITY)
    assert (result.action, result.reason) == (Action.SELL, "7/11 SELL")
    assert result.confidence == pytest.approx(7 * 0.6 / 11)


@pytest.mark.parametrize("mode", list(ConfluenceMode))
def test_no_strategies_means_hold(mode: ConfluenceMode) -> None:
    result = confluence({}, mode)
    assert (result.action, result.total, result.agree) == (Action.HOLD, 0, ())


@pytest.mark.parametrize("mode", list(ConfluenceMode))
def test_the_verdict_does_not_depend_on_the_order_of_strategies(mode: ConfluenceMode) -> None:
    signals = {"a": buy(0.7), "b": buy(0.9), "c": HOLD, "d": buy(0.55), "e": WARMUP}
    forward = confluence(signals, mode)
    backward = confluence(dict(reversed(list(signals.items()))), mode)
    assert forward.action is backward.action
    assert forward.confidence == pytest.approx(backward.confidence)
    assert sorted(forward.agree) == sorted(backward.agree)


def test_a_single_strategy_decides_alone_in_every_mode() -> None:
    for mode in ConfluenceMode:
        result = confluence({"rsi": buy(0.7)}, mode)
        assert (result.action, result.confidence) == (Action.BUY, 0.7)
