"""The equity chart's grid: a pure function of the two curves and the size."""

from __future__ import annotations

from cryptoai_tui.tui.widgets.equity_chart import LABEL_WIDTH, Ink, equity_grid


def glyphs(row: list[tuple[str, Ink]]) -> str:
    return "".join(glyph for glyph, _ in row)


def test_a_rising_equity_over_a_flat_hold_climbs_left_to_right_with_labels() -> None:
    equity = [1.0 + i / 99 for i in range(100)]  # 1.0 -> 2.0: +100%
    hold = [1.0] * 100
    grid = equity_grid(equity, hold, 40, 9)
    assert len(grid) == 9 and all(len(row) == 40 for row in grid)
    assert glyphs(grid[0]).startswith("━ equity +100.0%   ━ buy and hold +0.0%")
    plot = grid[1:]
    assert glyphs(plot[0])[:LABEL_WIDTH].strip() == "+100.0%│"
    assert glyphs(plot[-1])[:LABEL_WIDTH].strip() == "+0.0%│"
    # The equity starts in the bottom row at the left and ends in the top row at the right.
    assert plot[-1][LABEL_WIDTH] == (plot[-1][LABEL_WIDTH][0], Ink.EQUITY)
    assert plot[0][-1][1] is Ink.EQUITY and plot[-1][-1][1] is not Ink.EQUITY
    # Buy-and-hold is the flat bottom line wherever the equity has left it.
    assert {ink for _, ink in plot[-1][LABEL_WIDTH + 5 :]} == {Ink.HOLD}
    assert all(0x2800 <= ord(glyph) <= 0x28FF for glyph, ink in plot[-1][LABEL_WIDTH:])


def test_no_data_and_tiny_sizes_draw_nothing_wrong() -> None:
    assert glyphs(equity_grid([], [], 30, 5)[0]).startswith("no backtest yet")
    assert equity_grid([1.0], [1.0], 5, 2) == [[(" ", Ink.BLANK)] * 5, [(" ", Ink.BLANK)] * 5]
    flat = equity_grid([1.0, 1.0], [1.0, 1.0], 30, 4)  # no range: a mid line, no division by 0
    assert any(ink is Ink.EQUITY for row in flat[1:] for _, ink in row)
