"""The Journal screen over a 100k-row journal: it opens, pages by keyset and never loads the
table (Pilot, the real app factory, a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoai_tui.journal.store import Grade, JournalStore
from cryptoai_tui.tui.screens.journal import PAGE_SIZE, JournalScreen, SignalDetails, parse_filter
from cryptoai_tui.tui.session import AppConfig
from textual.widgets import DataTable
from tests.journal_entries import T0, entry
from tests.snapshots.apps import build_app

ROWS = 100_000


def _keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite"
    with JournalStore(path) as store:
        for start in range(0, ROWS, 20_000):
            store.add([entry(n, symbol="ETHUSDT" if n % 4 == 0 else "BTCUSDT",
                             action="SELL" if n % 2 else "BUY") for n in range(start, start + 20_000)],
                      now_ms=T0)
        store.grade([Grade("binance", "BTCUSDT", "1h", T0 + (ROWS - 1) * 3_600_000, 1, 0.0125)])
    return path


async def test_the_journal_screen_opens_on_100k_rows_and_pages_both_ways(big_journal: Path) -> None:
    app = build_app(AppConfig(), journal_path=big_journal)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JournalScreen)
        table = screen.query_one(DataTable)
        assert screen.rows_loaded == table.row_count == PAGE_SIZE  # one page, never the table
        first_page = [str(key.value) for key in table.rows]
        assert first_page[0] == str(ROWS) and first_page[-1] == str(ROWS - PAGE_SIZE + 1)
        for _ in range(3):
            await pilot.press("n")
        await pilot.pause()
        assert screen.page_number == 4
        page_four = [int(str(key.value)) for key in table.rows]
        assert page_four == list(range(ROWS - 3 * PAGE_SIZE, ROWS - 4 * PAGE_SIZE, -1))
        await pilot.press("p", "p", "p", "p")  # one more than there are newer pages: stays on page 1
        await pilot.pause()
        assert [str(key.value) for key in table.rows] == first_page

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SignalDetails)
        text = str(app.screen.query_one("#signal-details-text").render())
        assert "+1 candles +1.25%" in text and "rsi" in text and "ema_cross" in text
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("slash")
        await pilot.press(*_keys("eth sell"))
        await pilot.press("enter")
        await pilot.pause()
        assert screen.rows_loaded == 0  # n % 4 == 0 is even: ETHUSDT rows are all BUY
        await pilot.press("slash")
        await pilot.press(*["backspace"] * 8, *_keys("eth buy"), "enter")
        await pilot.pause()
        rows = [int(str(key.value)) for key in table.rows]
        assert len(rows) == PAGE_SIZE and all((n - 1) % 4 == 0 for n in rows)
        status = str(screen.query_one("#journal-status").render())
        assert f"{ROWS // 4:,} signals matching ETH BUY" in status


def test_the_filter_line_reads_symbol_mode_and_action_in_any_order() -> None:
    where = parse_filter("buy eth/usdt MAJORITY").where
    assert (where.symbol_prefix, where.mode, where.action) == ("ETHUSDT", "majority", "BUY")
    assert parse_filter("btc eth").error.startswith("'eth' is not a filter word")
