"""Text from the user or the network is shown as typed, never parsed as Textual markup.

`zz[/` in the asset filter or a 502 page containing `[/]` used to crash the app with a
MarkupError, and `[bold red]zz` rendered styled. Every text field gets markup-like input
and every status line gets a markup-like error body; each must show the brackets as they
came and the app must keep running.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Sequence

from textual.app import App, ComposeResult
from textual.widgets import Static

from cryptoai_tui.exchanges.errors import ExchangeUnavailableError
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from cryptoai_tui.market import Symbol
from cryptoai_tui.snapshot import StrategyRow
from cryptoai_tui.strategies.signal import Action, Signal
from cryptoai_tui.tui.screens.asset_picker import AssetPicker, ListState
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.session import AppConfig, Endpoint, LiveSession
from cryptoai_tui.tui.widgets.event_log import EventLog
from cryptoai_tui.tui.widgets.live_header import LiveHeader
from cryptoai_tui.tui.widgets.signal_panel import SignalPanel
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable
from tests.integration.test_app_flow import wait_for
from tests.snapshots.apps import build_app, live_config, settle_live, status_factory

HOSTILE_BODY = "502 Bad Gateway <html>[/]</html> [bold red]boom[/bold red] [link=x]y"


def plain(widget: Static) -> str:
    return str(widget.content)


def lab_of(app: App[None]) -> LabScreen:
    lab = app.screen_stack[0]
    assert isinstance(lab, LabScreen)
    return lab


async def test_markup_typed_into_the_asset_filter_is_shown_as_typed() -> None:
    app = build_app(AppConfig())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.READY, "the symbol list")
        await pilot.press(*"zz[/")
        await pilot.pause()
        assert "'zz[/'" in plain(picker.query_one("#asset-status", Static))
        for _ in range(4):
            await pilot.press("backspace")
        await pilot.press(*"[bold red]zz")
        await pilot.pause()
        status = picker.query_one("#asset-status", Static)
        assert "'[bold red]zz'" in plain(status)
        assert app.is_running and app.return_code is None


async def test_markup_in_a_failed_symbol_list_and_in_a_typed_symbol_is_plain() -> None:
    async def bad_gateway(endpoint: Endpoint) -> Sequence[Symbol]:
        raise ExchangeUnavailableError(HOSTILE_BODY)

    app = build_app(AppConfig(), symbols_loader=bad_gateway)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("1")
        picker = app.screen
        assert isinstance(picker, AssetPicker)
        await wait_for(pilot, lambda: picker.list_state is ListState.FAILED, "the failure")
        assert HOSTILE_BODY in plain(picker.query_one("#asset-status", Static))
        await pilot.press(*"zz[/", "enter")  # not a symbol: refused with a sentence quoting it
        await pilot.pause()
        assert "zz[/" in plain(picker.query_one("#asset-status", Static))
        assert isinstance(app.screen, AssetPicker) and app.is_running


async def test_markup_in_a_preselected_symbol_is_plain_in_the_lab_and_the_picker() -> None:
    app = build_app(AppConfig(symbol="[/]ZZ[bold red]USDT"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AssetPicker), "the asset picker")
        assert lab_of(app).message.startswith("[/]ZZ[bold red]USDT is not listed")
        picker = app.screen
        assert plain(picker.query_one("#asset-prompt", Static)).startswith("[/]ZZ[bold red]USDT is not listed")


async def test_markup_in_feed_messages_is_plain_in_the_header_signal_panel_and_log() -> None:
    factory = status_factory(
        FeedStatus(ConnectionState.CONNECTING, "Connecting to Binance.", "BTCUSDT", "1h"),
        FeedStatus(ConnectionState.RECONNECTING, HOSTILE_BODY, "BTCUSDT", "1h", retry_in=4.0),
    )
    app = build_app(live_config(), engine_factory=factory)
    async with app.run_test(size=(120, 40)) as pilot:
        live = await settle_live(pilot)
        assert "[/]</html> [bold red]boom[/bold red] [link=x]y" in plain(live.query_one(LiveHeader))
        assert "[/]" in plain(live.query_one(SignalPanel))
        assert any("[/]</html> [bold red]boom" in line for line in live.query_one(EventLog).lines)
        assert app.is_running


async def test_markup_in_an_engine_refusal_is_plain_in_the_header_and_log() -> None:
    def refusing(session: LiveSession) -> LiveScreen:
        raise ValueError(HOSTILE_BODY)

    app = build_app(live_config(), engine_factory=refusing)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live screen")
        live = app.screen
        await wait_for(pilot, lambda: live.failure is not None, "the refusal")
        await pilot.pause()
        assert HOSTILE_BODY in plain(live.query_one(LiveHeader))
        assert any(HOSTILE_BODY in line for line in live.query_one(EventLog).lines)
        assert app.is_running


class TableHost(App[None]):
    def compose(self) -> ComposeResult:
        yield StrategyTable(id="table")


async def test_markup_in_a_strategy_error_or_reason_is_plain_in_the_table() -> None:
    signal = Signal(Action.HOLD, 0.0, "[/] reason [bold red]x", MappingProxyType({}))
    rows = (
        StrategyRow("rsi", signal),
        StrategyRow("macd", Signal(Action.ERROR, 0.0, "", MappingProxyType({})), error=HOSTILE_BODY),
    )
    async with TableHost().run_test(size=(120, 12)) as pilot:
        table = pilot.app.query_one(StrategyTable)
        await pilot.pause()
        table.show_rows(rows)
        await pilot.pause()  # rendered, not only stored
        assert table.get_cell("rsi", "note").plain == "[/] reason [bold red]x"
        assert table.get_cell("macd", "note").plain == HOSTILE_BODY
        assert pilot.app.is_running
