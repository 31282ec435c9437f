"""Every screen and picker at 120x40 (and the live screen at 80x24), from a replay of real
BTC candles through the real engine, with a frozen clock: stable run after run.

Each test drives the app the way a user would (keys only) and names what the shot proves.
"""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot

from cryptoai_tui.exchanges.errors import ExchangeUnavailableError
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from cryptoai_tui.market import Symbol
from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode, ConfluenceRule
from cryptoai_tui.tui.session import AppConfig, Endpoint
from tests.snapshots.apps import SIZE, build_app, live_config, settle_live, status_factory


async def _settled(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_lab_opens_with_nothing_chosen(snap_compare) -> None:
    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE)


def test_lab_shows_every_choice_and_is_ready_to_start(snap_compare) -> None:
    config = live_config(mode=None)
    assert snap_compare(build_app(config), terminal_size=SIZE, run_before=_settled)


def test_starting_without_choices_names_what_is_missing_and_opens_the_asset_picker(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("s")
        await _settled(pilot)

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_asset_picker_filters_as_you_type(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("1")
        await _settled(pilot)
        await pilot.press("e", "t", "h")
        await pilot.pause()

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_asset_picker_lists_favourites_first(snap_compare) -> None:
    """The user's starred symbols (★, remembered in the config file) come first, then the
    popular pairs, then the rest."""
    from cryptoai_tui.config import Settings, UserConfig

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("1")
        await _settled(pilot)

    settings = Settings(None, UserConfig(favourites=("LINKUSDT", "ETHBTC")))
    assert snap_compare(build_app(AppConfig(), settings=settings), terminal_size=SIZE, run_before=run_before)


def test_asset_picker_shows_that_the_list_is_loading(snap_compare) -> None:
    async def slow_exchange(endpoint: Endpoint) -> list[Symbol]:
        await asyncio.Event().wait()  # answers after the screenshot
        return []

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("1")
        await pilot.pause()

    app = build_app(AppConfig(), symbols_loader=slow_exchange)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_asset_picker_says_when_the_list_cannot_load_and_offers_retry(snap_compare) -> None:
    async def unreachable(endpoint: Endpoint) -> list[Symbol]:
        raise ExchangeUnavailableError("Cannot reach api.binance.com: name resolution failed.")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("1")
        await _settled(pilot)

    app = build_app(AppConfig(), symbols_loader=unreachable)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_strategy_picker_groups_classic_and_smart_money(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("space", "down", "down", "space")
        await pilot.pause()

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_timeframe_picker_offers_the_exchanges_intervals(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await pilot.pause()

    app = build_app(AppConfig(exchange="bybit-spot"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_mode_picker_explains_each_mode(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await pilot.pause()

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_exchange_picker_lists_six_exchanges(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("5")
        await pilot.pause()

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_lab_help_lists_its_keys(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(build_app(AppConfig()), terminal_size=SIZE, run_before=run_before)


def test_live_screen_shows_price_verdict_table_chart_and_events(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)

    assert snap_compare(build_app(live_config()), terminal_size=SIZE, run_before=run_before)


def test_live_screen_fits_80x24_without_chart(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)

    assert snap_compare(build_app(live_config()), terminal_size=(80, 24), run_before=run_before)


def test_live_screen_in_majority_mode_with_the_chart_hidden(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)
        await pilot.press("c")
        await pilot.pause()

    app = build_app(live_config(ConfluenceMode.MAJORITY))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_live_screen_in_k_of_n_mode_with_tuned_rsi(snap_compare) -> None:
    """At least 3 of 11, RSI with period 10: the header and panel say "3 of 11", the table's
    first row says rsi:period=10."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)

    strategies = (StrategySpec("rsi", {"period": 10}), *(StrategySpec(name) for name in STRATEGY_NAMES[1:]))
    app = build_app(live_config(ConfluenceRule.at_least(3), strategies=strategies))  # type: ignore[arg-type]
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_mode_picker_refuses_a_k_above_n(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("4")
        await pilot.pause()
        await pilot.press("end", "enter", "backspace", "1", "2", "enter")
        await pilot.pause()

    assert snap_compare(build_app(live_config(mode=None)), terminal_size=SIZE, run_before=run_before)


def test_live_screen_shows_bootstrap_progress(snap_compare) -> None:
    factory = status_factory(
        FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading 500 candles of history.", "BTCUSDT", "1h", 120, 500),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)

    app = build_app(live_config(), engine_factory=factory)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_live_screen_says_the_exchange_is_unreachable_and_offers_the_simulator(snap_compare) -> None:
    factory = status_factory(
        FeedStatus(ConnectionState.CONNECTING, "Connecting to Binance.", "BTCUSDT", "1h"),
        FeedStatus(
            ConnectionState.RECONNECTING,
            "Cannot reach stream.binance.com: name resolution failed (no network?).",
            "BTCUSDT", "1h", retry_in=4.0,
        ),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)

    app = build_app(live_config(), engine_factory=factory)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_live_help_lists_its_keys(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle_live(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(build_app(live_config()), terminal_size=SIZE, run_before=run_before)


def test_live_screen_after_switching_the_asset_in_place(snap_compare) -> None:
    """1 on the live screen, `eth`, Enter: the same screen now runs ETHUSDT (header, table,
    event log say so) without a trip through the Lab."""

    async def run_before(pilot: Pilot[None]) -> None:
        from tests.integration.test_app_flow import wait_for
        from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState

        live = await settle_live(pilot)
        first = live.engine
        await pilot.press("1")
        picker = pilot.app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        await pilot.press("e", "t", "h", "enter")
        await wait_for(pilot, lambda: live.engine is not None and live.engine is not first, "the switch")
        await settle_live(pilot)

    assert snap_compare(build_app(live_config()), terminal_size=SIZE, run_before=run_before)


def test_watchlist_shows_one_row_per_symbol_with_verdicts_and_feed_health(snap_compare) -> None:
    from tests.snapshots.watch_apps import open_watchlist, watch_app

    async def run_before(pilot: Pilot[None]) -> None:
        await open_watchlist(pilot)

    assert snap_compare(watch_app(), terminal_size=SIZE, run_before=run_before)


def test_watchlist_fits_80x24_sorted_by_24h_change_and_filtered(snap_compare) -> None:
    from tests.snapshots.watch_apps import open_watchlist, watch_app

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await open_watchlist(pilot)
        await pilot.press("right", "right", "right", "ctrl+r", "u", "s")
        screen.draw_frame()
        await pilot.pause()

    assert snap_compare(watch_app(), terminal_size=(80, 24), run_before=run_before)
