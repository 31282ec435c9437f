"""The five Smart Money strategies and their shared structure tracker on hand-built candles
(strategies.md §3.5): where each pattern is decided, what it signals, and that judging a
forming bar never changes what a strategy remembers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import talib

from cryptoai_tui.market import CandleSeries
from cryptoai_tui.strategies import Action, create_strategy
from cryptoai_tui.strategies.smc.structure import (
    BreakKind,
    Direction,
    MarketStructure,
    PivotKind,
    pivots_confirmed_at,
)
from tests.unit.synthetic_candles import (
    fired,
    from_closes,
    from_ohlc,
    last_signal,
    legs,
    mirrored,
    signals,
    window,
    with_volume,
)

FLAT = [100.0] * 50  # no pivots: a flat bar is never strictly above its neighbours
# Swing highs 120.5 (bar 53), 130.5 (61), 140.5 (69) and low 117.5 (65). Bar 60 breaks
# 120.5 first (no trend yet), bar 68 breaks 130.5 (BOS), bar 74 breaks 117.5 against the
# uptrend (CHoCH). The trough at 57 is no pivot: its low 109.5 equals bar 52's, and the
# left side must be strictly higher.
ZIGZAG = from_closes(
    FLAT + legs(100, (120, 4), (110, 4), (130, 4), (118, 4), (140, 4), (100, 8))
)


def atr_at(candles: list, index: int) -> float:
    data = window(candles[: index + 1])
    return float(talib.ATR(np.array(data.high), np.array(data.low), np.array(data.close), 14)[-1])


# --- pivots and structure --------------------------------------------------------------

def test_a_pivot_is_reported_only_once_its_right_side_has_closed() -> None:
    data = window(ZIGZAG)
    found = {
        j: pivots_confirmed_at(data, j, seq=j, left=5, right=5) for j in range(len(ZIGZAG))
    }
    highs = {j: h for j, (h, _) in found.items() if h is not None}
    lows = {j: lo for j, (_, lo) in found.items() if lo is not None}
    assert sorted(highs) == [58, 66, 74]  # tops at 53, 61, 69, each known 5 bars later
    assert [(h.seq, h.level, h.confirmed_seq) for h in highs.values()] == [
        (53, 120.5, 58), (61, 130.5, 66), (69, 140.5, 74)
    ]
    # Bars 53 and 54 share the high 120.5: the plateau's first bar is the only pivot.
    assert all(h.kind is PivotKind.HIGH for h in highs.values())
    assert sorted(lows) == [70]
    assert [(lo.seq, lo.level) for lo in lows.values()] == [(65, 117.5)]


def test_structure_marks_initial_break_then_bos_then_choch() -> None:
    data = window(ZIGZAG)
    structure = MarketStructure(left=5, right=5)
    events = []
    for j in range(len(ZIGZAG)):
        for brk in structure.step(data, j, j, commit=True).breaks:
            events.append((j, brk.direction, brk.kind, brk.pivot.level))
    assert events == [
        (60, Direction.BULLISH, BreakKind.INITIAL, 120.5),
        (68, Direction.BULLISH, BreakKind.BOS, 130.5),
        (74, Direction.BEARISH, BreakKind.CHOCH, 117.5),
    ]
    assert structure.trend is Direction.BEARISH


def test_a_provisional_structure_step_changes_nothing() -> None:
    data = window(ZIGZAG)
    structure = MarketStructure(left=5, right=5)
    for j in range(68):
        structure.step(data, j, j, commit=True)
    before = dict(vars(structure))
    preview = structure.step(data, 68, 68, commit=False)
    assert [b.kind for b in preview.breaks] == [BreakKind.BOS]
    assert vars(structure) == before


def test_wick_breaks_fire_on_the_high_not_the_close() -> None:
    # Bar 59 closes at 120 (below 120.5) but its wick reaches 120.5 only, bar 60's 125.5.
    data = window(ZIGZAG)
    by_close, by_wick = MarketStructure(5, 5), MarketStructure(5, 5, wick_breaks=True)
    first = {}
    for label, structure in (("close", by_close), ("wick", by_wick)):
        for j in range(len(ZIGZAG)):
            if structure.step(data, j, j, commit=True).breaks and label not in first:
                first[label] = j
    assert first == {"close": 60, "wick": 60}
    assert data.high[60] > 120.5 >= data.high[59]


# --- bos / choch -----------------------------------------------------------------------

def test_bos_buys_the_break_that_continues_an_uptrend() -> None:
    found = signals(create_strategy("bos"), ZIGZAG)
    assert fired(found) == [(68, "BUY")]
    buy = found[68]
    assert buy.values["level"] == 130.5
    assert buy.reason == "bullish BOS: close 134.50 broke the swing high 130.50"
    strength = (134.5 - 130.5) / atr_at(ZIGZAG, 68)
    assert buy.confidence == pytest.approx(0.5 + 0.5 * min(1.0, strength))
    # The first break only sets the trend; it is not a BOS.
    assert found[60].action is Action.HOLD


def test_bos_sells_the_mirror_image() -> None:
    found = signals(create_strategy("bos"), mirrored(ZIGZAG))
    assert fired(found) == [(68, "SELL")]
    assert found[68].reason.startswith("bearish BOS")


def test_choch_sells_the_first_break_against_the_uptrend_and_buys_the_mirror() -> None:
    found = signals(create_strategy("choch"), ZIGZAG)
    assert fired(found) == [(74, "SELL")]
    assert found[74].values["level"] == 117.5
    assert found[74].reason == "bearish CHoCH: close 115.00 broke the swing low 117.50"
    assert fired(signals(create_strategy("choch"), mirrored(ZIGZAG))) == [(74, "BUY")]


def test_structure_strategies_hold_with_the_levels_they_watch() -> None:
    hold = signals(create_strategy("bos"), ZIGZAG)[66]
    assert hold.action is Action.HOLD
    assert hold.reason == "uptrend; watching high 130.50"
    assert dict(hold.values) == {"high": 130.5}
    after_break = signals(create_strategy("bos"), ZIGZAG)[72]
    assert after_break.reason == "uptrend; watching low 117.50"  # 130.5 broke at 68


def test_structure_strategies_warm_up_for_50_bars() -> None:
    strategy = create_strategy("bos")
    assert strategy.lookback == 50
    assert last_signal(strategy, ZIGZAG[:49]).action is Action.WARMUP
    assert create_strategy("bos", left=20, right=20).lookback == 81


def test_a_break_on_a_zero_volume_bar_is_not_traded_and_not_retried() -> None:
    found = signals(create_strategy("bos"), with_volume(ZIGZAG, 68, 0.0))
    assert fired(found) == []
    assert "no volume" in found[68].reason


# --- order_block -----------------------------------------------------------------------

def test_order_block_buys_the_retest_of_the_candle_before_the_impulse() -> None:
    found = signals(create_strategy("order_block"), ZIGZAG)
    # Break at 60 -> block = lowest low of bars 54..59 (bars 57 and 58 tie at 109.5: the
    # later one, 58: [109.5, 115.5]). Break at 68 -> bars 62..67, bar 66: [117.5, 124.0].
    assert fired(found) == [(73, "BUY"), (74, "BUY")]
    assert dict(found[73].values) == {"top": 124.0, "bottom": 117.5}
    assert dict(found[74].values) == {"top": 115.5, "bottom": 109.5}
    displacement = 134.5 - 124.0  # close of the breaking bar above the block's top
    assert found[73].confidence == pytest.approx(
        0.5 + 0.5 * min(1.0, displacement / atr_at(ZIGZAG, 68))
    )
    # The bearish CHoCH at 74 leaves a bearish block: bar 70, the latest highest high.
    assert found[-1].reason == "waiting for a retest of the bearish block 134.50-140.50"


def test_order_block_sells_the_retest_in_the_mirror_image() -> None:
    assert fired(signals(create_strategy("order_block"), mirrored(ZIGZAG))) == [
        (73, "SELL"), (74, "SELL")
    ]


def test_a_close_through_the_block_kills_it() -> None:
    # After the top at 140, one bar falls to 113: below block [117.5, 124] (dead), inside
    # block [109.5, 115.5] (retest that holds). The next bar revisits 117.5-124: nothing.
    crash = ZIGZAG[:70] + from_ohlc([(140, 140.5, 112, 113), (113, 121, 112.5, 120)], start=70)
    found = signals(create_strategy("order_block"), crash)
    assert fired(found) == [(70, "BUY")]
    assert found[70].values["bottom"] == 109.5
    assert found[71].action is Action.HOLD


def test_an_order_block_expires() -> None:
    # Created at 68 and 60; with expiry 5 only the first survives to its retest at 73.
    assert fired(signals(create_strategy("order_block", expiry=5), ZIGZAG)) == [(73, "BUY")]


# --- fvg -------------------------------------------------------------------------------

# 20 quiet bars, then a: 100.5 high, b: a strong bullish candle, c: low 101 > a's high.
# The gap [100.5, 101] is known at bar 22; bar 24 dips to 100.8 and closes back at 102.
GAP = from_closes([100.0] * 20) + from_ohlc(
    [
        (100, 100.5, 99.5, 100),
        (100, 104, 99.8, 103.5),
        (103.5, 105, 101, 104.5),
        (104.5, 106, 104, 105.5),
        (105.5, 105.6, 100.8, 102),
    ],
    start=20,
)


def test_fvg_buys_the_retest_of_a_bullish_gap() -> None:
    found = signals(create_strategy("fvg"), GAP)
    assert fired(found) == [(24, "BUY")]
    buy = found[24]
    assert dict(buy.values) == {"top": 101.0, "bottom": 100.5}
    assert buy.confidence == pytest.approx(0.5 + 0.5 * (0.5 / atr_at(GAP, 22)))
    assert 0.5 < buy.confidence < 1.0
    assert found[23].reason == "open bullish gap 100.50-101.00"


def test_fvg_sells_the_retest_of_a_bearish_gap() -> None:
    found = signals(create_strategy("fvg"), mirrored(GAP))
    assert fired(found) == [(24, "SELL")]
    assert dict(found[24].values) == {"top": 99.5, "bottom": 99.0}


def test_fvg_formation_mode_signals_on_the_third_candle() -> None:
    assert fired(signals(create_strategy("fvg", mode="formation"), GAP)) == [(22, "BUY")]


def test_fvg_needs_a_bullish_middle_candle_unless_told_otherwise() -> None:
    bearish_middle = GAP[:21] + from_ohlc([(100, 104, 99.8, 99.9)], start=21) + GAP[22:]
    assert fired(signals(create_strategy("fvg"), bearish_middle)) == []
    relaxed = create_strategy("fvg", middle_candle=False)
    assert fired(signals(relaxed, bearish_middle)) == [(24, "BUY")]


def test_fvg_ignores_gaps_smaller_than_the_atr_filter() -> None:
    assert fired(signals(create_strategy("fvg", min_size_atr=1.0), GAP)) == []


def test_a_gap_closed_through_is_gone_and_an_old_gap_expires() -> None:
    through = GAP[:24] + from_ohlc([(105.5, 105.6, 99, 100), (100, 101.2, 100.6, 101)], start=24)
    found = signals(create_strategy("fvg"), through)
    assert [s.action for s in found[24:]] == [Action.HOLD, Action.HOLD]
    assert fired(signals(create_strategy("fvg", expiry=1), GAP)) == []


def test_fvg_warms_up_until_atr_exists() -> None:
    assert create_strategy("fvg").lookback == 15
    assert last_signal(create_strategy("fvg"), GAP[:14]).action is Action.WARMUP


# --- liquidity_sweep -------------------------------------------------------------------

# Two equal highs at 120.5 (bars 53 and 61, confirmed at 58 and 66) form one pool; bar 69
# wicks to 121.5 and closes back at 119.
POOL = from_closes(FLAT + legs(100, (120, 4), (110, 4), (120, 4), (112, 4), (118, 3)))
SWEEP = POOL + from_ohlc([(118, 121.5, 117.5, 119)], start=69)
AFTER = from_ohlc([(119, 119.5, 117, 118)], start=70)


def test_liquidity_sweep_sells_a_wick_above_equal_highs_rejected_by_the_close() -> None:
    found = signals(create_strategy("liquidity_sweep"), SWEEP + AFTER)
    assert fired(found) == [(69, "SELL")]
    sell = found[69]
    assert sell.reason == "2 equal highs at 120.50 swept"
    reach = (121.5 - 120.5) / (0.5 * atr_at(SWEEP, 69))
    wick = (121.5 - 119) / (121.5 - 117.5)
    pool_bonus = 0.1
    expected = min(1.0, 0.5 + 0.25 * min(1.0, reach) + 0.25 * wick + pool_bonus)
    assert sell.confidence == pytest.approx(expected)


def test_liquidity_sweep_buys_below_equal_lows() -> None:
    found = signals(create_strategy("liquidity_sweep"), mirrored(SWEEP))
    assert fired(found) == [(69, "BUY")]
    assert found[69].values["level"] == 79.5


def test_a_close_beyond_the_level_is_a_break_and_uses_the_level_up() -> None:
    broken = POOL + from_ohlc([(118, 122.5, 117.5, 122), (122, 123, 120, 121)], start=69)
    assert fired(signals(create_strategy("liquidity_sweep"), broken)) == []


def test_liquidity_sweep_can_wait_for_a_confirming_close() -> None:
    strategy = create_strategy("liquidity_sweep", confirm_bar=True)
    found = signals(strategy, SWEEP + AFTER)
    assert fired(found) == [(70, "SELL")]
    assert "waiting for the next close" in found[69].reason
    failed = SWEEP + from_ohlc([(119, 121.5, 118.5, 121)], start=70)
    assert fired(signals(strategy, failed)) == []


def test_a_single_swing_is_a_level_too() -> None:
    # Only the first top, 120.5 at bar 53, confirmed at 58; bar 59 sweeps it.
    single = from_closes(FLAT + legs(100, (120, 4), (112, 5))) + from_ohlc(
        [(112, 121, 111.5, 113)], start=59
    )
    found = signals(create_strategy("liquidity_sweep"), single)
    assert fired(found) == [(59, "SELL")]
    assert found[59].reason == "swing high at 120.50 swept"


def test_a_swing_is_no_level_before_it_is_confirmed() -> None:
    # The same wick one bar earlier, at 58, is inside the pivot's right side: the top at
    # 53 never becomes a pivot, and nothing can be swept.
    early = from_closes(FLAT + legs(100, (120, 4), (112, 4))) + from_ohlc(
        [(112, 121, 111.5, 113)], start=58
    )
    assert fired(signals(create_strategy("liquidity_sweep"), early)) == []


# --- rules every SMC strategy shares ---------------------------------------------------

SMC = ("bos", "choch", "order_block", "fvg", "liquidity_sweep")
# Each ends on its strategy's signal bar.
SETUPS = {
    "bos": ZIGZAG[:69],
    "choch": ZIGZAG[:75],
    "order_block": ZIGZAG[:74],
    "fvg": GAP,
    "liquidity_sweep": SWEEP,
}


def state_of(strategy: object) -> dict[str, object]:
    """Every attribute, one level deep (lists copied, tracker objects as their attributes)."""
    out: dict[str, object] = {}
    for key, value in vars(strategy).items():
        if isinstance(value, list):
            value = list(value)
        elif hasattr(value, "__dict__"):
            value = dict(vars(value))
        out[key] = value
    return out


@pytest.mark.parametrize("name", SMC)
def test_judging_the_forming_bar_changes_no_state(name: str) -> None:
    candles = SETUPS[name]
    strategy = create_strategy(name)
    strategy.evaluate(window(candles[:-1]), confirmed=True)
    before = state_of(strategy)
    provisional = strategy.evaluate(window(candles), confirmed=False)
    assert state_of(strategy) == before
    assert provisional.action in (Action.BUY, Action.SELL)
    assert strategy.evaluate(window(candles), confirmed=True) == provisional


@pytest.mark.parametrize("name", SMC)
def test_one_call_over_a_bootstrap_window_equals_bar_by_bar(name: str) -> None:
    candles = SETUPS[name]
    streamed = signals(create_strategy(name), candles)
    assert last_signal(create_strategy(name), candles) == streamed[-1]


@pytest.mark.parametrize("name", SMC)
def test_confirming_the_same_bar_twice_returns_the_same_signal(name: str) -> None:
    strategy = create_strategy(name)
    data = window(SETUPS[name])
    assert strategy.evaluate(data, confirmed=True) == strategy.evaluate(data, confirmed=True)


@pytest.mark.parametrize("name", SMC)
def test_a_window_from_another_time_restarts_the_state(name: str) -> None:
    strategy = create_strategy(name)
    strategy.evaluate(window(SETUPS[name]), confirmed=True)
    later = [c.__class__(c.open_time + 10**9, c.open, c.high, c.low, c.close, c.volume,
                         c.close_time + 10**9, True) for c in SETUPS[name]]
    fresh = last_signal(create_strategy(name), later)
    assert strategy.evaluate(window(later), confirmed=True) == fresh


# --- stances (docs/strategies.md) ----------------------------------------------------------

def stances(found: list) -> str:
    """One character per bar: + bullish, - bearish, . neutral (WARMUP bars are neutral)."""
    return "".join({"bullish": "+", "bearish": "-", "neutral": "."}[s.stance.value] for s in found)


@pytest.mark.parametrize("name", ["bos", "choch"])
def test_structure_stance_is_the_trend_after_each_break(name: str) -> None:
    # No trend until the first break at 60, up until the CHoCH at 74, down after it.
    found = signals(create_strategy(name), ZIGZAG)
    assert stances(found) == "." * 60 + "+" * 14 + "-" * 4
    assert stances(signals(create_strategy(name), mirrored(ZIGZAG))) == "." * 60 + "-" * 14 + "+" * 4


def test_order_block_stance_is_the_newest_unmitigated_block() -> None:
    found = signals(create_strategy("order_block"), ZIGZAG)
    # A bullish block from the break at 60 (price above it) until both blocks are retested
    # at 73-74; the CHoCH at 74 leaves a bearish block price trades below.
    assert stances(found) == "." * 60 + "+" * 14 + "-" * 4
    assert found[74].action is Action.BUY and found[74].stance.value == "bearish"
    assert stances(signals(create_strategy("order_block"), mirrored(ZIGZAG)))[60:] == "-" * 14 + "+" * 4


def test_fvg_stance_lasts_while_the_gap_is_open_in_both_modes() -> None:
    # The gap is known at 22 and open at 23; the retest at 24 uses it up.
    for mode in ("retest", "formation"):
        found = signals(create_strategy("fvg", mode=mode), GAP)
        assert stances(found) == "." * 22 + "++."
        assert stances(signals(create_strategy("fvg", mode=mode), mirrored(GAP))) == "." * 22 + "--."
    through = GAP[:24] + from_ohlc([(105.5, 105.6, 99, 100)], start=24)
    assert stances(signals(create_strategy("fvg"), through))[22:] == "++."
    # Without a retest the gap stays open until it expires (`expiry` bars after forming).
    above = GAP[:24] + from_ohlc([(105.5, 106, 104.5, 105.8)], start=24)
    assert stances(signals(create_strategy("fvg"), above))[22:] == "+++"
    assert stances(signals(create_strategy("fvg", expiry=1), above))[22:] == "++."


def test_liquidity_sweep_stance_follows_the_last_sweep_until_it_fails_or_ages() -> None:
    found = signals(create_strategy("liquidity_sweep"), SWEEP + AFTER)
    assert stances(found) == "." * 69 + "--"  # swept highs: bearish, still valid at 70
    assert stances(signals(create_strategy("liquidity_sweep"), mirrored(SWEEP + AFTER)))[69:] == "++"
    # A close back above the sweeping wick (121.5) means the rejection failed.
    failed = SWEEP + from_ohlc([(119, 122, 118.5, 121.6)], start=70)
    assert stances(signals(create_strategy("liquidity_sweep"), failed))[69:] == "-."
    # It lasts `stance_bars` bars at most.
    short = create_strategy("liquidity_sweep", stance_bars=1)
    assert stances(signals(short, SWEEP + AFTER))[69:] == "-."
    # With a confirming close, the stance starts with the signal, not with the sweep.
    waiting = create_strategy("liquidity_sweep", confirm_bar=True)
    assert stances(signals(waiting, SWEEP + AFTER))[69:] == ".-"


def test_liquidity_sweep_stance_is_neutral_with_levels_but_no_sweep() -> None:
    hold = signals(create_strategy("liquidity_sweep"), POOL)[-1]
    assert hold.reason.startswith("resting stops") and hold.stance.value == "neutral"


@pytest.mark.parametrize("name", ["bos", "choch", "order_block", "fvg", "liquidity_sweep"])
def test_a_provisional_stance_changes_no_state(name: str) -> None:
    """Judging a forming bar that would flip the stance leaves the next confirmed one as if
    the forming bar had never been seen."""
    candles = {"fvg": GAP, "liquidity_sweep": SWEEP + AFTER}.get(name, ZIGZAG)
    plain = signals(create_strategy(name), candles)
    strategy = create_strategy(name)
    series = CandleSeries(capacity=len(candles))
    seen = []
    flipped = 0
    for candle in candles:
        if name == "liquidity_sweep":  # a wick through the highs, rejected: a bearish sweep
            crash = replace(candle, high=candle.high + 50, closed=False)
        else:  # a close far below everything: a bearish break, gaps and blocks closed through
            crash = replace(candle, low=candle.low - 50, close=candle.low - 49, closed=False)
        series.set_forming(crash)
        preview = strategy.evaluate(series.view(include_forming=True), confirmed=False)
        series.append(candle)
        seen.append(strategy.evaluate(series.view(), confirmed=True))
        flipped += preview.stance is not seen[-1].stance
    assert seen == plain
    assert flipped > 0  # the forming crashes did move the provisional stance
