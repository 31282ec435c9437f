"""The watchlist table's cells, widths and sort order are pure functions of a row: checked
here without an app, with the frozen values a screen would show."""

from __future__ import annotations

import pytest

from cryptoai_tui.engine.watchlist import WatchRow
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.strategies.signal import Action, ConfluenceMode
from cryptoai_tui.tui.session import LabChoices, WatchChoice
from cryptoai_tui.tui.widgets.watch_table import (
    COLUMNS,
    NARROW_DROPS,
    column_layout,
    compact_age,
    feed_health,
    row_cells,
    sort_value,
)

NOW = 1_000.0
LIVE = WatchRow("BTCUSDT", ConnectionState.LIVE, 65_000.5, 0.25, -1.5, 1.5e9, Action.BUY, 0.72, 3, 1, 4,
                Action.SELL, 1_000_000, 1_180_000, NOW - 3.0)


def test_cells_say_what_a_trader_reads() -> None:
    cells = row_cells(LIVE, NOW)
    assert cells["price"] == ("65,000.50", "")
    assert cells["candle"] == ("+0.25%", "up") and cells["day"] == ("-1.50%", "down")
    assert cells["turnover"] == ("1.5B", "")
    assert cells["verdict"] == ("BUY", "buy") and cells["confidence"] == ("72%", "")
    assert cells["votes"] == (" 3▲  1▼", "")
    assert cells["signal"] == ("SELL 3m", "sell")  # closed 180 s of exchange time ago
    assert cells["feed"] == ("3s", "muted")


def test_feed_health_marks_repairs_and_states() -> None:
    assert feed_health(WatchRow("X", ConnectionState.LIVE, updated_at=NOW - 75), NOW) == "1m"
    assert feed_health(WatchRow("X", ConnectionState.LIVE, updated_at=NOW - 2, repairing=True), NOW) == "⟳2s"
    assert feed_health(WatchRow("X", ConnectionState.BOOTSTRAPPING), NOW) == "load…"
    assert feed_health(WatchRow("X", ConnectionState.RECONNECTING, updated_at=NOW), NOW) == "retry"
    assert row_cells(WatchRow("X", ConnectionState.STALLED), NOW)["feed"][1] == "warn"
    empty = row_cells(WatchRow("X"), NOW)
    assert empty["price"][0] == "—" and empty["verdict"] == ("—", "muted") and empty["signal"][0] == "—"


def test_every_cell_fits_its_column() -> None:
    for row in (LIVE, WatchRow("PEPEUSDT", ConnectionState.LIVE, 0.000009123, 12.5, -99.99, 9.99e11)):
        cells = row_cells(row, NOW)
        for column in COLUMNS:
            assert len(cells[column.key][0]) <= column.width, column.key


def test_narrow_tables_drop_volume_and_confidence_only() -> None:
    assert column_layout(120) == COLUMNS
    narrow = column_layout(80)
    assert {c.key for c in COLUMNS} - {c.key for c in narrow} == NARROW_DROPS
    assert sum(c.width + 1 for c in narrow) + 1 <= 80


def test_sort_values_put_missing_last_and_rank_verdicts() -> None:
    sell = WatchRow("ETHUSDT", ConnectionState.LIVE, 3000.0, verdict=Action.SELL, confidence=0.9)
    unknown = WatchRow("SOLUSDT")
    assert sort_value(LIVE, "price", NOW) == (0, 65_000.5)
    assert sort_value(unknown, "price", NOW)[0] == 1
    assert sort_value(LIVE, "verdict", NOW) < sort_value(sell, "verdict", NOW)
    assert sort_value(LIVE, "signal", NOW) == (0, 180_000)
    with pytest.raises(KeyError):
        sort_value(LIVE, "colour", NOW)


def test_compact_age_uses_one_unit() -> None:
    assert [compact_age(s) for s in (0, 59, 61, 3_700, 200_000, None)] == ["0s", "59s", "1m", "1h", "2d", "—"]


def test_a_watch_choice_comes_from_the_lab_and_opens_live_sessions() -> None:
    with pytest.raises(ValueError, match="at least one strategy and a timeframe"):
        WatchChoice.from_lab(LabChoices(exchange="sim"))
    choice = WatchChoice.from_lab(LabChoices(exchange="sim", symbol="ETHUSDT", interval="5m",
                                             strategies=("rsi",), mode=ConfluenceMode.ALL), top=5)
    assert choice.symbols == ("ETHUSDT",) and choice.top == 5
    session = choice.live_session("SOLUSDT")
    assert (session.symbol, session.interval, session.mode, session.strategy_names) == (
        "SOLUSDT", "5m", ConfluenceMode.ALL, ("rsi",))
    assert WatchChoice.from_lab(LabChoices(interval="1m", strategies=("rsi",))).symbols == ()
