"""The live screen under a simulator flood: frames are skipped, keys still act at once, and
the pause, chart and help keys do what the footer says.

Keys are posted as the terminal driver posts them rather than with `pilot.press`, which
waits for the process to go idle and so would wait on the flood itself.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Callable

import pytest
from textual import events
from textual.app import App

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.help import HelpScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.session import AppConfig
from tests.integration.test_app_flow import wait_for


async def key_until(app: App[None], live: LiveScreen, key: str, acted: Callable[[], bool]) -> int:
    """Post `key` like the driver does and fail unless it acts; returns the frames drawn
    meanwhile (the benchmark reports them; a test here does not bound them)."""
    before = live.frames_drawn
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)
    deadline = time.monotonic() + 30.0  # only stops a broken run from hanging
    while time.monotonic() < deadline:
        if acted():
            return live.frames_drawn - before
        await asyncio.sleep(0)
    raise AssertionError(f"{key!r} never acted")


@pytest.fixture
def flooding_sim() -> Iterator[str]:
    """A flooding simulator in its own process; yields its base URL (host:port).

    The flood is the load, not the thing under test: run in the app's own event loop it
    would compete with the key handling for reasons no user meets, so it gets its own
    process, and only the product's code (feed, engine, screen) shares the app's loop.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", "60", "--seed", "3", "--flood"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        address = None
        for line in process.stdout:
            match = re.search(r"listening on (\S+)", line)
            if match:
                address = match.group(1)
                break
        assert address is not None, "the simulator did not say where it listens"
        yield address
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_a_flood_costs_frames_not_keys(flooding_sim: str) -> None:
    config = AppConfig(exchange="sim", ws_url=f"ws://{flooding_sim}", rest_url=f"http://{flooding_sim}",
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
        # Both ratios grow with the flood's length, not at a fixed rate, so they are waited
        # for (a screen that drew every snapshot never gets there and fails at the limit).
        await wait_for(pilot, lambda: 0 < live.frames_drawn < engine.snapshot.sequence / 2
                       and engine.snapshot.metrics.messages_coalesced > 0, "frames skipped and updates coalesced")

        # Every key acts while the flood goes on. How fast is measured, not asserted (machines
        # here are shared): benchmarks/ui_key_latency.py reports frames and ms per key.
        await key_until(app, live, "p", lambda: live.paused)
        frozen_at = live.frames_drawn
        await wait_for(pilot, flooded_beyond(engine.snapshot.metrics.messages_received + 200), "updates while paused")
        assert live.frames_drawn == frozen_at
        await key_until(app, live, "p", lambda: not live.paused)
        await key_until(app, live, "c", lambda: not live.chart_visible)
        await key_until(app, live, "c", lambda: live.chart_visible)
        mode = live.mode
        await key_until(app, live, "m", lambda: engine.snapshot.mode is not mode)

        await key_until(app, live, "question_mark", lambda: isinstance(app.screen, HelpScreen))
        covered_at = live.frames_drawn
        await wait_for(pilot, flooded_beyond(engine.snapshot.metrics.messages_received + 200), "updates under help")
        assert live.frames_drawn == covered_at  # nothing drawn behind the modal
        await key_until(app, live, "escape", lambda: app.screen is live)

        await key_until(app, live, "escape", lambda: not isinstance(app.screen, LiveScreen))
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
