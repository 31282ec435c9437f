"""The candlestick grid: body and wick glyphs, newest at the right, signal markers, axes."""

from __future__ import annotations

from cryptoai_tui.market import Candle
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult
from cryptoai_tui.tui.widgets.candle_chart import CANDLE_STEP, Ink, chart_grid

MINUTE = 60_000


def candle(i: int, o: float, h: float, l: float, c: float) -> Candle:
    return Candle(i * MINUTE, o, h, l, c, 1.0, i * MINUTE + MINUTE - 1)


def signal(i: int, action: Action) -> ConfirmedSignal:
    return ConfirmedSignal(i * MINUTE, 0.0, ConfluenceResult(ConfluenceMode.ANY, action, 1.0, (), 1))


def column(grid: list[list[tuple[str, Ink]]], x: int) -> list[tuple[str, Ink]]:
    return [row[x] for row in grid]


def text(grid: list[list[tuple[str, Ink]]]) -> list[str]:
    return ["".join(ch for ch, _ in row) for row in grid]


CANDLES = [candle(0, 10, 12, 8, 11), candle(1, 11, 11.5, 6, 7), candle(2, 7, 14, 7, 13)]


def test_grid_has_the_requested_size() -> None:
    grid = chart_grid(CANDLES, [], 40, 12)
    assert len(grid) == 12 and all(len(row) == 40 for row in grid)


def test_up_candles_are_up_ink_down_candles_down_ink_and_the_newest_is_rightmost() -> None:
    grid = chart_grid(CANDLES, [], 40, 12)
    inks = [{ink for _, ink in row if ink in (Ink.UP, Ink.DOWN)} for row in grid]
    assert any(Ink.UP in found for found in inks) and any(Ink.DOWN in found for found in inks)
    candle_columns = sorted({x for row in grid for x, (_, ink) in enumerate(row) if ink in (Ink.UP, Ink.DOWN)})
    assert len(candle_columns) == 3
    assert candle_columns[1] - candle_columns[0] == CANDLE_STEP
    newest = column(grid, candle_columns[-1])
    assert {ink for _, ink in newest} >= {Ink.UP}


def test_the_tallest_candle_spans_the_price_rows_and_wicks_use_thin_glyphs() -> None:
    grid = chart_grid(CANDLES, [], 40, 12)
    xs = sorted({x for row in grid for x, (_, ink) in enumerate(row) if ink in (Ink.UP, Ink.DOWN)})
    middle = [ch for ch, ink in column(grid, xs[1]) if ink is Ink.DOWN]
    assert "█" in "".join(middle)
    assert set("".join(middle)) & set("│╵╷")  # its long lower wick


def test_buy_is_marked_below_the_candle_and_sell_above() -> None:
    grid = chart_grid(CANDLES, [signal(0, Action.SELL), signal(2, Action.BUY), signal(1, Action.HOLD)], 40, 12)
    marks = [(y, x, ch) for y, row in enumerate(grid) for x, (ch, ink) in enumerate(row) if ink in (Ink.BUY, Ink.SELL)]
    assert sorted(ch for _, _, ch in marks) == ["▲", "▼"]
    for y, x, ch in marks:
        body_rows = [r for r, (_, ink) in enumerate(column(grid, x)) if ink in (Ink.UP, Ink.DOWN)]
        if ch == "▲":
            assert y > max(body_rows)
        else:
            assert y < min(body_rows)


def test_axis_labels_high_low_and_the_last_close() -> None:
    lines = text(chart_grid(CANDLES, [], 40, 12))
    joined = "\n".join(lines)
    assert "┤14.0000" in joined and "┤6.0000" in joined
    assert "◀13.0000" in joined
    assert lines[-1].strip().startswith("00:00") and lines[-1].rstrip().endswith("00:02 UTC")


def test_only_as_many_candles_as_fit_are_drawn_newest_kept() -> None:
    many = [candle(i, 10 + i, 11 + i, 9 + i, 10.5 + i) for i in range(100)]
    grid = chart_grid(many, [], 40, 10)
    drawn = {x for row in grid for x, (_, ink) in enumerate(row) if ink in (Ink.UP, Ink.DOWN)}
    assert 10 <= len(drawn) <= 40 // CANDLE_STEP
    assert "01:39 UTC" in text(grid)[-1]


def test_empty_or_tiny_areas_say_why_there_is_no_chart() -> None:
    assert "waiting for candles" in "".join(text(chart_grid([], [], 40, 10)))
    assert "too small" in "".join(text(chart_grid(CANDLES, [], 30, 4)))


def test_time_axis_writes_dates_for_daily_candles_and_clock_times_otherwise() -> None:
    day = 86_400_000
    daily = [Candle(19_000 * day + i * day, 10, 12, 8, 11, 1.0, 19_000 * day + (i + 1) * day - 1) for i in range(30)]
    assert text(chart_grid(daily, (), 80, 10, "1d"))[-1].split() == ["2022-01-08", "2022-02-06", "UTC"]
    # Three candles leave no room for two dates: the newest one shows, whole.
    assert text(chart_grid(daily[:3], (), 30, 10, "1d"))[-1].split() == ["2022-01-10", "UTC"]
    assert text(chart_grid(CANDLES, (), 60, 10, "1m"))[-1].split() == ["00:00", "00:02", "UTC"]
