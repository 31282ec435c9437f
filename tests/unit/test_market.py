from __future__ import annotations

import numpy as np
import pytest

from cryptoai_tui.market import Candle, CandleSeries, Interval, InvalidIntervalError, MarketKind, parse_symbol
from cryptoai_tui.market.symbol import close_matches


def candle(i: int, close: float | None = None, closed: bool = True) -> Candle:
    value = float(i) if close is None else close
    return Candle(i * 60_000, value, value + 1, value - 1, value, 1.0, i * 60_000 + 59_999, closed)


def test_series_keeps_newest_capacity_candles_contiguous() -> None:
    series = CandleSeries(capacity=5)
    for i in range(23):
        assert series.append(candle(i))
    view = series.view()
    assert len(series) == 5
    np.testing.assert_array_equal(view.close, [18, 19, 20, 21, 22])
    np.testing.assert_array_equal(view.open_time, [i * 60_000 for i in range(18, 23)])
    assert view.close.flags.c_contiguous


def test_series_refuses_duplicate_and_older_closed_candles() -> None:
    series = CandleSeries(capacity=10)
    assert series.append(candle(3))
    assert not series.append(candle(3, close=99))
    assert not series.append(candle(2))
    assert series.view().close.tolist() == [3.0]


def test_forming_candle_is_last_in_view_and_cleared_by_its_close() -> None:
    series = CandleSeries(capacity=4)
    for i in range(6):
        series.append(candle(i))
    series.apply(candle(6, close=50, closed=False))
    assert series.view(include_forming=True).close.tolist() == [2, 3, 4, 5, 50]
    assert series.view().close.tolist() == [2, 3, 4, 5]
    series.apply(candle(6, close=51))
    assert series.forming is None
    assert series.view(include_forming=True).close.tolist() == [3, 4, 5, 51]


def test_views_are_read_only() -> None:
    series = CandleSeries(capacity=3)
    series.append(candle(1))
    with pytest.raises(ValueError):
        series.view().close[0] = 5.0


def test_to_frame_marks_forming_row() -> None:
    series = CandleSeries(capacity=3)
    series.append(candle(1))
    series.apply(candle(2, closed=False))
    frame = series.to_frame(include_forming=True)
    assert frame["close"].tolist() == [1.0, 2.0]
    assert frame["closed"].tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("ETHUSDT", "ETHUSDT", None),
        ("ethusdt", "ETHUSDT", None),
        ("ETH/USDT", "ETHUSDT", None),
        ("ETH-USDT", "ETHUSDT", None),
        ("ETH/USDT:USDT", "ETHUSDT", MarketKind.LINEAR),
    ],
)
def test_symbol_spellings(text: str, name: str, kind: MarketKind | None) -> None:
    ref = parse_symbol(text)
    assert ref.name == name
    assert ref.base == "ETH" and ref.quote == "USDT"
    assert ref.kind is kind


def test_unreadable_symbol_says_what_to_type() -> None:
    with pytest.raises(ValueError, match="ETH/USDT"):
        parse_symbol("ETH USDT!")


def test_close_matches_suggests_same_base() -> None:
    assert close_matches("ETHUSD", ["BTCUSDT", "ETHUSDT", "ETHBTC", "SOLUSDT"])[:1] == ["ETHUSDT"]


def test_interval_parse_and_errors() -> None:
    assert Interval.parse("5m").ms == 300_000
    assert Interval.parse("1h").ms == 3_600_000
    assert Interval.parse("1M").name == "1M"
    with pytest.raises(InvalidIntervalError, match="Valid intervals"):
        Interval.parse("7x")
    assert Interval.parse("1m").open_time_of(125_000) == 120_000


def test_interval_calendar_arithmetic_weeks_open_on_monday_and_months_on_the_first() -> None:
    from datetime import datetime, timezone

    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=timezone.utc).timestamp()) * 1000

    week = Interval.parse("1w")
    # 2024-01-03 is a Wednesday; its week opened on Monday 2024-01-01.
    assert week.open_of(ms(2024, 1, 3, 15)) == ms(2024, 1, 1)
    assert week.open_of(ms(2024, 1, 7, 23, 59)) == ms(2024, 1, 1)
    assert week.open_of(ms(2024, 1, 8)) == ms(2024, 1, 8)
    assert week.next_open(ms(2024, 1, 1)) == ms(2024, 1, 8)
    assert week.close_time(ms(2024, 1, 1)) == ms(2024, 1, 8) - 1
    assert not week.is_aligned(ms(2024, 1, 7))  # a Sunday is not a week's open

    month = Interval.parse("1M")
    assert month.open_of(ms(2024, 2, 29, 12)) == ms(2024, 2, 1)
    assert month.next_open(ms(2024, 2, 1)) == ms(2024, 3, 1)
    assert month.next_open(ms(2024, 12, 1)) == ms(2025, 1, 1)
    assert month.previous_open(ms(2024, 1, 1)) == ms(2023, 12, 1)
    assert month.close_time(ms(2024, 2, 1)) == ms(2024, 3, 1) - 1

    hour = Interval.parse("1h")
    assert hour.open_of(ms(2024, 5, 5, 7, 42)) == ms(2024, 5, 5, 7)
    assert hour.next_open(ms(2024, 5, 5, 7)) == ms(2024, 5, 5, 8)
    assert hour.previous_open(ms(2024, 5, 5, 7)) == ms(2024, 5, 5, 6)
    assert hour.close_time(ms(2024, 5, 5, 7)) == ms(2024, 5, 5, 8) - 1
    assert hour.is_aligned(ms(2024, 5, 5, 7)) and not hour.is_aligned(ms(2024, 5, 5, 7) + 1)
