"""Every way a choice can be wrong says which and takes the user to the step that fixes it.

The Lab-only cases list symbols from an in-memory listing; the cases that need an exchange
to say no (unknown symbol, unreachable exchange) run against the simulator or a closed
loopback port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Sequence

import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.message import Message

from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.exchanges.errors import ExchangeUnavailableError, InvalidSymbolError
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.market import Symbol
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.messages import EngineStopped
from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState
from cryptoai_tui.tui.screens.choice_picker import ChoicePicker
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.session import AppConfig, Endpoint
from cryptoai_tui.tui.widgets.live_header import feed_trouble
from tests.integration.test_app_flow import wait_for
from tests.snapshots.apps import build_app, fixed_symbols, listed_symbols


def lab_of(app: App[None]) -> LabScreen:
    lab = app.screen_stack[0]
    assert isinstance(lab, LabScreen)
    return lab


async def test_start_with_nothing_chosen_names_all_three_and_opens_the_asset_picker() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, AssetPicker)
        assert lab_of(app).message == "Choose an asset, at least one strategy and a timeframe before starting."


async def test_start_without_strategies_opens_the_strategy_picker() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", interval="1m"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, StrategyPicker)
        assert lab_of(app).message == "Choose at least one strategy before starting."


async def test_start_without_a_timeframe_opens_the_timeframe_picker() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", strategies=("rsi",)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ChoicePicker)
        assert lab_of(app).message == "Choose a timeframe before starting."


async def test_confirming_no_strategies_is_refused_inside_the_picker() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, StrategyPicker)
        assert "Choose at least one strategy" in str(picker.query_one("#strategy-message").content)
        await pilot.press("a", "enter")
        await pilot.pause()
        assert len(lab_of(app).choices.strategies) == 11


async def test_unlisted_preselected_symbol_is_named_with_suggestions_and_the_picker_opens() -> None:
    app = build_app(AppConfig(symbol="ETHUSDX"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker)
                       and app.screen.list_state is ListState.READY, "the asset picker")
        assert lab_of(app).message == (
            "ETHUSDX is not listed on Binance. Did you mean ETHUSDT, ETHUSDC, ETCUSDT? Pick an asset from the list."
        )


async def test_symbol_check_landing_while_a_picker_is_open_does_not_stack_a_second_picker() -> None:
    released = asyncio.Event()

    async def slow_symbols(endpoint: Endpoint) -> tuple[Symbol, ...]:
        await released.wait()
        return listed_symbols()

    app = build_app(AppConfig(symbol="ETHUSDX"), symbols_loader=slow_symbols)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # the user opens the strategy picker before the check lands
        await wait_for(pilot, lambda: isinstance(app.screen, StrategyPicker), "the strategy picker")
        released.set()
        await wait_for(pilot, lambda: "ETHUSDX is not listed" in (lab_of(app).message or ""), "the symbol check")
        await pilot.pause()
        assert isinstance(app.screen, StrategyPicker)
        assert not any(isinstance(screen, AssetPicker) for screen in app.screen_stack)


async def test_switching_exchange_drops_a_timeframe_it_does_not_offer() -> None:
    app = build_app(AppConfig(interval="8h"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")  # binance -> bybit-spot
        await pilot.pause()
        lab = lab_of(app)
        assert lab.choices.exchange == "bybit-spot" and lab.choices.interval is None
        assert lab.message == "Exchange Bybit spot. 8h is not offered there: choose another timeframe."


async def test_symbol_list_failure_is_a_sentence_and_retry_loads_it() -> None:
    attempts: list[Endpoint] = []

    async def flaky(endpoint: Endpoint) -> Sequence[Symbol]:
        attempts.append(endpoint)
        if len(attempts) == 1:
            raise ExchangeUnavailableError("Cannot reach api.binance.com: connection refused.")
        return listed_symbols()

    app = build_app(AppConfig(), symbols_loader=flaky)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.FAILED, "the failure")
        status = str(picker.query_one("#asset-status").content)
        assert status.startswith("Could not load the symbol list from Binance: Cannot reach api.binance.com")
        assert "Ctrl+R" in status
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the retried list")
        assert len(attempts) == 2


async def test_typed_symbol_is_accepted_when_the_list_cannot_load() -> None:
    async def unreachable(endpoint: Endpoint) -> Sequence[Symbol]:
        raise ExchangeUnavailableError("Cannot reach api.binance.com.")

    app = build_app(AppConfig(), symbols_loader=unreachable)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.FAILED, "the failure")
        await pilot.press("s", "o", "l", "/", "u", "s", "d", "t", "enter")
        await pilot.pause()
        assert lab_of(app).choices.symbol == "SOLUSDT"


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=600.0, seed=5)) as exchange:
        yield exchange


async def test_symbol_the_exchange_does_not_list_returns_from_live_to_the_asset_picker(sim: SimExchange) -> None:
    config = AppConfig(exchange="sim", ws_url=sim.ws_url, rest_url=sim.rest_url, symbol="FOOUSDT",
                       interval="1m", strategies=("rsi",), mode=ConfluenceMode.ANY)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker)
                       and app.screen.list_state is ListState.READY, "the asset picker")
        assert "FOOUSDT" in lab_of(app).message
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)


async def test_unreachable_exchange_keeps_retrying_and_s_switches_to_the_simulator() -> None:
    closed = "127.0.0.1:9"  # discard port: nothing listens there
    config = AppConfig(exchange="binance", ws_url=f"ws://{closed}", rest_url=f"http://{closed}",
                       symbol="BTCUSDT", interval="1m", strategies=("rsi",), mode=ConfluenceMode.ANY)
    app = make_app(config, symbols_loader=fixed_symbols)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None,
                       "the live screen")
        first = app.screen
        assert isinstance(first, LiveScreen) and first.engine is not None
        await wait_for(pilot, lambda: feed_trouble(first.engine.snapshot) is not None or first.failure is not None,
                       "the feed to report the failure")
        await wait_for(pilot, lambda: first.check_action("switch_to_sim", ()) is True, "the switch key")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen is not first
                       and app.screen.engine is not None, "a new live screen")
        second = app.screen
        assert isinstance(second, LiveScreen) and second.session.exchange == "sim"
        assert second.session.ws_url is None  # the in-process simulator, not the dead address
        assert lab_of(app).choices.exchange == "sim"
        await wait_for(pilot, lambda: second.engine.snapshot.state is ConnectionState.LIVE, "the simulator feed")
        assert second.check_action("switch_to_sim", ()) is False


async def test_command_palette_finds_the_lab_steps() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Lab: 2 Strategies" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Lab: 3 Timeframe", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoicePicker), "the timeframe picker")


async def test_symbol_the_exchange_refuses_after_the_list_failed_returns_from_live_to_the_asset_picker(
    sim: SimExchange,
) -> None:
    # The list could not be loaded, so the Lab lets the session start; the exchange then
    # refuses the symbol itself, and the live screen's EngineStopped takes the user back.
    async def unreachable(endpoint: Endpoint) -> Sequence[Symbol]:
        raise ExchangeUnavailableError("Cannot reach the symbol list.")

    config = AppConfig(exchange="sim", ws_url=sim.ws_url, rest_url=sim.rest_url, symbol="FOOUSDT",
                       interval="1m", strategies=("rsi",), mode=ConfluenceMode.ANY)
    app = make_app(config, symbols_loader=unreachable)
    messages: list[Message] = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker)
                       and app.screen.list_state is ListState.FAILED, "the asset picker")
        stops = [m for m in messages if isinstance(m, EngineStopped)]
        assert len(stops) == 1 and isinstance(stops[0].error, InvalidSymbolError)
        lab = lab_of(app)
        assert "FOOUSDT" in lab.message and lab.choices.symbol is None
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)


async def test_strategy_parameters_the_registry_refuses_keep_the_live_screen_closed() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", interval="1m", strategies=(StrategySpec("rsi", {"period": 0}),),
                              mode=ConfluenceMode.ANY))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, StrategyPicker), "the strategy picker")
        assert lab_of(app).message.startswith("rsi period must be at least 2, got 0.")
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)
