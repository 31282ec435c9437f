"""The Backtest screen (Lab step 7) from a replay of the real BTC candles, at 120x40 and
80x24: summary, equity curve against buy-and-hold, trades newest last; Esc back to the Lab.

The replay file is typed into the screen as a user would (its name only: the test runs in
the candles' directory, so no machine's path shows on screen).
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.screens.backtest import BacktestScreen
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.session import AppConfig
from cryptoai_tui.tui.widgets.equity_chart import EquityChart
from tests.conftest import CANDLES_DIR
from tests.snapshots.apps import SIZE, build_app


def lab_config() -> AppConfig:
    """Every Lab step chosen but the mode (so the Lab opens instead of the live screen)."""
    return AppConfig(
        exchange="binance", symbol="BTCUSDT", interval="1h",
        strategies=tuple(StrategySpec(name) for name in STRATEGY_NAMES),
    )


async def run_replay(pilot: Pilot[None]) -> None:
    await pilot.press("7")
    await pilot.pause()
    await pilot.press("tab", "tab")  # start -> end -> replay file
    await pilot.press(*"BTCUSDT-1h.csv")
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await settled_trades(pilot)


async def settled_trades(pilot: Pilot[None]) -> None:
    """Wait until the trade list holds every trade, has laid itself out and shows the newest.

    The table measures new rows (its virtual size, and so whether a horizontal scrollbar
    takes a line) when its message queue is idle; on a loaded machine that comes after the
    rows were first drawn, and the screen then puts the newest trade back in view
    (BacktestScreen._trades_measured)."""
    screen = pilot.app.screen
    assert isinstance(screen, BacktestScreen)
    table = screen.query_one("#bt-trades", DataTable)
    for _ in range(200):
        await pilot.pause()
        result = screen.result
        if (
            result is not None
            and table.row_count == result.summary.trades
            and table.virtual_size.height == table.row_count + table.header_height
            and table.cursor_row == table.row_count - 1
            and table.scroll_y == table.max_scroll_y
        ):
            break
    else:
        raise AssertionError("the trade list never showed every trade with the newest in view")
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    await pilot.pause()


@pytest.fixture
def in_candles_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CANDLES_DIR)


def test_backtest_screen_shows_summary_equity_and_trades(snap_compare, in_candles_dir: None) -> None:
    assert snap_compare(build_app(lab_config()), terminal_size=SIZE, run_before=run_replay)


def test_backtest_screen_fits_80x24(snap_compare, in_candles_dir: None) -> None:
    assert snap_compare(build_app(lab_config()), terminal_size=(80, 24), run_before=run_replay)


async def test_backtest_runs_in_a_worker_then_esc_returns_to_the_lab(in_candles_dir: None) -> None:
    app = build_app(lab_config())
    async with app.run_test(size=SIZE) as pilot:
        await run_replay(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        result = screen.result
        assert result is not None and result.summary.trades > 10
        # The screen shows what the library computed, the newest trade last and in view.
        table = screen.query_one("#bt-trades")
        assert table.row_count == result.summary.trades
        assert table.cursor_row == result.summary.trades - 1
        assert screen.query_one(EquityChart).size.height >= 10
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LabScreen)


async def test_a_bad_span_is_a_sentence_on_the_screen(in_candles_dir: None) -> None:
    app = build_app(lab_config())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await pilot.pause()
        await pilot.press(*"2024-13-01", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#bt-status").content)
        assert "is not a real date" in status


async def test_backtest_without_an_asset_opens_the_missing_step() -> None:
    app = build_app(AppConfig(mode=ConfluenceMode.ANY))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert not isinstance(app.screen, BacktestScreen)
        lab = next(screen for screen in app.screen_stack if isinstance(screen, LabScreen))
        assert lab.message.startswith("Choose an asset, at least one strategy and a timeframe before a backtest")
