"""A backtest's equity curve with buy-and-hold beside it, drawn in braille in the terminal.

Each cell holds a 2x4 grid of braille dots, so a 60x12 chart has 120 points across and 48
levels up: enough to see drawdowns and where the strategy beat holding. Both curves start
at 1.0 (the span's first close) and share one scale, labelled as a return on the left. The
grid is a pure function of the two series and the size (`equity_grid`, unit-tested); the
widget serves its lines from a cache rebuilt only on new data or a new size (Line API).
"""

from __future__ import annotations

from enum import Enum
from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

# Braille dot bits by (sub-column, sub-row), Unicode's numbering.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
LABEL_WIDTH = 8  # "+123.4% " on the left of the plot


class Ink(Enum):
    BLANK = "blank"
    EQUITY = "equity"
    HOLD = "hold"
    AXIS = "axis"


Cell = tuple[str, Ink]


def _percent(value: float) -> str:
    return f"{(value - 1.0) * 100:+.1f}%"


def _columns(series: Sequence[float], count: int) -> list[float]:
    """The series sampled at `count` evenly spaced points (first and last kept)."""
    n = len(series)
    if count <= 1 or n == 1:
        return [float(series[-1])] * max(count, 1)
    return [float(series[round(i * (n - 1) / (count - 1))]) for i in range(count)]


def _plot(values: list[float], low: float, high: float, dots_high: int, width: int) -> list[list[int]]:
    """Bits per cell (rows x width) for one curve, consecutive points joined vertically."""
    rows = dots_high // 4
    bits = [[0] * width for _ in range(rows)]
    span = high - low
    previous: int | None = None
    for x, value in enumerate(values):
        level = 0.5 if span <= 0 else (value - low) / span
        y = (dots_high - 1) - int(round(level * (dots_high - 1)))
        top, bottom = (y, y) if previous is None else (min(previous, y), max(previous, y))
        for dot_y in range(top, bottom + 1):
            bits[dot_y // 4][x // 2] |= _DOTS[x % 2][dot_y % 4]
        previous = y
    return bits


def equity_grid(equity: Sequence[float], hold: Sequence[float], width: int, height: int) -> list[list[Cell]]:
    """Rows of (glyph, ink) for a `width` x `height` chart: a legend row, the plot with
    return labels at its top, middle and bottom, the equity curve drawn over buy-and-hold."""
    if width <= LABEL_WIDTH + 2 or height < 3:
        return [[(" ", Ink.BLANK)] * max(width, 0) for _ in range(max(height, 0))]
    rows: list[list[Cell]] = []
    if not equity:
        rows.append(_text_row("no backtest yet", width, Ink.AXIS))
        rows.extend([(" ", Ink.BLANK)] * width for _ in range(height - 1))
        return rows
    legend: list[Cell] = []
    for text, ink in (("━ equity ", Ink.EQUITY), (_percent(equity[-1]), Ink.EQUITY),
                      ("   ━ buy and hold ", Ink.HOLD), (_percent(hold[-1]) if hold else "", Ink.HOLD)):
        legend.extend((ch, ink) for ch in text)
    rows.append((legend + [(" ", Ink.BLANK)] * width)[:width])
    plot_rows = height - 1
    plot_width = width - LABEL_WIDTH
    points = plot_width * 2
    both = list(equity) + list(hold)
    low, high = min(both), max(both)
    if high - low < 1e-12:
        low, high = low - 0.01, high + 0.01
    dots_high = plot_rows * 4
    eq_bits = _plot(_columns(equity, points), low, high, dots_high, plot_width)
    hold_bits = _plot(_columns(hold, points), low, high, dots_high, plot_width) if hold else None
    labels = {0: _percent(high), plot_rows - 1: _percent(low), (plot_rows - 1) // 2: _percent((high + low) / 2)}
    for r in range(plot_rows):
        label = labels.get(r, "")
        row: list[Cell] = [(ch, Ink.AXIS) for ch in label.rjust(LABEL_WIDTH - 1)] + [("│", Ink.AXIS)]
        for c in range(plot_width):
            mine = eq_bits[r][c]
            theirs = hold_bits[r][c] if hold_bits else 0
            if mine:
                row.append((chr(0x2800 + (mine | theirs)), Ink.EQUITY))
            elif theirs:
                row.append((chr(0x2800 + theirs), Ink.HOLD))
            else:
                row.append((" ", Ink.BLANK))
        rows.append(row)
    return rows


def _text_row(text: str, width: int, ink: Ink) -> list[Cell]:
    return ([(ch, ink) for ch in text] + [(" ", Ink.BLANK)] * width)[:width]


class EquityChart(Widget):
    """Equity and buy-and-hold (both 1.0 at the span's start); `show` replaces the data."""

    COMPONENT_CLASSES = {"equity-chart--equity", "equity-chart--hold", "equity-chart--axis"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._equity: tuple[float, ...] = ()
        self._hold: tuple[float, ...] = ()
        self._strips: list[Strip] = []
        self._built_for: Size | None = None

    def show(self, equity: Sequence[float], hold: Sequence[float]) -> None:
        self._equity = tuple(float(x) for x in equity)
        self._hold = tuple(float(x) for x in hold)
        self._built_for = None
        self.refresh()

    def _build(self, size: Size) -> None:
        styles: dict[Ink, Style] = {
            Ink.BLANK: self.rich_style,
            Ink.EQUITY: self.get_component_rich_style("equity-chart--equity"),
            Ink.HOLD: self.get_component_rich_style("equity-chart--hold"),
            Ink.AXIS: self.get_component_rich_style("equity-chart--axis"),
        }
        strips: list[Strip] = []
        for row in equity_grid(self._equity, self._hold, size.width, size.height):
            segments: list[Segment] = []
            run: list[str] = []
            run_ink: Ink | None = None
            for glyph, ink in row:
                if ink is not run_ink and run:
                    segments.append(Segment("".join(run), styles[run_ink]))  # type: ignore[index]
                    run = []
                run_ink = ink
                run.append(glyph)
            if run:
                segments.append(Segment("".join(run), styles[run_ink]))  # type: ignore[index]
            strips.append(Strip(segments, size.width))
        self._strips = strips
        self._built_for = size

    def render_line(self, y: int) -> Strip:
        size = self.size
        if self._built_for != size:
            self._build(size)
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(size.width, self.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._built_for = None
