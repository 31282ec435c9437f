from __future__ import annotations

import pytest

from cryptoai_tui.alerts.book import AlertBook, ConfirmedCandle, PriceTick
from cryptoai_tui.alerts.rules import (
    AlertRule,
    Comparison,
    Frequency,
    IndicatorCondition,
    MoveCondition,
    PriceCondition,
    RuleError,
    SignalCondition,
    TriggerCondition,
    parse_condition,
    parse_duration,
    parse_frequency,
    parse_percent,
)

MINUTE = 60_000


def test_the_grammar_reads_every_kind_of_rule() -> None:
    assert parse_condition("price above 120000") == PriceCondition(Comparison.ABOVE, 120_000.0)
    assert parse_condition("Price  crosses below 2,950.5") == PriceCondition(Comparison.CROSSES_BELOW, 2950.5)
    assert parse_condition("move 2% in 5 candles") == MoveCondition(2.0, 5, 0)
    assert parse_condition("move -1.5% in 3 candles") == MoveCondition(1.5, 3, -1)
    assert parse_condition("signal BUY") == SignalCondition("BUY")
    assert parse_condition("signal any mode majority") == SignalCondition("any", "majority")
    assert parse_condition("trigger rsi sell") == TriggerCondition("rsi", "SELL")
    assert parse_condition("rsi < 25") == IndicatorCondition("rsi", Comparison.BELOW, 25.0)
    assert parse_condition("macd.hist crosses above 0") == IndicatorCondition("macd.hist", Comparison.CROSSES_ABOVE, 0.0)
    assert parse_duration("15m") == 900 and parse_duration("4h") == 14_400 and parse_duration("30") == 30
    assert parse_percent("0.1%") == pytest.approx(0.001)
    assert parse_frequency("PER-CANDLE") is Frequency.PER_CANDLE


@pytest.mark.parametrize("text", ["", "price above", "price near 100", "move 2 in 5", "signal maybe", "rsi ~ 3"])
def test_a_rule_that_does_not_read_is_refused_with_the_grammar(text: str) -> None:
    with pytest.raises(RuleError) as error:
        parse_condition(text)
    assert "price above|below|crosses above|crosses below N" in str(error.value)


