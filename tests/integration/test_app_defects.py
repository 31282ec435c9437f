"""Defects found by trying the app as a new user would (issue 8 §4), one test each.

The live screens here run the real engine on a replay of real BTC candles (tests/snapshots/
apps.py); the symbol lists are in memory or refuse like an unreachable exchange does.
"""

from __future__ import annotations

import asyncio
import re
from typing import Sequence

from textual.app import App
from textual.widgets import Static

from cryptoai_tui.exchanges.errors import ExchangeUnavailableError
from cryptoai_tui.market import Symbol
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.formatting import format_clock
from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState
from cryptoai_tui.tui.screens.choice_picker import ChoicePicker
from cryptoai_tui.tui.screens.help import HelpScreen
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import SIM_LAG_NOTE, LiveScreen
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.session import AppConfig, Endpoint, LabStep
from cryptoai_tui.tui.widgets.event_log import EventLog
from cryptoai_tui.tui.widgets.lab_menu import LabMenu
from cryptoai_tui.tui.widgets.live_header import LiveHeader
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable
from tests.integration.test_app_flow import wait_for
from tests.snapshots.apps import FROZEN_NOW, build_app, listed_symbols, live_config, settle_live


DATE = r"\d{4}-\d{2}-\d{2}"


def lab_of(app: App[None]) -> LabScreen:
    lab = app.screen_stack[0]
    assert isinstance(lab, LabScreen)
    return lab


def start_line(lab: LabScreen) -> str:
    menu = lab.query_one(LabMenu)
    return str(menu.get_option(str(LabStep.START.value)).prompt)


def countdown(live: LiveScreen) -> str:
    return str(live.query_one("#price-changes", Static).content).splitlines()[-1]


# --- the candle countdown on the simulator -------------------------------------------------
async def test_countdown_on_the_in_app_simulator_uses_its_speed_from_the_first_frame() -> None:
    # The replay's forming candle is 25 of 60 minutes in: 35 minutes of simulator time are
    # 70 real seconds at the 30x the app starts the simulator with. The engine has not
    # measured the clock (the replay has no wall-clock span), so only the known speed can say.
    app = build_app(live_config(exchange="sim"), sim_speed=30.0)
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert live.engine is not None and live.engine.exchange_clock_rate is None
        assert countdown(live).startswith("closes in 1m 10s · 30x clock")


async def test_countdown_on_a_real_time_simulator_or_an_exchange_is_in_exchange_seconds() -> None:
    for config, speed in ((live_config(exchange="sim"), 1.0), (live_config(), 30.0)):
        app = build_app(config, sim_speed=speed)
        async with app.run_test(size=(120, 40)) as pilot:
            live = await settle_live(pilot)
            assert countdown(live) == "closes in 35m 00s · 21:00 candle", config.exchange


# --- times in the event log ----------------------------------------------------------------
async def test_event_log_stamps_history_verdicts_with_their_candle_time() -> None:
    app = build_app(live_config())
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        lines = live.query_one(EventLog).lines
        verdicts = [line for line in lines if " confirmed " in line]
        assert verdicts, lines
        now = format_clock(int(FROZEN_NOW * 1000))
        for line in verdicts:
            stamp, text = line.split("  ", 1)
            assert stamp != now
            assert f"on the {stamp} candle" in text  # the stamp is that candle's own time
        # Events without a candle (state changes) keep the time they were seen.
        assert any(line.startswith(now + "  live") for line in lines)


async def test_daily_candles_show_dates_in_the_price_panel_signal_panel_log_chart_and_table() -> None:
    app = build_app(live_config(interval="1d"))
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        # The replay's candles are hourly, but the screen writes them as the interval says.
        assert re.search(rf"· {DATE} candle$", countdown(live))
        assert re.search(rf"last signal (BUY|SELL) [^·]+ · {DATE} (UTC )?candle",
                         str(live.query_one("#signal-panel", Static).content))
        verdicts = [line for line in live.query_one(EventLog).lines if " confirmed " in line]
        assert verdicts and all(re.match(rf"{DATE}  confirmed .* on the {DATE} candle", line) for line in verdicts)
        chart = live.query_one("#candle-chart")
        bottom = "".join(segment.text for segment in chart.render_line(chart.size.height - 1))
        assert re.fullmatch(rf"\s*{DATE}\s+{DATE} UTC\s*", bottom), bottom
        table = live.query_one(StrategyTable)
        # The table says when each strategy last triggered in candles, which reads the same
        # on any timeframe, never as a time of day that every daily candle shares.
        snapshot = live.engine.snapshot
        last = {table.get_cell(row.name, "last").plain for row, seen in zip(snapshot.rows, snapshot.last_triggers) if seen}
        assert last and all(re.fullmatch(r"(BUY|SELL) (\d+ candles? ago|last close)", text) for text in last), last


