"""How figures read on screen."""

from __future__ import annotations

from cryptoai_tui.tui.formatting import (
    confidence_bar,
    format_candle_time,
    format_change,
    format_clock,
    format_count,
    format_duration,
    format_latency,
    format_price,
    format_values,
    price_decimals,
)


def test_prices_keep_about_six_significant_digits() -> None:
    assert format_price(65432.123) == "65,432.12"
    assert format_price(150.25) == "150.250"
    assert format_price(0.000018) == "0.00001800"
    assert price_decimals(0.55) == 6
    assert format_price(None) == "—"


def test_change_has_arrow_sign_percent_and_direction() -> None:
    assert format_change(101.0, 100.0, 2) == ("▲ +1.00 (+1.00%)", 1)
    assert format_change(99.0, 100.0, 2) == ("▼ -1.00 (-1.00%)", -1)
    assert format_change(100.0, 100.0, 2) == ("■ +0.00 (+0.00%)", 0)
    assert format_change(None, 100.0) == ("—", 0)


def test_durations_are_compact_countdowns() -> None:
    assert format_duration(42.9) == "42s"
    assert format_duration(185) == "3m 05s"
    assert format_duration(7_800) == "2h 10m"
    assert format_duration(3 * 86_400 + 4 * 3_600) == "3d 4h"
    assert format_duration(-5) == "0s"
    assert format_duration(None) == "—"


def test_latency_switches_units() -> None:
    assert format_latency(180.4) == "180µs"
    assert format_latency(2_500) == "2.5ms"
    assert format_latency(3_200_000) == "3.2s"
    assert format_latency(None) == "—"


def test_counts_shorten_when_large() -> None:
    assert [format_count(n) for n in (999, 12_345, 4_560_000)] == ["999", "12.3k", "4.56M"]


def test_clock_is_utc() -> None:
    assert format_clock(1_700_000_000_000) == "22:13:20"
    assert format_clock(1_700_000_000_000, seconds=False) == "22:13"


def test_confidence_bar_fills_in_eighths_and_keeps_its_width() -> None:
    assert confidence_bar(1.0, 4) == "████"
    assert confidence_bar(0.0, 4) == "    "
    assert confidence_bar(0.5, 3) == "█▌ "
    assert all(len(confidence_bar(x / 10, 7)) == 7 for x in range(11))


def test_values_show_the_first_few_with_sensible_decimals() -> None:
    assert format_values({"rsi": 28.437, "ema": 65432.1, "x": 0.12345, "y": 1.0}) == (
        "rsi 28.44  ema 65,432  x 0.1235"
    )


def test_candle_times_are_clock_times_intraday_and_dates_for_days_weeks_and_months() -> None:
    monday = 1_710_720_000_000  # 2024-03-18 00:00 UTC, a Monday
    assert format_candle_time(monday + 5 * 60_000, "5m") == "00:05"
    assert format_candle_time(monday + 4 * 3_600_000, "4h") == "04:00"
    assert format_candle_time(monday, "1d") == "2024-03-18"
    assert format_candle_time(monday, "3d") == "2024-03-18"
    assert format_candle_time(monday, "1w") == "2024-03-18"
    assert format_candle_time(1_709_251_200_000, "1M") == "2024-03"  # 2024-03-01
    assert format_candle_time(None, "1d") == "—"
    assert format_candle_time(monday, "1w", short=True) == "03-18"  # the table's narrow column
    assert format_candle_time(monday + 60_000, "1m", short=True) == "00:01"
