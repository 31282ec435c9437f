"""The whole Lab → live → Lab flow, driven by keys, against the simulated exchange over
real loopback sockets, with the app's real symbol loader and real engine."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Callable

import pytest
from textual.pilot import Pilot

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState
from cryptoai_tui.tui.screens.choice_picker import ChoicePicker
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.session import AppConfig
from cryptoai_tui.tui.widgets.live_header import LiveHeader
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], what: str, limit_s: float = 30.0) -> None:
    """Poll a condition between frames; the limit only stops a broken run from hanging."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    # 1m candles close every 0.1 s: a confirmed signal within a second or two
    async with SimExchange(SimConfig(speed=600.0, seed=11)) as exchange:
        yield exchange


async def test_pick_everything_start_see_live_data_go_back_and_quit(sim: SimExchange) -> None:
    config = AppConfig(exchange="sim", ws_url=sim.ws_url, rest_url=sim.rest_url)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.screen
        assert isinstance(lab, LabScreen)

        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the simulator's symbol list")
        await pilot.press("e", "t", "h", "enter")
        await pilot.pause()
        assert lab.choices.symbol == "ETHUSDT"

        await pilot.press("2")
        assert isinstance(app.screen, StrategyPicker)
        await pilot.press("space", "down", "down", "down", "space", "enter")  # rsi and macd
        await pilot.pause()
        assert lab.choices.strategy_names == ("rsi", "macd")

        await pilot.press("3")
        assert isinstance(app.screen, ChoicePicker)
        await pilot.press("enter")  # the suggested 1m
        await pilot.pause()
        assert lab.choices.interval == "1m"

        await pilot.press("4")
        await pilot.press("up", "enter")  # MAJORITY (current) -> ANY
        await pilot.pause()
        assert lab.choices.mode is ConfluenceMode.ANY

        await pilot.press("6")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None,
                       "the live screen")
        live = app.screen
        assert isinstance(live, LiveScreen) and live.engine is not None
        engine = live.engine
        await wait_for(
            pilot,
            lambda: engine.snapshot.state is ConnectionState.LIVE and engine.snapshot.last_confirmed is not None,
            "a live feed with a confirmed signal",
        )
        # A frame drawn after the feed went live: "within 50 sequences of the newest" was also
        # met by the first frame (connecting) when the feed got live quickly on a loaded machine.
        header = live.query_one(LiveHeader)
        await wait_for(pilot, lambda: "● live" in str(header.content), "a frame of the live feed")
        assert "ETHUSDT" in str(header.content)
        assert live.query_one(StrategyTable).row_count == 2
        assert engine.snapshot.price is not None and engine.snapshot.metrics.messages_processed > 0

        await pilot.press("m")
        assert engine.snapshot.mode is ConfluenceMode.MAJORITY

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is lab
        assert lab.choices.mode is ConfluenceMode.MAJORITY
        await wait_for(pilot, lambda: engine.snapshot.state is ConnectionState.STOPPED, "the feed to stop")

        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
