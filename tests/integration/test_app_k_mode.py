"""K mode in the app (issue 10 §2, §4): the Lab's mode picker takes "K of N" with K typed
in and validated 1..N, the live screen says "3 of 11", and a strategy parameter that can
never warm up in the live window is refused before live with the largest value that fits."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input, Static

from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode, ConfluenceRule
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.screens.mode_picker import ModePicker
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.session import AppConfig
from cryptoai_tui.tui.widgets.live_header import LiveHeader
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable
from tests.integration.test_app_flow import wait_for
from tests.snapshots.apps import build_app, live_config, settle_live


def lab_of(app: App[None]) -> LabScreen:
    lab = app.screen_stack[0]
    assert isinstance(lab, LabScreen)
    return lab


async def test_the_mode_picker_takes_k_of_n_and_refuses_a_k_outside_1_to_n() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", interval="1h", strategies=("rsi", "macd", "bos", "fvg")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, ModePicker), "the mode picker")
        await pilot.press("end", "enter")  # the "K of 4" line moves to the K field
        field = app.screen.query_one("#mode-k", Input)
        assert app.screen.focused is field
        field.value = "5"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ModePicker)  # refused, stays open and says why
        error = str(app.screen.query_one("#mode-k-error", Static).content)
        assert error == "K must be a whole number from 1 to 4 (the 4 strategies chosen), not 5."
        field.value = "3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LabScreen), "the Lab")
        lab = lab_of(app)
        assert lab.choices.mode == ConfluenceRule.at_least(3)
        assert lab.message.startswith("Confluence mode 3 of 4: A trigger and at least 3 strategies")
        await pilot.press("4", "home", "enter")  # a named mode is one Enter
        await wait_for(pilot, lambda: isinstance(app.screen, LabScreen), "the Lab")
        assert lab.choices.mode is ConfluenceMode.ALL


async def test_k_of_n_runs_live_and_the_header_and_panel_say_3_of_11() -> None:
    app = build_app(live_config(mode=ConfluenceRule.at_least(3)))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert live.engine is not None and live.engine.snapshot.mode == ConfluenceRule.at_least(3)
        header = str(live.query_one(LiveHeader).content)
        assert f"· 3 of {len(STRATEGY_NAMES)}" in header
        panel = str(live.query_one("#signal-panel", Static).content)
        assert f"CONFLUENCE 3 of {len(STRATEGY_NAMES)}" in panel or f"3 of {len(STRATEGY_NAMES)} ·" in panel


async def test_a_k_above_the_strategies_chosen_is_refused_before_live() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", interval="1h", strategies=("rsi", "macd"),
                              mode=ConfluenceRule.at_least(3)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ModePicker), "the mode picker")
        assert "only 2 are chosen" in lab_of(app).message
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)


async def test_a_parameter_that_can_never_warm_up_is_refused_before_live_with_the_largest_that_fits() -> None:
    app = build_app(AppConfig(symbol="BTCUSDT", interval="1m", strategies=(StrategySpec("rsi", {"period": 100000}),),
                              mode=ConfluenceMode.ANY))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, StrategyPicker), "the strategy picker")
        assert "the largest period that fits is 998." in lab_of(app).message
        assert not any(isinstance(screen, LiveScreen) for screen in app.screen_stack)


async def test_custom_parameters_show_in_the_strategy_column() -> None:
    app = build_app(live_config(strategies=(StrategySpec("rsi", {"period": 10}), StrategySpec("macd"))))
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        table = live.query_one(StrategyTable)
        assert table.get_cell("rsi", "strategy").plain == "rsi:period=10"
        assert table.get_cell("macd", "strategy").plain == "macd"
