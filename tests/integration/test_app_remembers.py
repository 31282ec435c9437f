"""A run remembers its session, favourites and theme in the config file (a real file), and
the next run's Lab starts with them; against the simulated exchange over loopback."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import OptionList
from textual.widgets._toast import Toast

from cryptoai_tui.commands.app import config_with_remembered
from cryptoai_tui.config import LastChoices, Settings, load_config
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from tests.integration.test_app_flow import wait_for


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=600.0, seed=9)) as exchange:
        yield exchange


def options(sim: SimExchange, **given: object) -> argparse.Namespace:
    values: dict[str, object] = {"exchange": None, "symbol": None, "interval": None, "strategies": None,
                                 "mode": None, "ws_url": sim.ws_url, "rest_url": sim.rest_url}
    values.update(given)
    return argparse.Namespace(**values)


async def test_a_run_saves_and_the_next_run_starts_with_it(sim: SimExchange, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    first = Settings.open(path)
    config = config_with_remembered(
        options(sim, exchange="sim", symbol="ETHUSDT", interval="1m", strategies="rsi:period=10;macd", mode="any"),
        first.last,
    )
    app = make_app(config, settings=first)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None
                       and app.screen.engine.snapshot.state is ConnectionState.LIVE, "the live feed")
        await wait_for(pilot, lambda: path.exists(), "the session to be saved")
        assert load_config(path).last == LastChoices("sim", "ETHUSDT", "1m", "rsi:period=10;macd", "any")

        app.theme = "nord"  # what the command palette's theme picker does
        await pilot.pause()
        assert load_config(path).theme == "nord"

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LabScreen)
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        await pilot.press("x", "r", "p", "ctrl+f")  # star XRPUSDT
        assert load_config(path).favourites == ("XRPUSDT",)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("4", "down", "enter")  # the Lab's own choice is remembered too: ANY -> MAJORITY
        await pilot.pause()
        assert isinstance(app.screen, LabScreen) and app.screen.choices.mode is ConfluenceMode.MAJORITY
        assert load_config(path).last.mode == "majority"
        await pilot.press("4", "up", "enter")  # and back, for the second run
        await pilot.pause()
        assert load_config(path).last.mode == "any"

    second = Settings.open(path)
    config = config_with_remembered(options(sim), second.last)
    app = make_app(config, settings=second)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lab = app.screen
        assert isinstance(lab, LabScreen)  # complete, but remembered: the Lab shows it first
        assert app.theme == "nord"
        choices = lab.choices
        assert (choices.exchange, choices.symbol, choices.interval) == ("sim", "ETHUSDT", "1m")
        assert [str(spec) for spec in choices.strategies] == ["rsi:period=10", "macd"]
        assert choices.mode is ConfluenceMode.ANY
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        listing = picker.query_one("#asset-list", OptionList)
        first_option = listing.get_option_at_index(0)
        assert first_option.id == "XRPUSDT" and "★" in str(first_option.prompt)
        assert "★" not in str(listing.get_option_at_index(1).prompt)  # only the user's own star
        await pilot.press("ctrl+f")  # the highlighted one is ETHUSDT, the current choice
        assert load_config(path).favourites == ("XRPUSDT", "ETHUSDT")


async def test_flags_override_the_remembered_session(sim: SimExchange, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[last]\nexchange = "sim"\nsymbol = "ETHUSDT"\ninterval = "5m"\nstrategies = "rsi"\nmode = "all"\n')
    settings = Settings.open(path)
    config = config_with_remembered(options(sim, symbol="SOLUSDT", interval="1m", mode="any"), settings.last)
    app = make_app(config, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lab = app.screen
        assert isinstance(lab, LabScreen)
        assert (lab.choices.symbol, lab.choices.interval, lab.choices.mode) == ("SOLUSDT", "1m", ConfluenceMode.ANY)
        assert lab.choices.strategy_names == ("rsi",)  # not given: remembered


async def test_a_corrupt_config_file_says_so_and_the_app_starts_on_defaults(sim: SimExchange, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("theme = 'nord'\n[last\nsymbol = ")
    settings = Settings.open(path)
    config = config_with_remembered(options(sim), settings.last)
    app = make_app(config, settings=settings)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) > 0, "the warning toast")
        text = " ".join(str(toast.render()) for toast in app.screen.query(Toast))
        assert "is not valid TOML" in text and "uses the defaults" in text
        lab = app.screen
        assert isinstance(lab, LabScreen)
        assert lab.choices.symbol is None and app.theme == "textual-dark"
        app.theme = "nord"
        await pilot.pause()
    assert path.read_text() == "theme = 'nord'\n[last\nsymbol = "  # never overwritten
