from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cryptoai_tui.market import Candle, CandleSeries, Interval, InvalidIntervalError, MarketKind, parse_symbol
from cryptoai_tui.market.candle_csv import CandleFileError, read_candle_csv, write_candle_csv
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


def test_interval_of_ms_names_a_spacing_in_its_shortest_spelling() -> None:
    assert [Interval.of_ms(ms).name for ms in (1_000, 90_000, 3_600_000, 14_400_000, 86_400_000, 604_800_000)] == [
        "1s", "90s", "1h", "4h", "1d", "1w"]
    assert Interval.of_ms(300_000) == Interval.parse("5m")
    for bad in (0, -60_000, 1_500):
        with pytest.raises(ValueError, match="whole number of seconds"):
            Interval.of_ms(bad)


# --- the candle CSV reader: one grammar, one error type -------------------------------

CSV_HEADER_LINE = "open_time_ms,open,high,low,close,volume\n"


def _csv(tmp_path: Path, text: str, name: str = "candles.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_candle_csv_closes_candles_by_the_interval_or_by_the_files_own_spacing(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)

    months = _csv(tmp_path, f"{ms(2024, 1, 1)},1,2,0.5,1.5,3\n\n{ms(2024, 2, 1)},1.5,2,1,1.25,1\n")
    read = read_candle_csv(months, Interval.parse("1M"))
    assert [c.close_time for c in read.candles] == [ms(2024, 2, 1) - 1, ms(2024, 3, 1) - 1]
    assert read.lines == (1, 3) and read.cells[1] == (str(ms(2024, 2, 1)), "1.5", "2", "1", "1.25", "1")
    assert read.candles[1] == Candle(ms(2024, 2, 1), 1.5, 2.0, 1.0, 1.25, 1.0, ms(2024, 3, 1) - 1, True)
    spaced = read_candle_csv(_csv(tmp_path, CSV_HEADER_LINE + "0,1,2,0.5,1.5,3\n300000,1,2,0.5,1,1\n900000,1,2,0.5,1,1\n"))
    assert spaced.spacing_ms == 300_000 and [c.close_time for c in spaced.candles] == [299_999, 599_999, 1_199_999]


def test_written_candles_read_back_as_the_same_floats(tmp_path: Path) -> None:
    candles = [Candle(i * 60_000, 0.1 + i / 3, 1.0 + i, 0.05, 0.7 + i / 7, 1e-8 * (i + 1), i * 60_000 + 59_999)
               for i in range(5)]
    path = tmp_path / "round.csv"
    assert write_candle_csv(path, candles) == 5
    assert list(read_candle_csv(path, Interval.parse("1m"), require_header=True).candles) == candles


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "bad.csv has no candles; expected rows of open_time_ms,open"),
        (CSV_HEADER_LINE, None, "bad.csv has no candles"),
        ("0,1,2,0.5,1.5,3\n60000,1,2,0.5,1.5\n", 2, "bad.csv line 2 has 5 fields; each row needs open_time_ms"),
        ("0,1,2,0.5,1.5,3\n60000,1,2,0.5,x,3\n", 2, r"bad.csv line 2 is not numeric \(60000,1,2,0.5,x,3\)"),
        ("0,1,2,0.5,1.5,3\n60000,1,2,0.5,inf,3\n", 2, "bad.csv line 2 contains NaN or infinity"),
        ("0,1,2,0.5,nan,3\n", 1, "bad.csv line 1 contains NaN or infinity; remove or repair that row"),
        ("0,1,2,0.5,1.5,3\n60000,1,0.9,0.5,1,1\n", 2, "bad.csv line 2 is not a valid candle"),
        ("0,1,2,0,1.5,3\n", 1, "line 1 is not a valid candle"),
        ("0,1,2,0.5,1.5,-3\n", 1, "line 1 is not a valid candle"),
        ("60000,1,2,0.5,1.5,3\n60000,1,2,0.5,1.5,3\n", 2, "line 2 is not in time order .*remove repeated rows"),
        ("60000,1,2,0.5,1.5,3\n0,1,2,0.5,1.5,3\n", 2, r"line 2 is not in time order \(open time 0 follows 60000\); sort"),
    ],
)
def test_a_broken_candle_file_is_refused_naming_the_file_and_line(tmp_path: Path, text: str, line: int | None,
                                                                   message: str) -> None:
    path = _csv(tmp_path, text, "bad.csv")
    with pytest.raises(CandleFileError, match=message) as caught:
        read_candle_csv(path, Interval.parse("1m"))
    assert caught.value.path == path and caught.value.line == line


def test_a_required_header_a_missing_file_and_a_file_too_short_to_tell_its_interval(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="must start with the header open_time_ms,open,high,low,close,volume; "
                                              "found time,o,h,l,c,v"):
        read_candle_csv(_csv(tmp_path, "time,o,h,l,c,v\n0,1,2,0.5,1.5,3\n"), require_header=True)
    with pytest.raises(CandleFileError, match="must start with the header"):
        read_candle_csv(_csv(tmp_path, "0,1,2,0.5,1.5,3\n60000,1,2,0.5,1.5,3\n"), require_header=True)
    with pytest.raises(CandleFileError, match="does not exist; check the path"):
        read_candle_csv(tmp_path / "nope.csv")
    with pytest.raises(CandleFileError, match="needs at least 2 candles to tell its interval; it has 1"):
        read_candle_csv(_csv(tmp_path, "0,1,2,0.5,1.5,3\n"))
    # An optional header is skipped, a required one read, and both give the same candles.
    body = "0,1,2,0.5,1.5,3\n60000,1,2,0.5,1.5,3\n"
    optional = read_candle_csv(_csv(tmp_path, body, "a.csv"))
    required = read_candle_csv(_csv(tmp_path, CSV_HEADER_LINE + body, "b.csv"), require_header=True)
    assert optional.candles == required.candles and required.lines == (2, 3)
