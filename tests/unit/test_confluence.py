"""Confluence on triggers and stances (docs/strategies.md "Confluence"): a signal needs a
trigger, the mode decides how many stances must confirm it, WARMUP and ERROR are neutral,
conflicts and ties are HOLD, and every HOLD says why."""

from __future__ import annotations

import pytest

from cryptoai_tui.strategies import Action, ConfluenceMode, Signal, confluence
from cryptoai_tui.strategies.signal import ConfluenceRule, Stance

ALL, ANY, MAJORITY = ConfluenceMode.ALL, ConfluenceMode.ANY, ConfluenceMode.MAJORITY
UP, DOWN, FLAT = Stance.BULLISH, Stance.BEARISH, Stance.NEUTRAL


def buy(confidence: float, stance: Stance = FLAT) -> Signal:
    return Signal(Action.BUY, confidence, "up", stance=stance)


def sell(confidence: float, stance: Stance = FLAT) -> Signal:
    return Signal(Action.SELL, confidence, "down", stance=stance)


def hold(stance: Stance = FLAT) -> Signal:
    return Signal.hold("quiet", stance=stance)


WARMUP = Signal.warmup(10, 50)
ERROR = Signal.error("TA-Lib raised")


def eleven(trigger: Signal, bullish: int, bearish: int = 0) -> dict[str, Signal]:
    """ema_cross triggers; of the other ten, `bullish` lean up, `bearish` down, rest neutral."""
    others = [hold(UP)] * bullish + [hold(DOWN)] * bearish
    others += [hold()] * (10 - len(others))
    return {"ema_cross": trigger, **{f"s{i}": s for i, s in enumerate(others)}}


# --- no trigger, conflicts ---------------------------------------------------------------

@pytest.mark.parametrize("mode", [ALL, ANY, MAJORITY, ConfluenceRule.at_least(2)])
def test_without_a_trigger_every_mode_holds_however_the_stances_lean(mode: object) -> None:
    signals = {"a": hold(UP), "b": hold(UP), "c": hold(UP)}
    result = confluence(signals, mode)  # type: ignore[arg-type]
    assert (result.action, result.confidence, result.reason) == (Action.HOLD, 0.0, "no trigger")
    assert result.agree == () and result.triggered_by == ()


@pytest.mark.parametrize("mode", [ALL, ANY, MAJORITY, ConfluenceRule.at_least(1)])
def test_opposite_triggers_on_one_candle_are_a_conflict_in_every_mode(mode: object) -> None:
    signals = {"rsi": buy(0.9, UP), "macd": sell(0.6), "ema": hold(UP), "adx": hold(UP)}
    result = confluence(signals, mode)  # type: ignore[arg-type]
    assert result.action is Action.HOLD and result.confidence == 0.0
    assert result.reason == "conflict: rsi BUY vs macd SELL"
    assert result.triggered_by == ("rsi", "macd") and result.agree == ()


# --- ANY ---------------------------------------------------------------------------------

def test_any_fires_on_a_trigger_with_no_opposite_trigger_even_against_the_stances() -> None:
    signals = {"rsi": buy(0.8), "macd": hold(DOWN), "bos": hold(DOWN), "fvg": WARMUP}
    result = confluence(signals, ANY)
    assert result.action is Action.BUY
    assert result.triggered_by == ("rsi",) and result.confirmed_by == ()
    assert result.opposed_by == ("macd", "bos") and result.needed == 1
    assert result.reason == "rsi BUY, no opposite trigger"
    assert result.confidence == pytest.approx(0.8 * 1 / 4)


# --- MAJORITY ------------------------------------------------------------------------------

