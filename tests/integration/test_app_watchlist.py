"""The Watchlist screen driven by keys through Pilot: sort by any column, filter as you
type, Enter opens the live screen with the same choices, Esc comes back with everything
kept; and from the Lab's `w` against the simulator over loopback."""

from __future__ import annotations

import asyncio
import time

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.screens.watchlist import WatchlistScreen, WatchSession
from cryptoai_tui.tui.session import AppConfig
from cryptoai_tui.tui.widgets.watch_table import WatchTable, sort_value
from tests.snapshots.apps import SIZE, build_app, frozen_clock
from tests.snapshots.watch_apps import CHOICE, WATCHED, ReplayWatchRunner, open_watchlist, watch_app


async def test_sort_by_any_column_and_reverse() -> None:
    app = watch_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watchlist(pilot)
        table = screen.query_one(WatchTable)
        assert table.order == sorted(WATCHED)  # by symbol at first
        seen_keys = []
        for _ in range(len(table._columns)):
            await pilot.press("right")
            seen_keys.append(table.sort_key)
            rows = [table.rows[s] for s in table.order]
            values = [sort_value(r, table.sort_key, frozen_clock()) for r in rows]
            present = [v[1] for v in values if v[0] == 0]
            assert present == sorted(present), f"not sorted by {table.sort_key}"
            assert all(v[0] == 0 for v in values[: len(present)])  # missing values last
        assert seen_keys[-1] == "symbol" and len(set(seen_keys)) == len(table._columns)
        await pilot.press("right")  # price
        ascending = list(table.order)
        await pilot.press("ctrl+r")
        assert table.sort_reverse and table.order == ascending[::-1]
        assert "Price descending" in str(screen.query_one("#watch-filter").content)
        await pilot.press("left")
        assert table.sort_key == "symbol"


async def test_filter_as_you_type_and_esc_clears_it() -> None:
    app = watch_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watchlist(pilot)
        table = screen.query_one(WatchTable)
        await pilot.press("d", "o")
        assert table.order == ["DOGEUSDT"] and screen.filter_text == "DO"
        assert "1 of 10 symbols" in str(screen.query_one("#watch-status").content)
        await pilot.press("backspace")
        assert table.order == sorted(WATCHED)  # "D": every USDT pair has one
        await pilot.press("backspace", "l")
        assert table.order == ["LINKUSDT", "LTCUSDT", "SOLUSDT"]
        await pilot.press("q")  # a letter here, not quit
        assert screen.filter_text == "LQ" and table.order == [] and app.is_running
        await pilot.press("escape")
        assert screen.filter_text == "" and len(table.order) == len(WATCHED)
        assert app.screen is screen  # the first Esc only cleared the filter


async def test_enter_opens_the_live_screen_and_esc_comes_back_with_state_kept() -> None:
    app = watch_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_watchlist(pilot)
        table = screen.query_one(WatchTable)
        await pilot.press("right", "right", "ctrl+r")  # sorted by candle change, descending
        await pilot.press("o")  # filter: the symbols with an O (DOGE, SOL)
        await pilot.press("home", "down")
        order, chosen = list(table.order), table.cursor_symbol
        assert sorted(order) == ["DOGEUSDT", "SOLUSDT"] and chosen == order[1]
        runner = screen.runner
        await pilot.press("enter")
        await pilot.pause()
        live = app.screen
        assert isinstance(live, LiveScreen)
        session = live.session
        assert session.symbol == chosen and session.interval == CHOICE.interval
        assert session.mode is CHOICE.mode and session.strategies == CHOICE.strategies
        # the footer says where Esc goes: back to this watchlist, not to the Lab
        assert live.check_action("back_to_watchlist", ()) and not live.check_action("back", ())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.runner is runner
        assert isinstance(runner, ReplayWatchRunner) and runner.engine.running  # still running
        assert (table.sort_key, table.sort_reverse, screen.filter_text) == ("candle", True, "O")
        assert table.order == order and table.cursor_symbol == chosen
        await pilot.press("escape", "escape")  # clear the filter, then back to the Lab
        await pilot.pause()
        assert isinstance(app.screen, LabScreen)
        assert not runner.engine.running  # leaving for the Lab stopped the watchlist


async def test_w_in_the_lab_watches_the_simulator_over_loopback() -> None:
    async with SimExchange(SimConfig(speed=300.0, seed=4)) as sim:
        config = AppConfig(exchange="binance", symbol="SOLUSDT", interval="1m", strategies=("rsi", "macd"),
                           ws_url=sim.ws_url, rest_url=sim.rest_url)
        app = build_app(config, clock=time.time)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("w")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, WatchlistScreen)
            table = screen.query_one(WatchTable)
            async with asyncio.timeout(60):
                while len(table.rows) < 20 or not all(
                        row.state is ConnectionState.LIVE and row.price for row in table.rows.values()):
                    await pilot.pause(0.05)
            assert isinstance(screen.runner, WatchSession)
            # the chosen asset plus the 20 most-traded (SOL is among them, so 20 or 21 rows)
            assert "SOLUSDT" in table.rows and len(table.rows) in (20, 21)
            assert table.lines_rendered > 0
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, LabScreen)


async def test_w_without_strategies_opens_that_step() -> None:
    app = build_app(AppConfig(exchange="sim", interval="1m"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, StrategyPicker)  # the missing step opened, as Start does
        lab = app.screen_stack[-2]
        assert isinstance(lab, LabScreen)
        assert lab.message == "Choose at least one strategy before opening the watchlist."
