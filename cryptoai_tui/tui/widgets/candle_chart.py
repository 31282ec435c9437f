"""A candlestick chart drawn with block and box characters, confirmed signals marked.

Drawn with the Line API: the grid is computed once per new data or size (a pure function,
unit-tested) and each screen line is served from a cache, so a frame with no new candle
costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from cryptoai_tui.market.candle import Candle
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.signal import Action
from cryptoai_tui.tui.formatting import format_candle_time, format_price, price_decimals


class Ink(Enum):
    """What a cell shows; the widget maps each to a component style from app.tcss."""

    BLANK = "blank"
    UP = "up"
    DOWN = "down"
    BUY = "buy"
    SELL = "sell"
    AXIS = "axis"
    LAST = "last"


Cell = tuple[str, Ink]

_HALVES: dict[tuple[str, str], str] = {
    # (top half, bottom half) -> glyph; "b" body, "w" wick, "" nothing
    ("b", "b"): "█",
    ("b", "w"): "▀",
    ("b", ""): "▀",
    ("w", "b"): "▄",
    ("", "b"): "▄",
    ("w", "w"): "│",
    ("w", ""): "╵",
    ("", "w"): "╷",
    ("", ""): " ",
}
CANDLE_STEP = 2  # columns per candle: the candle and a gap


@dataclass(frozen=True, slots=True)
class ChartLayout:
    plot_width: int
    price_rows: int  # rows that carry prices; one margin row above and below for markers
    low: float
    high: float


def chart_grid(
    candles: Sequence[Candle], signals: Sequence[ConfirmedSignal], width: int, height: int,
    interval: str | None = None,
) -> list[list[Cell]]:
    """The chart as `height` rows of `width` cells. Newest candle at the right edge.

    `interval` says how to write the time axis: clock times, or dates for daily and longer.
    """
    grid: list[list[Cell]] = [[(" ", Ink.BLANK)] * width for _ in range(height)]
    if not candles or width < 16 or height < 5:
        message = "waiting for candles" if not candles else "too small for the chart"
        if height and width >= len(message):
            row = height // 2
            grid[row] = [(ch, Ink.AXIS) for ch in message.center(width)]
        return grid
    decimals = price_decimals(candles[-1].close)
    label_width = max(len(format_price(c.high, decimals)) for c in candles) + 2
    plot_width = width - label_width
    count = min(len(candles), max(1, plot_width // CANDLE_STEP))
    shown = candles[-count:]
    price_rows = height - 3  # top marker row, bottom marker row, time row
    low = min(c.low for c in shown)
    high = max(c.high for c in shown)
    if high <= low:
        high, low = high + abs(high) * 0.001 + 1e-9, low - abs(low) * 0.001 - 1e-9
    halves = 2 * price_rows - 1

    def half_of(price: float) -> int:
        return round((high - price) / (high - low) * halves)

    marks = {signal.open_time: signal.confluence.action for signal in signals}
    offset = plot_width - count * CANDLE_STEP
    for index, candle in enumerate(shown):
        x = offset + index * CANDLE_STEP
        ink = Ink.UP if candle.close >= candle.open else Ink.DOWN
        wick = (half_of(candle.high), half_of(candle.low))
        body = sorted((half_of(candle.open), half_of(candle.close)))
        for row in range(price_rows):
            kinds = []
            for half in (2 * row, 2 * row + 1):
                if body[0] <= half <= body[1]:
                    kinds.append("b")
                elif wick[0] <= half <= wick[1]:
                    kinds.append("w")
                else:
                    kinds.append("")
            glyph = _HALVES[(kinds[0], kinds[1])]
            if glyph != " ":
                grid[row + 1][x] = (glyph, ink)
        action = marks.get(candle.open_time)
        if action is Action.BUY:
            grid[wick[1] // 2 + 2][x] = ("▲", Ink.BUY)
        elif action is Action.SELL:
            grid[wick[0] // 2][x] = ("▼", Ink.SELL)

    # Price axis: high, middle and low labels, and the last close highlighted on its row.
    axis_x = plot_width
    for row in range(1, price_rows + 1):
        grid[row][axis_x] = ("│", Ink.AXIS)
    labels = {1: high, price_rows: low, (price_rows + 1) // 2 + 1: (high + low) / 2}
    last_row = half_of(shown[-1].close) // 2 + 1
    labels = {row: price for row, price in labels.items() if abs(row - last_row) > 0}
    for row, price in labels.items():
        _write(grid, row, axis_x, "┤" + format_price(price, decimals), Ink.AXIS)
    _write(grid, last_row, axis_x, "◀" + format_price(shown[-1].close, decimals), Ink.LAST)

    # Time axis: first and last open time (UTC).
    time_row = height - 1
    # The newest candle's label always shows; the oldest one only where both fit (a few
    # candles with dates under them leave no room for two).
    first_label = format_candle_time(shown[0].open_time, interval)
    last_label = format_candle_time(shown[-1].open_time, interval) + " UTC"
    last_x = max(offset + len(first_label) + 1, plot_width - len(last_label))
    if last_x + len(last_label) <= width:  # the row under the price axis is free to use
        _write(grid, time_row, offset, first_label, Ink.AXIS)
    else:
        last_x = max(0, width - len(last_label))
    _write(grid, time_row, last_x, last_label, Ink.AXIS)
    return grid


def _write(grid: list[list[Cell]], row: int, x: int, text: str, ink: Ink) -> None:
    line = grid[row]
    for offset, character in enumerate(text):
        if 0 <= x + offset < len(line):
            line[x + offset] = (character, ink)


class CandleChart(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "candle-chart--up",
        "candle-chart--down",
        "candle-chart--buy",
        "candle-chart--sell",
        "candle-chart--axis",
        "candle-chart--last",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._candles: tuple[Candle, ...] = ()
        self._signals: tuple[ConfirmedSignal, ...] = ()
        self._interval: str | None = None
        self._strips: list[Strip] = []
        self._strips_size: Size | None = None

    def show(
        self, candles: tuple[Candle, ...], signals: tuple[ConfirmedSignal, ...], interval: str | None = None,
    ) -> None:
        if candles == self._candles and signals == self._signals and interval == self._interval:
            return
        self._candles = candles
        self._signals = signals
        self._interval = interval
        self._strips_size = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_size = None

    def _build_strips(self) -> None:
        size = self.size
        grid = chart_grid(self._candles, self._signals, size.width, size.height, self._interval)
        base = self.rich_style
        styles = {ink: base + self.get_component_rich_style(f"candle-chart--{ink.value}", partial=True)
                  for ink in Ink if ink is not Ink.BLANK}
        styles[Ink.BLANK] = base
        strips: list[Strip] = []
        for row in grid:
            segments: list[Segment] = []
            run_text: list[str] = []
            run_ink: Ink | None = None
            for character, ink in row:
                if ink is not run_ink and run_text:
                    assert run_ink is not None
                    segments.append(Segment("".join(run_text), styles[run_ink]))
                    run_text = []
                run_ink = ink
                run_text.append(character)
            if run_text and run_ink is not None:
                segments.append(Segment("".join(run_text), styles[run_ink]))
            strips.append(Strip(segments, size.width))
        self._strips = strips
        self._strips_size = size

    def render_line(self, y: int) -> Strip:
        if self._strips_size != self.size:
            self._build_strips()
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)