# --- an unlisted --symbol, a bare base typed offline ---------------------------------------
async def test_after_an_unlisted_symbol_and_esc_the_lab_is_not_ready() -> None:
    app = build_app(AppConfig(symbol="ETHUSDX", interval="1m", strategies=("rsi",)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker), "the asset picker")
        await pilot.press("escape")
        await pilot.pause()
        lab = lab_of(app)
        assert app.screen is lab and lab.choices.symbol is None
        assert "ready" not in start_line(lab) and "needs asset" in start_line(lab)
        assert lab.message.startswith("ETHUSDX is not listed on Binance.")


async def test_straight_to_live_with_an_unlisted_symbol_opens_the_picker_not_the_live_screen() -> None:
    app = build_app(live_config(symbol="ETHUSDX"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker), "the asset picker")
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)
        await pilot.press("escape")
        await pilot.pause()
        lab = lab_of(app)
        assert "needs asset" in start_line(lab)
        assert not lab.has_class("-launching")  # the Lab is shown to fix the choice


async def test_a_bare_base_is_not_taken_for_a_symbol_when_the_list_cannot_load() -> None:
    async def unreachable(endpoint: Endpoint) -> Sequence[Symbol]:
        raise ExchangeUnavailableError("Cannot reach api.binance.com.")

    app = build_app(AppConfig(), symbols_loader=unreachable)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.FAILED, "the failure")
        await pilot.press("e", "t", "h", "enter")
        await pilot.pause()
        assert app.screen is picker and lab_of(app).choices.symbol is None
        assert "type the pair, e.g. ETHUSDT or ETH/USDT" in str(picker.query_one("#asset-status", Static).content)
        await pilot.press("/", "u", "s", "d", "t", "enter")
        await pilot.pause()
        assert lab_of(app).choices.symbol == "ETHUSDT"


# --- straight-to-live launches, the pause key ----------------------------------------------
async def test_straight_to_live_does_not_show_the_lab_while_the_choice_is_checked() -> None:
    released = asyncio.Event()

    async def slow_symbols(endpoint: Endpoint) -> tuple[Symbol, ...]:
        await released.wait()
        return listed_symbols()

    app = build_app(live_config(), symbols_loader=slow_symbols)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lab = lab_of(app)
        assert app.screen is lab
        assert lab.has_class("-launching")
        assert not lab.query_one("#lab").display and not lab.query_one("Footer").display
        assert "Starting BTCUSDT 1h on Binance" in str(lab.query_one("#lab-launch", Static).content)
        released.set()
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is lab, "the Lab")
        await pilot.pause()
        assert lab.query_one("#lab").display and not lab.has_class("-launching")


async def test_the_footer_offers_p_resume_while_paused() -> None:
    app = build_app(live_config())
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert live.active_bindings["p"].binding.description == "Pause"
        await pilot.press("p")
        await pilot.pause()
        assert live.paused
        assert live.active_bindings["p"].binding.description == "Resume"
        await pilot.press("p")
        await pilot.pause()
        assert not live.paused
        assert live.active_bindings["p"].binding.description == "Pause"


# --- lag on the simulator explains itself --------------------------------------------------
async def test_lag_on_the_simulator_is_explained_in_a_tooltip_and_the_help() -> None:
    app = build_app(live_config(exchange="sim", mode=ConfluenceMode.ANY))
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert live.query_one(LiveHeader).tooltip == SIM_LAG_NOTE
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert SIM_LAG_NOTE in str(app.screen.query_one(".picker-prompt", Static).content)


async def test_lag_on_a_real_exchange_has_no_simulator_note() -> None:
    app = build_app(live_config())
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert live.query_one(LiveHeader).tooltip is None


# --- 80x24 ---------------------------------------------------------------------------------
async def test_at_80x24_the_strategy_pickers_message_leaves_its_key_hint_on_screen() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("enter")  # nothing chosen: the refusal appears above the list
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, StrategyPicker)
        assert picker.query_one("#strategy-message").display
        box = picker.query_one(".picker").content_region
        hint = picker.query_one("#strategy-count").region
        assert hint.height == 1 and box.contains_region(hint), (box, hint)


async def test_at_80x24_the_mode_picker_stays_inside_the_labs_border() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        menu = lab_of(app).query_one(LabMenu).region
        await pilot.press("4")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoicePicker)
        box = picker.query_one(".picker").region
        assert menu.x < box.x and box.right < menu.right, (menu, box)