def test_majority_needs_more_than_half_of_all_chosen_strategies_on_the_trigger_side() -> None:
    fired = confluence(eleven(buy(0.7, UP), bullish=5), MAJORITY)
    assert fired.action is Action.BUY and fired.needed == 6
    assert fired.triggered_by == ("ema_cross",)
    assert fired.confirmed_by == ("s0", "s1", "s2", "s3", "s4")
    assert fired.agree == ("ema_cross", "s0", "s1", "s2", "s3", "s4")
    assert fired.reason == "ema_cross BUY, 6 of 11 bullish (needs 6)"
    assert fired.confidence == pytest.approx(0.7 * 6 / 11)

    short = confluence(eleven(buy(0.7, UP), bullish=3, bearish=2), MAJORITY)
    assert short.action is Action.HOLD and short.confidence == 0.0 and short.agree == ()
    assert short.reason == "ema_cross BUY, only 4 of 11 bullish (needs 6)"
    assert short.opposed_by == ("s3", "s4") and short.needed == 6


def test_the_triggering_strategy_counts_on_its_trigger_side_whatever_its_stance() -> None:
    """RSI leaving oversold triggers BUY while its stance has just turned neutral: it still
    counts once, as bullish; a strategy never counts twice."""
    signals = {"rsi": buy(0.6, FLAT), "b": hold(UP), "c": hold()}
    result = confluence(signals, MAJORITY)
    assert result.action is Action.BUY and result.on_side == 2
    against_itself = confluence({"rsi": buy(0.6, DOWN), "b": hold(UP), "c": hold()}, MAJORITY)
    assert against_itself.action is Action.BUY and against_itself.opposed_by == ()


def test_warmup_and_error_count_as_neutral_but_still_count_in_the_total() -> None:
    signals = {"a": buy(0.9, UP), "b": hold(UP), "c": WARMUP, "d": ERROR, "e": hold()}
    result = confluence(signals, MAJORITY)
    assert result.action is Action.HOLD and result.needed == 3
    assert result.reason == "a BUY, only 2 of 5 bullish (needs 3)"
    assert result.opposed_by == ()


def test_half_is_not_a_majority() -> None:
    signals = {"a": buy(0.9), "b": hold(UP), "c": hold(), "d": hold()}
    assert confluence(signals, MAJORITY).action is Action.HOLD
    signals["c"] = hold(UP)
    assert confluence(signals, MAJORITY).action is Action.BUY


def test_majority_sells_on_eleven_strategies_with_the_strongest_trigger_confidence() -> None:
    signals = eleven(sell(0.6, DOWN), bullish=1, bearish=6)
    signals["s9"] = sell(0.9)
    result = confluence(signals, MAJORITY)
    assert result.action is Action.SELL
    assert result.triggered_by == ("ema_cross", "s9")
    assert result.reason == "ema_cross, s9 SELL, 8 of 11 bearish (needs 6)"
    assert result.opposed_by == ("s0",)
    assert result.confidence == pytest.approx(0.9 * 8 / 11)


# --- ALL ---------------------------------------------------------------------------------

def test_all_fires_when_no_stance_stands_against_the_trigger() -> None:
    result = confluence(eleven(buy(0.8, UP), bullish=2), ALL)
    assert result.action is Action.BUY and result.needed == 1
    assert result.reason == "ema_cross BUY, 3 of 11 bullish, none against"
    assert result.confidence == pytest.approx(0.8 * 3 / 11)


def test_all_holds_when_one_stance_stands_against_and_names_it() -> None:
    result = confluence(eleven(buy(0.8, UP), bullish=8, bearish=1), ALL)
    assert result.action is Action.HOLD and result.agree == ()
    assert result.opposed_by == ("s8",)
    assert result.reason == "ema_cross BUY, but 1 bearish (s8); ALL needs none"


# --- at least K ------------------------------------------------------------------------------

