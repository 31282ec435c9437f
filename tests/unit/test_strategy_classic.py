"""The six classic strategies on hand-built candles: every BUY, SELL, HOLD and WARMUP path,
the zero-volume guard, and the confidence formulas of strategies.md §2.2 recomputed here
from TA-Lib's own arrays."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from cryptoai_tui.strategies import Action, create_strategy
from tests.unit.synthetic_candles import (
    fired,
    from_closes,
    last_signal,
    legs,
    signals,
    window,
    with_volume,
)

# A fall then one bar far up (or the mirror): every cross-based rule fires on the last bar.
FALL_THEN_JUMP = legs(200, (170, 30)) + [250]
RISE_THEN_DROP = legs(100, (130, 30)) + [50]
CHOP = [100 + ((i * 7919) % 13 - 6) for i in range(80)]  # no trend, no drift


def arrays(closes: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = window(from_closes(closes))
    return np.array(data.high), np.array(data.low), np.array(data.close)


def atr_last(closes: list[float]) -> float:
    high, low, close = arrays(closes)
    return float(talib.ATR(high, low, close, timeperiod=14)[-1])


# --- rsi -------------------------------------------------------------------------------

def test_rsi_buys_when_leaving_oversold_with_confidence_from_the_episode_low() -> None:
    closes = legs(200, (180, 20)) + [190]
    found = signals(create_strategy("rsi"), from_closes(closes))
    assert fired(found) == [(20, "BUY")]
    buy = found[-1]
    # A straight fall drives RSI to 0: the deepest possible oversold, full confidence.
    assert buy.confidence == 1.0
    assert buy.reason == "RSI crossed above 30 (low 0.0)"
    expected = talib.RSI(np.array(closes, dtype=float), timeperiod=14)[-1]
    assert buy.values["rsi"] == pytest.approx(expected, abs=1e-9)


def test_rsi_confidence_scales_with_how_deep_the_dip_went() -> None:
    # Down 3, up 1.1 repeatedly: RSI settles in the mid 20s, then a rally lifts it over 30.
    closes = [100.0]
    for _ in range(15):
        closes += [closes[-1] - 3, closes[-1] - 3 + 1.1]
    closes.append(closes[-1] + 6)
    values = talib.RSI(np.array(closes), timeperiod=14)
    assert values[-2] < 30 < values[-1]
    episode = [v for v in values[-21:-1]]
    run = []
    for v in reversed(episode):
        if v > 30:
            break
        run.append(v)
    buy = last_signal(create_strategy("rsi"), from_closes(closes))
    assert buy.action is Action.BUY
    assert buy.confidence == pytest.approx(0.5 + 0.5 * (30 - min(run)) / 30)
    assert 0.5 < buy.confidence < 1.0


def test_rsi_sells_when_leaving_overbought() -> None:
    found = signals(create_strategy("rsi"), from_closes(legs(100, (120, 20)) + [110]))
    assert fired(found) == [(20, "SELL")]
    assert found[-1].confidence == 1.0
    assert found[-1].reason.startswith("RSI crossed below 70")


def test_rsi_holds_while_overbought_and_says_what_it_waits_for() -> None:
    hold = last_signal(create_strategy("rsi"), from_closes(legs(100, (120, 20))))
    assert hold.action is Action.HOLD and hold.confidence == 0.0
    assert "overbought" in hold.reason and hold.values["rsi"] == 100.0


def test_rsi_level_mode_buys_on_every_oversold_bar() -> None:
    found = signals(create_strategy("rsi", mode="level"), from_closes(legs(200, (180, 20))))
    assert fired(found) == [(i, "BUY") for i in range(15, 20)]


def test_rsi_warms_up_until_it_can_see_a_cross() -> None:
    strategy = create_strategy("rsi")
    assert strategy.lookback == 16
    early = last_signal(strategy, from_closes(legs(200, (180, 15))))
    assert early.action is Action.WARMUP and early.reason == "warming up: 15/16 candles"
    assert last_signal(strategy, from_closes(legs(200, (180, 16)))).action is Action.HOLD


# --- ema_cross -------------------------------------------------------------------------

def test_ema_cross_buys_on_the_crossing_bar_with_atr_scaled_confidence() -> None:
    found = signals(create_strategy("ema_cross"), from_closes(FALL_THEN_JUMP))
    assert fired(found) == [(30, "BUY")]
    close = np.array(FALL_THEN_JUMP)
    spread = talib.EMA(close, timeperiod=9) - talib.EMA(close, timeperiod=21)
    opening = abs(spread[-1] - spread[-2])
    expected = 0.5 + 0.5 * min(1.0, opening / (0.25 * atr_last(FALL_THEN_JUMP)))
    assert found[-1].confidence == pytest.approx(expected)
    assert found[-1].values["fast"] > found[-1].values["slow"]


def test_ema_cross_sells_on_a_cross_below() -> None:
    sell = last_signal(create_strategy("ema_cross"), from_closes(RISE_THEN_DROP))
    assert sell.action is Action.SELL
    assert sell.reason.startswith("EMA9 crossed below EMA21")


def test_ema_cross_holds_in_a_steady_trend() -> None:
    hold = last_signal(create_strategy("ema_cross"), from_closes(legs(100, (130, 30))))
    assert hold.action is Action.HOLD and hold.reason.endswith("no cross")


def test_ema_cross_warmup_covers_the_slow_ema_and_the_cross() -> None:
    strategy = create_strategy("ema_cross", fast=5, slow=30)
    assert strategy.lookback == 31
    assert last_signal(strategy, from_closes(FALL_THEN_JUMP[-30:])).action is Action.WARMUP


# --- bollinger -------------------------------------------------------------------------

BAND = [100 + (1 if i % 2 else -1) for i in range(25)]


def test_bollinger_buys_a_close_breaking_above_the_upper_band() -> None:
    closes = BAND + [110]
    found = signals(create_strategy("bollinger"), from_closes(closes))
    assert fired(found) == [(25, "BUY")]
    upper, middle, lower = talib.BBANDS(np.array(closes, dtype=float), 20, 2.0, 2.0, 0)
    buy = found[-1]
    assert buy.values["upper"] == pytest.approx(upper[-1], rel=1e-9)
    assert buy.values["lower"] == pytest.approx(lower[-1], rel=1e-9)
    pct_b = (110 - lower[-1]) / (upper[-1] - lower[-1])
    assert buy.confidence == pytest.approx(0.5 + 0.5 * min(1.0, (pct_b - 1) / 0.5))


def test_bollinger_sells_a_close_breaking_below_the_lower_band() -> None:
    sell = last_signal(create_strategy("bollinger"), from_closes(BAND + [90]))
    assert sell.action is Action.SELL and "lower band" in sell.reason


def test_bollinger_holds_inside_the_bands_and_on_flat_bands() -> None:
    inside = last_signal(create_strategy("bollinger"), from_closes(BAND + [100]))
    assert inside.action is Action.HOLD and "no breakout" in inside.reason
    flat = last_signal(create_strategy("bollinger"), from_closes([100.0] * 25))
    assert flat.action is Action.HOLD and "flat" in flat.reason
    assert flat.stance.value == "neutral"  # flat bands lean nowhere


def test_bollinger_warmup() -> None:
    assert last_signal(create_strategy("bollinger"), from_closes(BAND[:20])).action is Action.WARMUP


# --- macd ------------------------------------------------------------------------------

ACCELERATING_FALL = [1000 - 0.05 * i * i for i in range(60)]


def test_macd_buys_when_the_histogram_turns_positive() -> None:
    closes = ACCELERATING_FALL + [ACCELERATING_FALL[-1] + 100]
    found = signals(create_strategy("macd"), from_closes(closes))
    assert fired(found) == [(60, "BUY")]
    line, signal, hist = talib.MACD(np.array(closes), 12, 26, 9)
    buy = found[-1]
    assert (buy.values["macd"], buy.values["signal"], buy.values["hist"]) == pytest.approx(
        (line[-1], signal[-1], hist[-1]), abs=1e-9
    )
    expected = 0.5 + 0.5 * min(1.0, abs(hist[-1] - hist[-2]) / (0.1 * atr_last(closes)))
    assert buy.confidence == pytest.approx(expected)


def test_macd_sells_when_the_histogram_turns_negative() -> None:
    rise = [1000 + 0.05 * i * i for i in range(60)]
    sell = last_signal(create_strategy("macd"), from_closes(rise + [rise[-1] - 100]))
    assert sell.action is Action.SELL


def test_macd_holds_without_a_cross_and_warms_up_for_35_bars() -> None:
    strategy = create_strategy("macd")
    assert strategy.lookback == 35
    assert last_signal(strategy, from_closes(ACCELERATING_FALL)).action is Action.HOLD
    assert last_signal(strategy, from_closes(ACCELERATING_FALL[:34])).action is Action.WARMUP


# --- stochastic ------------------------------------------------------------------------

def test_stochastic_buys_a_cross_out_of_oversold() -> None:
    closes = legs(200, (170, 30)) + [190]
    found = signals(create_strategy("stochastic"), from_closes(closes))
    assert fired(found) == [(30, "BUY")]
    high, low, close = arrays(closes)
    k, d = talib.STOCH(high, low, close, 14, 3, 0, 3, 0)
    floor = min(k[-2], d[-2])
    buy = found[-1]
    assert (buy.values["k"], buy.values["d"]) == pytest.approx((k[-1], d[-1]), abs=1e-9)
    assert buy.confidence == pytest.approx(0.5 + 0.5 * (20 - floor) / 20)


def test_stochastic_sells_a_cross_out_of_overbought() -> None:
    sell = last_signal(create_strategy("stochastic"), from_closes(legs(100, (130, 30)) + [110]))
    assert sell.action is Action.SELL and "overbought" in sell.reason


def test_stochastic_ignores_a_cross_in_the_middle_of_the_range() -> None:
    # The cross out of oversold needs min(K, D) < 20 on the previous bar; lift the bar.
    candles = from_closes(legs(200, (170, 30)) + [190])
    hold = last_signal(create_strategy("stochastic", lower=1.0), candles)
    assert hold.action is Action.HOLD


def test_stochastic_warmup_is_fastk_plus_smoothing() -> None:
    strategy = create_strategy("stochastic")
    assert strategy.lookback == 19
    assert last_signal(strategy, from_closes(CHOP[:18])).action is Action.WARMUP


# --- adx -------------------------------------------------------------------------------

V_SHAPE = legs(1000, (700, 30), (1000, 30))


def test_adx_buys_when_plus_di_crosses_above_minus_di_in_a_trend() -> None:
    found = signals(create_strategy("adx"), from_closes(V_SHAPE))
    assert fired(found) == [(39, "BUY")]
    buy = found[39]
    high, low, close = arrays(V_SHAPE[:40])
    adx = talib.ADX(high, low, close, timeperiod=14)[-1]
    plus = talib.PLUS_DI(high, low, close, timeperiod=14)[-1]
    minus = talib.MINUS_DI(high, low, close, timeperiod=14)[-1]
    assert (buy.values["adx"], buy.values["plus_di"], buy.values["minus_di"]) == pytest.approx(
        (adx, plus, minus), abs=1e-9
    )
    strength = (min(1.0, (adx - 25) / 25) + min(1.0, 2 * abs(plus - minus) / (plus + minus))) / 2
    assert buy.confidence == pytest.approx(0.5 + 0.5 * strength)


def test_adx_sells_when_minus_di_takes_over() -> None:
    found = signals(create_strategy("adx"), from_closes(legs(1000, (1300, 30), (1000, 30))))
    assert fired(found) == [(39, "SELL")]


def test_adx_holds_a_di_cross_when_the_trend_is_too_weak() -> None:
    found = signals(create_strategy("adx", threshold=90.0), from_closes(V_SHAPE))
    assert fired(found) == []
    assert found[39].reason == "+DI crossed above -DI but ADX 67.0 < 90: no trend"


def test_adx_holds_in_a_market_without_trend() -> None:
    hold = last_signal(create_strategy("adx"), from_closes(CHOP))
    # The one threshold (25) decides what a trend is; the reason names it.
    assert hold.action is Action.HOLD and hold.reason.endswith("< 25: no trend")


def test_adx_warmup_waits_for_the_first_adx_value() -> None:
    strategy = create_strategy("adx")
    assert strategy.lookback == 28
    assert last_signal(strategy, from_closes(CHOP[:27])).action is Action.WARMUP
    assert last_signal(strategy, from_closes(CHOP[:28])).action is Action.HOLD


# --- rules every classic strategy shares -----------------------------------------------

SETUPS = {
    "rsi": legs(200, (180, 20)) + [190],
    "ema_cross": FALL_THEN_JUMP,
    "bollinger": BAND + [110],
    "macd": ACCELERATING_FALL + [ACCELERATING_FALL[-1] + 100],
    "stochastic": legs(200, (170, 30)) + [190],
    "adx": V_SHAPE[:40],
}


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_no_signal_on_a_zero_volume_bar(name: str) -> None:
    candles = from_closes(SETUPS[name])
    assert last_signal(create_strategy(name), candles).action is Action.BUY
    muted = with_volume(candles, -1, 0.0)
    hold = last_signal(create_strategy(name), muted)
    assert hold.action is Action.HOLD and "no volume" in hold.reason
    assert hold.values, "the indicator values are still shown"


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_provisional_and_confirmed_agree_on_the_same_window(name: str) -> None:
    data = window(from_closes(SETUPS[name]))
    strategy = create_strategy(name)
    assert strategy.evaluate(data, confirmed=False) == strategy.evaluate(data, confirmed=True)


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_confidence_is_half_to_one_for_signals_and_zero_otherwise(name: str) -> None:
    for signal in signals(create_strategy(name), from_closes(SETUPS[name] + CHOP)):
        if signal.action in (Action.BUY, Action.SELL):
            assert 0.5 <= signal.confidence <= 1.0
        else:
            assert signal.confidence == 0.0


# --- stances (docs/strategies.md): what each indicator says on every bar ---------------

def stances(found: list) -> str:
    """One character per bar: + bullish, - bearish, . neutral (WARMUP bars are neutral)."""
    return "".join({"bullish": "+", "bearish": "-", "neutral": "."}[s.stance.value] for s in found)


def test_ema_stance_follows_the_side_of_the_fast_ema_and_is_neutral_when_equal() -> None:
    found = signals(create_strategy("ema_cross"), from_closes(FALL_THEN_JUMP))
    assert stances(found) == "." * 21 + "-" * 9 + "+"
    assert found[-1].action is Action.BUY
    # Flat prices: both EMAs equal the price exactly, so neither side leads.
    assert last_signal(create_strategy("ema_cross"), from_closes([100.0] * 30)).stance.value == "neutral"


def test_ema_cross_from_exact_equality_is_a_cross() -> None:
    """Issue 9 §9 survivor: the previous bar's spread exactly 0 (flat prices make both EMAs
    equal to the price) then a rise must BUY; `spread_prev <= 0` made `< 0` fails here."""
    closes = [100.0] * 30 + [101.0]
    found = signals(create_strategy("ema_cross"), from_closes(closes))
    assert fired(found) == [(30, "BUY")]
    assert fired(signals(create_strategy("ema_cross"), from_closes([100.0] * 30 + [99.0]))) == [
        (30, "SELL")
    ]


def test_rsi_stance_is_mean_reversion_oversold_bullish_overbought_bearish() -> None:
    found = signals(create_strategy("rsi"), from_closes(FALL_THEN_JUMP))
    # Warm-up, then oversold all the way down (bullish); the jump leaves oversold: BUY, and
    # RSI (now above 70) turns the stance bearish on that very bar.
    assert stances(found) == "." * 15 + "+" * 15 + "-"
    assert found[-1].action is Action.BUY
    middle = last_signal(create_strategy("rsi"), from_closes(CHOP))
    assert middle.stance.value == "neutral" and 30 < middle.values["rsi"] < 70


def test_rsi_cross_from_exactly_the_bound_is_a_cross() -> None:
    """Issue 9 §9 survivor: RSI exactly on the bound, then above it, must BUY; `prev <=
    lower` made `prev < lower` fails here. With period 2, +1 then -1 gives average gain =
    average loss, RSI exactly 50 (the bound); a further +1 lifts it to 75."""
    closes = [100.0, 101.0, 100.0, 101.0]
    strategy = create_strategy("rsi", period=2, lower=50, upper=80)
    values = talib.RSI(np.array(closes), timeperiod=2)
    assert values[2] == 50.0 and values[3] > 50.0
    assert fired(signals(strategy, from_closes(closes))) == [(3, "BUY")]
    mirror = [100.0, 99.0, 100.0, 99.0]  # RSI exactly 50 then 25: leaving "overbought" 50
    strategy = create_strategy("rsi", period=2, lower=20, upper=50)
    assert fired(signals(strategy, from_closes(mirror))) == [(3, "SELL")]


def test_macd_stance_is_the_side_of_the_histogram() -> None:
    found = signals(create_strategy("macd"), from_closes(CHOP))
    hists = [s.values.get("hist") for s in found]
    for signal, hist in zip(found, hists):
        if hist is None:
            assert signal.stance.value == "neutral"
        else:
            assert signal.stance.value == ("bullish" if hist > 0 else "bearish" if hist < 0 else "neutral")
    assert "+" in stances(found) and "-" in stances(found)


def test_bollinger_stance_is_the_side_of_the_middle_band() -> None:
    found = signals(create_strategy("bollinger"), from_closes(V_SHAPE))
    assert stances(found) == "." * 20 + "-" * 15 + "+" * 25
    for signal in found[20:]:
        assert (signal.stance.value == "bullish") == (
            signal.values["pct_b"] > 0.5
        )  # symmetric bands: above the middle is %B above one half


def test_bollinger_reason_never_says_no_breakout_outside_the_bands() -> None:
    # A steady climb after a flat stretch: the close breaks above the upper band, then stays
    # above it for a few bars without a new cross.
    found = signals(create_strategy("bollinger"), from_closes([100.0] * 25 + legs(100, (130, 10))))
    assert found[25].action is Action.BUY
    outside = [s for s in found[26:] if s.action is Action.HOLD and s.values["pct_b"] > 1.0]
    assert outside, "the climb should keep the close above the band"
    for signal in outside:
        assert "no breakout" not in signal.reason
        assert "still above the upper band" in signal.reason
    inside = last_signal(create_strategy("bollinger"), from_closes(CHOP))
    assert inside.reason.startswith("close inside the bands, at ")


def test_stochastic_stance_is_its_zone_oversold_bullish_overbought_bearish() -> None:
    found = signals(create_strategy("stochastic"), from_closes(V_SHAPE))
    for signal in found[18:]:
        k = signal.values["k"]
        expected = "bullish" if k < 20 else "bearish" if k > 80 else "neutral"
        assert signal.stance.value == expected
    assert stances(found)[18:33] == "+" * 15 and stances(found)[-1] == "-"


def test_adx_stance_needs_a_trend_and_follows_the_leading_di() -> None:
    found = signals(create_strategy("adx"), from_closes(V_SHAPE))
    assert stances(found) == "." * 27 + "-" * 12 + "+" * 21
    assert found[39].action is Action.BUY and found[39].stance.value == "bullish"
    # No trend (ADX < 25): neutral, whichever DI leads.
    chop = last_signal(create_strategy("adx"), from_closes(CHOP))
    assert chop.values["adx"] < 25 and chop.stance.value == "neutral"
    # The threshold decides what a trend is, for the stance as for the trigger.
    strict = signals(create_strategy("adx", threshold=90.0), from_closes(V_SHAPE))
    for signal in strict[27:]:
        assert (signal.stance.value == "neutral") == (signal.values["adx"] < 90.0)
    assert "." in stances(strict)[27:] and "-" in stances(strict)


@pytest.mark.parametrize("name", ["rsi", "ema_cross", "bollinger", "macd", "stochastic", "adx"])
def test_a_zero_volume_bar_keeps_its_stance(name: str) -> None:
    closes = legs(200, (170, 40)) + [250]  # every classic trigger fires on the last bar
    quiet = last_signal(create_strategy(name), with_volume(from_closes(closes), -1, 0.0))
    loud = last_signal(create_strategy(name), from_closes(closes))
    assert loud.action is Action.BUY
    assert quiet.action is Action.HOLD and quiet.stance is loud.stance
