"""CandleSeries' compact sliding block: what strategies read stays exact across compactions.

Each test checks the series against a plain list of the candles it should hold, through many
compactions (the block slides every SLACK appends), with and without a forming candle.
"""

from __future__ import annotations

import numpy as np
import pytest

from cryptoai_tui.market import Candle, CandleSeries, Interval
from cryptoai_tui.market.series import SLACK, OHLCV

MINUTE = 60_000


def bar(i: int, close: float | None = None, closed: bool = True) -> Candle:
    c = float(i) + 0.25 if close is None else close
    return Candle(i * MINUTE, c - 0.5, c + 1.0, c - 1.0, c, 10.0 + i, i * MINUTE + MINUTE - 1, closed)


def columns(candles: list[Candle]) -> dict[str, list[float]]:
    return {name: [getattr(c, name) for c in candles]
            for name in ("open_time", "open", "high", "low", "close", "volume")}


def assert_view_is(view: OHLCV, candles: list[Candle]) -> None:
    expected = columns(candles)
    assert len(view) == len(candles)
    for name, values in expected.items():
        np.testing.assert_array_equal(getattr(view, name), values, err_msg=name)
    assert view.open_time.dtype == np.int64
    for array in view:
        assert array.flags.c_contiguous and not array.flags.writeable


@pytest.mark.parametrize("capacity", [1, 2, 7, 64, 65, 1000])
def test_window_stays_the_newest_candles_across_many_compactions(capacity: int) -> None:
    series = CandleSeries(capacity)
    held: list[Candle] = []
    for i in range(3 * (capacity + SLACK) + 5):
        assert series.append(bar(i))
        held = (held + [bar(i)])[-capacity:]
        if i % 13 == 0 or i > 3 * (capacity + SLACK) - 3:
            assert_view_is(series.view(), held)
            assert series.candles() == held
            assert series.last_closed == held[-1]
            assert len(series) == len(held)


@pytest.mark.parametrize("capacity", [3, 50])
def test_forming_candle_is_contiguous_last_at_every_position_of_the_block(capacity: int) -> None:
    """The forming row sits just past the last closed one, including when the closed
    candles reach the block's last closed row (just before a compaction)."""
    series = CandleSeries(capacity)
    held: list[Candle] = []
    for i in range(2 * (capacity + SLACK) + 3):
        for revision in range(3):
            forming = bar(i, close=1000.0 + i + revision / 10, closed=False)
            assert series.set_forming(forming)
            assert series.forming == forming
            assert series.latest == forming
            assert_view_is(series.view(include_forming=True), held + [forming])
            assert_view_is(series.view(), held)  # the forming row is not in the closed view
        assert series.append(bar(i))
        held = (held + [bar(i)])[-capacity:]
        assert series.forming is None
        assert_view_is(series.view(include_forming=True), held)


def root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def test_views_are_zero_copy_windows_of_one_block() -> None:
    series = CandleSeries(100)
    series.extend([bar(i) for i in range(250)])
    series.set_forming(bar(250, closed=False))
    first, again = series.view(include_forming=True), series.view()
    for a, b in zip(first, again):
        assert np.shares_memory(a, b)
    roots = {id(root(array)) for array in first + again}
    assert len(roots) == 1  # every field of every view is a window of one allocation


def test_memory_is_48_bytes_a_candle_plus_a_constant() -> None:
    for capacity in (10, 1000, 5000):
        series = CandleSeries(capacity)
        series.extend([bar(i) for i in range(capacity * 3)])
        arrays = [v for v in vars(series).values() if isinstance(v, np.ndarray) and v.base is None]
        assert sum(a.nbytes for a in arrays) == 48 * (capacity + SLACK + 1)


def test_refused_candles_change_nothing_after_a_compaction() -> None:
    series = CandleSeries(5)
    series.extend([bar(i) for i in range(5 + SLACK + 2)])
    before, version = series.candles(), series.version
    assert not series.append(bar(5 + SLACK + 1, close=99.0))  # duplicate open time
    assert not series.append(bar(3))  # older
    assert not series.set_forming(bar(5 + SLACK, closed=False))  # at or before the last close
    assert series.candles() == before and series.version == version
    assert series.forming is None


def test_close_times_survive_for_fixed_and_calendar_intervals() -> None:
    """Close times are kept once while every candle has the same span, and per row once a
    second span appears (months), across compactions."""
    month = Interval.parse("1M")
    opens = [month.open_of(1_577_836_800_000)]  # 2020-01-01
    for _ in range(200):
        opens.append(month.next_open(opens[-1]))
    candles = [Candle(t, 1.0, 2.0, 0.5, 1.5, 3.0, month.close_time(t), True) for t in opens]
    series = CandleSeries(12)
    for i, candle in enumerate(candles):
        assert series.append(candle)
        assert series.last_closed == candle
        assert series.candles() == candles[max(0, i - 11): i + 1]
    spans = {c.close_time - c.open_time for c in series.candles()}
    assert len(spans) > 1  # really months of different lengths
