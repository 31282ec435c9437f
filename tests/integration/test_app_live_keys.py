"""The live screen under a simulator flood: frames are skipped, keys still act at once, and
the pause, chart and help keys do what the footer says.

Keys are posted as the terminal driver posts them rather than with `pilot.press`, which
waits for the process to go idle and so would wait on the flood itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Callable

import pytest
from textual import events
from textual.app import App

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.help import HelpScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.session import AppConfig
from tests.integration.test_app_flow import wait_for


async def key_until(app: App[None], live: LiveScreen, key: str, acted: Callable[[], bool]) -> int:
    """Post `key` like the driver does; return how many frames were drawn before it acted."""
    before = live.frames_drawn
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)
    for _ in range(100_000):
        if acted():
            return live.frames_drawn - before
        await asyncio.sleep(0)
    raise AssertionError(f"{key!r} never acted")


@pytest.fixture
async def flooding_sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=60.0, seed=3, flood=True)) as exchange:
        yield exchange


async def test_a_flood_costs_frames_not_keys(flooding_sim: SimExchange) -> None:
    config = AppConfig(exchange="sim", ws_url=flooding_sim.ws_url, rest_url=flooding_sim.rest_url,
                       symbol="BTCUSDT", interval="1m", strategies=STRATEGY_NAMES, mode=ConfluenceMode.ANY)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None,
                       "the live screen")
        live = app.screen
        assert isinstance(live, LiveScreen) and live.engine is not None
        engine = live.engine

        def flooded_beyond(count: int) -> Callable[[], bool]:
            return lambda: engine.snapshot.metrics.messages_received > count

        await wait_for(pilot, lambda: engine.snapshot.state is ConnectionState.LIVE
                       and engine.snapshot.metrics.messages_received > 500, "a flood of updates")

        # Newest wins: far fewer frames drawn than snapshots published, updates coalesced.
        assert 0 < live.frames_drawn < engine.snapshot.sequence / 2
        assert engine.snapshot.metrics.messages_coalesced > 0

        # Every key acts before a second frame is drawn (a frame is 1/15 s).
        assert await key_until(app, live, "p", lambda: live.paused) <= 1
        frozen_at = live.frames_drawn
        await wait_for(pilot, flooded_beyond(engine.snapshot.metrics.messages_received + 200), "updates while paused")
        assert live.frames_drawn == frozen_at
        assert await key_until(app, live, "p", lambda: not live.paused) <= 1
        assert await key_until(app, live, "c", lambda: not live.chart_visible) <= 1
        assert await key_until(app, live, "c", lambda: live.chart_visible) <= 1
        mode = live.mode
        assert await key_until(app, live, "m", lambda: engine.snapshot.mode is not mode) <= 1

        assert await key_until(app, live, "question_mark", lambda: isinstance(app.screen, HelpScreen)) <= 1
        covered_at = live.frames_drawn
        await wait_for(pilot, flooded_beyond(engine.snapshot.metrics.messages_received + 200), "updates under help")
        assert live.frames_drawn == covered_at  # nothing drawn behind the modal
        assert await key_until(app, live, "escape", lambda: app.screen is live) <= 1

        assert await key_until(app, live, "escape", lambda: not isinstance(app.screen, LiveScreen)) <= 1
        await wait_for(pilot, lambda: engine.snapshot.state is ConnectionState.STOPPED, "the feed to stop")


async def test_short_terminal_swaps_table_and_chart_with_c() -> None:
    config = AppConfig(exchange="sim", symbol="ETHUSDT", interval="1m", strategies=("rsi",),
                       mode=ConfluenceMode.ALL)
    app = make_app(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live screen")
        live = app.screen
        assert isinstance(live, LiveScreen)
        await pilot.pause()
        assert live.has_class("-short") and not live.chart_visible
        await pilot.press("c")
        assert live.chart_visible
        await pilot.press("q")
    assert app.return_code == 0