def test_at_least_k_counts_the_trigger_and_its_confirmations() -> None:
    three = ConfluenceRule.at_least(3)
    assert confluence(eleven(buy(0.5), bullish=2, bearish=5), three).action is Action.BUY
    short = confluence(eleven(buy(0.5), bullish=1), three)
    assert short.action is Action.HOLD
    assert short.reason == "ema_cross BUY, only 2 of 11 bullish (needs 3)"
    fired = confluence(eleven(buy(0.5), bullish=2), "3")
    assert fired.mode == three and fired.rule == three and fired.needed == 3
    assert fired.reason == "ema_cross BUY, 3 of 11 bullish (needs 3)"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("all", ConfluenceRule(ALL)),
        ("ANY", ConfluenceRule(ANY)),
        (" Majority ", ConfluenceRule(MAJORITY)),
        ("3", ConfluenceRule.at_least(3)),
        (3, ConfluenceRule.at_least(3)),
    ],
)
def test_rules_parse_from_what_users_type(text: str, rule: ConfluenceRule) -> None:
    assert ConfluenceRule.parse(text) == rule
    assert ConfluenceRule.parse(rule.value) == rule


@pytest.mark.parametrize("text", ["most", "0", "-2", "2.5", ""])
def test_a_rule_that_is_not_a_mode_or_a_count_is_refused_with_the_choices(text: str) -> None:
    with pytest.raises(ValueError, match="use all, any, majority, or a number|at least 1"):
        ConfluenceRule.parse(text)


def test_rule_labels_and_needs_for_the_screen() -> None:
    three = ConfluenceRule.at_least(3)
    assert (three.value, three.label(11), three.needed(11)) == ("3", "3 of 11", 3)
    assert ConfluenceRule(MAJORITY).label(11) == "MAJORITY"
    assert [ConfluenceRule(m).needed(11) for m in (ANY, MAJORITY, ALL)] == [1, 6, 1]
    assert ConfluenceRule(MAJORITY).needed(4) == 3
    with pytest.raises(ValueError, match="only 2 are chosen: choose more strategies"):
        three.check(2)
    three.check(3)


def test_a_plain_mode_result_reports_the_enum_so_old_consumers_keep_working() -> None:
    result = confluence({"rsi": buy(0.7)}, ConfluenceRule(ANY))
    assert result.mode is ANY and result.mode.value == "any"


# --- invariants ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(ConfluenceMode))
def test_no_strategies_means_hold(mode: ConfluenceMode) -> None:
    result = confluence({}, mode)
    assert (result.action, result.total, result.agree) == (Action.HOLD, 0, ())
    assert result.reason == "no strategies chosen"


@pytest.mark.parametrize("mode", [*ConfluenceMode, ConfluenceRule.at_least(3)])
def test_the_verdict_does_not_depend_on_the_order_of_strategies(mode: object) -> None:
    signals = {"a": buy(0.7), "b": hold(UP), "c": hold(), "d": buy(0.55, UP), "e": WARMUP}
    forward = confluence(signals, mode)  # type: ignore[arg-type]
    backward = confluence(dict(reversed(list(signals.items()))), mode)  # type: ignore[arg-type]
    assert forward.action is backward.action is Action.BUY
    assert forward.confidence == pytest.approx(backward.confidence)
    assert sorted(forward.agree) == sorted(backward.agree)


def test_a_single_strategy_decides_alone_in_every_mode() -> None:
    for mode in [*ConfluenceMode, ConfluenceRule.at_least(1)]:
        result = confluence({"rsi": buy(0.7)}, mode)
        assert (result.action, result.confidence) == (Action.BUY, 0.7)


def test_a_hold_never_claims_agreement() -> None:
    """The screen's "agree N of N" must mean nothing for a HOLD: agree is empty."""
    for signals in (
        {"a": hold(UP), "b": hold(UP)},
        {"a": buy(0.9), "b": sell(0.9)},
        eleven(buy(0.9), bullish=1),
    ):
        for mode in ConfluenceMode:
            result = confluence(signals, mode)
            if result.action is Action.HOLD:
                assert result.agree == () and result.confidence == 0.0 and result.reason


def test_mode_descriptions_describe_the_trigger_and_stance_rules() -> None:
    for mode in ConfluenceMode:
        assert "trigger" in mode.description
        assert ConfluenceRule(mode).description == mode.description
    assert "at least 3" in ConfluenceRule.at_least(3).description
