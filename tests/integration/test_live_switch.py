"""Switching the live screen in place (keys 1-3 and m) against the simulated exchange over
real loopback sockets, with the app's real symbol loader and real engine: the header and
the table show the new choice, the old engine is stopped and its worker has ended, and no
frame of the old choice is drawn after the switch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets._toast import Toast

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.snapshot import Snapshot
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
from tests.integration.test_app_flow import wait_for


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=600.0, seed=5)) as exchange:
        yield exchange


def _header(live: LiveScreen) -> str:
    return str(live.query_one(LiveHeader).content)


async def test_switch_asset_timeframe_strategies_and_mode_in_place(
    sim: SimExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[Snapshot] = []
    mismatched: list[tuple[str, str, str, str]] = []  # frames of another choice than the one in force
    original_draw = LiveScreen._draw

    def recording_draw(self: LiveScreen, snapshot: Snapshot) -> None:
        drawn.append(snapshot)
        if (snapshot.symbol, snapshot.interval) != (self.session.symbol, self.session.interval):
            mismatched.append((snapshot.symbol, snapshot.interval, self.session.symbol, self.session.interval))
        original_draw(self, snapshot)

    monkeypatch.setattr(LiveScreen, "_draw", recording_draw)
    config = AppConfig(exchange="sim", ws_url=sim.ws_url, rest_url=sim.rest_url, symbol="BTCUSDT",
                       interval="1m", strategies=("rsi", "macd"), mode=ConfluenceMode.ANY)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None,
                       "the live screen")
        live = app.screen
        assert isinstance(live, LiveScreen)
        first = live.engine
        assert first is not None
        await wait_for(pilot, lambda: "● live" in _header(live), "a frame of the live BTC feed")

        # 1: the asset picker, filtered as you type, Enter switches
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        await pilot.press("s", "o", "l", "enter")
        await wait_for(pilot, lambda: live.session.symbol == "SOLUSDT" and live.engine is not None
                       and live.engine is not first, "the switch to SOLUSDT")
        second = live.engine
        assert second is not None
        mark = len(drawn)
        await wait_for(pilot, lambda: "● live" in _header(live) and "SOLUSDT" in _header(live),
                       "a frame of the live SOL feed")
        assert "BTCUSDT" not in _header(live)
        assert first.snapshot.state is ConnectionState.STOPPED  # the old engine was stopped
        assert live.engines_started == 2
        assert all(snapshot.symbol == "SOLUSDT" for snapshot in drawn[mark:])
        assert drawn[-1].symbol == "SOLUSDT" and drawn[-1].price is not None
        # the old engine's worker is gone: only this screen's current one runs
        engine_workers = [w for w in app.workers if w.group == "engine" and not w.is_finished]
        assert len(engine_workers) == 1

        # 3: the timeframe picker, current 1m highlighted; down picks the next one
        await pilot.press("3")
        assert isinstance(app.screen, ChoicePicker)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: live.session.interval != "1m" and live.engine is not second,
                       "the switch of timeframe")
        interval = live.session.interval
        await wait_for(pilot, lambda: "● live" in _header(live) and f"· {interval} ·" in _header(live),
                       "a frame of the new timeframe")
        assert second.snapshot.state is ConnectionState.STOPPED
        assert live.engine is not None and live.engine.snapshot.interval == interval

        # 2: the strategies picker; adding one restarts the engine on three
        third = live.engine
        await pilot.press("2")
        assert isinstance(app.screen, StrategyPicker)
        await pilot.press("down", "down", "space", "enter")  # rsi, macd + the second in the list
        await wait_for(pilot, lambda: len(live.session.strategies) == 3, "the switch of strategies")
        await wait_for(pilot, lambda: live.query_one(StrategyTable).row_count == 3, "a three-row table")
        assert third.snapshot.state is ConnectionState.STOPPED
        assert live.session.strategy_names[:1] == ("rsi",)

        # m: the mode changes on the running engine, the header names it
        await pilot.press("m")
        assert live.mode is not ConfluenceMode.ANY
        await wait_for(pilot, lambda: live.mode.name in _header(live), "the new mode in the header")
        assert live.engine is not None and live.engine.snapshot.mode is live.mode

        assert mismatched == []  # no stale frame of an old engine, at any switch

        # Esc: the Lab now holds the switched choice
        await pilot.press("escape")
        await pilot.pause()
        lab = app.screen
        assert isinstance(lab, LabScreen)
        assert (lab.choices.symbol, lab.choices.interval) == ("SOLUSDT", interval)
        assert len(lab.choices.strategies) == 3 and lab.choices.mode is live.mode


async def test_escape_in_the_picker_keeps_the_running_engine(sim: SimExchange) -> None:
    config = AppConfig(exchange="sim", ws_url=sim.ws_url, rest_url=sim.rest_url, symbol="ETHUSDT",
                       interval="1m", strategies=("rsi",), mode=ConfluenceMode.ANY)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.engine is not None,
                       "the live screen")
        live = app.screen
        assert isinstance(live, LiveScreen)
        engine = live.engine
        await pilot.press("1")
        assert isinstance(app.screen, AssetPicker)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is live and live.engine is engine and live.engines_started == 1
        await wait_for(pilot, lambda: "● live" in _header(live), "the ETH feed still live")


async def test_a_switch_the_engine_refuses_keeps_the_running_session() -> None:
    """The engine factory refuses the new choice (as it does a bad parameter): the toast
    says so and the old engine keeps running, untouched."""
    from tests.snapshots.apps import btc_replay_factory, build_app, live_config, settle_live

    replay = btc_replay_factory()

    def factory(session):  # type: ignore[no-untyped-def]
        if session.symbol == "ETHUSDT":
            raise ValueError("ETHUSDT is refused here.")
        return replay(session)

    app = build_app(live_config(), engine_factory=factory)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        live = await settle_live(pilot)
        engine = live.engine
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        await pilot.press("e", "t", "h", "enter")
        await wait_for(pilot, lambda: any("refused here" in str(toast.render()) for toast in app.screen.query(Toast)),
                       "the refusal toast")
        assert live.engine is engine and live.engines_started == 1 and live.session.symbol == "BTCUSDT"
        assert engine is not None and engine.snapshot.state is ConnectionState.LIVE