def _ticks(prices: list[float], *, per_candle: int = 1) -> list[PriceTick]:
    """One tick per price; `per_candle` consecutive prices share a candle, the last one closes it."""
    return [
        PriceTick("BTCUSDT", "1m", price, (i // per_candle) * MINUTE, i * MINUTE // per_candle,
                  closed=(i % per_candle == per_candle - 1))
        for i, price in enumerate(prices)
    ]


def _fires(rule: AlertRule, ticks: list[PriceTick], *, use_cooldown: bool = True) -> list[int]:
    book = AlertBook([rule], use_cooldown=use_cooldown)
    return [alert.at_ms for tick in ticks for alert in book.on_price(tick)]


# the price crosses 100 upwards three times, at ticks 1, 5 and 9
CROSSING_THREE_TIMES = [99, 101, 102, 98, 97, 103, 99, 98, 95, 104, 105]


def test_a_crossing_fires_once_per_cross_and_not_for_a_price_already_past_the_level() -> None:
    rule = AlertRule("r", "BTCUSDT", parse_condition("price crosses above 100"), frequency=Frequency.EVERY)
    assert _fires(rule, _ticks(CROSSING_THREE_TIMES)) == [1 * MINUTE, 5 * MINUTE, 9 * MINUTE]
    assert _fires(rule, _ticks([101, 102, 103])) == []  # armed while already above: no fresh cross


def test_frequency_once_and_a_cooldown_limit_the_fires_and_count_what_they_held_back() -> None:
    once = AlertRule("r", "BTCUSDT", parse_condition("price crosses above 100"), frequency=Frequency.ONCE)
    assert _fires(once, _ticks(CROSSING_THREE_TIMES)) == [1 * MINUTE]
    cooled = AlertRule("r", "BTCUSDT", parse_condition("price crosses above 100"),
                       frequency=Frequency.EVERY, cooldown_s=5 * 60)
    assert _fires(cooled, _ticks(CROSSING_THREE_TIMES)) == [1 * MINUTE, 9 * MINUTE]
    assert _fires(cooled, _ticks(CROSSING_THREE_TIMES), use_cooldown=False) == [1 * MINUTE, 5 * MINUTE, 9 * MINUTE]


def test_a_price_hovering_on_the_level_does_not_flap_until_it_moves_back_beyond_the_band() -> None:
    rule = AlertRule("r", "BTCUSDT", parse_condition("price above 100"), frequency=Frequency.EVERY, rearm=0.01)
    # 100.5 fires; dips to 99.5 (inside the 1% band) and back do not re-arm; 98.9 re-arms; 100.1 fires
    assert _fires(rule, _ticks([99, 100.5, 99.5, 100.4, 99.6, 100.2, 98.9, 100.1])) == [1 * MINUTE, 7 * MINUTE]


def test_per_candle_fires_at_most_once_within_one_candle() -> None:
    rule = AlertRule("r", "BTCUSDT", parse_condition("price crosses above 100"), frequency=Frequency.PER_CANDLE, rearm=0)
    # four updates per candle: two crosses inside candle 0, one in candle 1
    ticks = _ticks([99, 101, 99, 101, 99, 101, 101, 101], per_candle=4)
    book = AlertBook([rule])
    fired = [a.candle_open_time for t in ticks for a in book.on_price(t)]
    assert fired == [0, MINUTE] and book.suppressed("r") == 1


def test_an_expired_rule_is_silent() -> None:
    rule = AlertRule("r", "BTCUSDT", parse_condition("price above 100"), expires_at=3 * MINUTE)
    assert _fires(rule, _ticks([99, 99, 99, 101, 102])) == []


def test_a_move_rule_compares_against_the_close_k_candles_ago() -> None:
    rule = AlertRule("r", "BTCUSDT", parse_condition("move 2% in 3 candles"), frequency=Frequency.EVERY)
    # closes 100, 100, 100, then 102.5: +2.5% against the close 3 candles before
    assert _fires(rule, _ticks([100, 100, 100, 101, 102.5, 102.6])) == [4 * MINUTE]
    down_only = AlertRule("r", "BTCUSDT", parse_condition("move -2% in 1 candles"), frequency=Frequency.EVERY)
    assert _fires(down_only, _ticks([100, 103, 100.5])) == [2 * MINUTE]


def _confirmed(n: int, action: str, triggers: dict[str, str], rsi: float) -> ConfirmedCandle:
    return ConfirmedCandle("BTCUSDT", "1h", n * 3_600_000, 100.0 + n, n * 3_600_000, action, "majority",
                           triggers, {"rsi": {"rsi": rsi}, "macd": {"hist": rsi - 50}})


def test_signal_trigger_and_indicator_rules_judge_confirmed_candles() -> None:
    candles = [
        _confirmed(0, "HOLD", {"rsi": "HOLD"}, 40.0),
        _confirmed(1, "BUY", {"rsi": "BUY"}, 24.0),
        _confirmed(2, "SELL", {"rsi": "SELL", "macd": "SELL"}, 60.0),
        _confirmed(3, "HOLD", {"rsi": "HOLD"}, 20.0),
    ]
    rules = [
        AlertRule("buy", "BTCUSDT", parse_condition("signal BUY")),
        AlertRule("any", "BTCUSDT", parse_condition("signal any mode majority")),
        AlertRule("other-mode", "BTCUSDT", parse_condition("signal any mode all")),
        AlertRule("macd", "BTCUSDT", parse_condition("trigger macd any")),
        AlertRule("oversold", "BTCUSDT", parse_condition("rsi < 25"), frequency=Frequency.EVERY, rearm=0.01),
        AlertRule("hist", "BTCUSDT", parse_condition("macd.hist crosses above 0")),
    ]
    book = AlertBook(rules)
    fired = [(a.rule_id, a.candle_open_time // 3_600_000) for c in candles for a in book.on_confirmed(c)]
    assert sorted(fired) == sorted([
        ("buy", 1), ("any", 1), ("any", 2), ("macd", 2), ("oversold", 1), ("oversold", 3), ("hist", 2),
    ])


def test_rules_for_other_symbols_or_intervals_stay_silent() -> None:
    rule = AlertRule("r", "ETHUSDT", parse_condition("price above 1"), interval="1h")
    assert _fires(rule, _ticks([5, 6])) == []


def test_a_move_rule_smaller_than_the_rearm_band_still_rearms() -> None:
    from cryptoai_tui.alerts.book import AlertBook, PriceTick
    from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition

    rule = AlertRule("m", "BTCUSDT", parse_condition("move 0.05% in 1 candles"), frequency=Frequency.EVERY,
                     rearm=0.001)
    book = AlertBook([rule])
    closes = [100.0, 100.1, 100.1, 100.2, 100.2, 100.3]  # +0.1% moves, each followed by a flat candle
    for i, close in enumerate(closes):
        book.on_price(PriceTick("BTCUSDT", "1m", close, i * 60_000, i * 60_000 + 59_999, closed=True))
    assert book.fired("m") == 3
