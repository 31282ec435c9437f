"""The Alerts screen as a user drives it: add a rule (a bad one shows the grammar), remove
it, test-send to a real loopback receiver, and see the delivery ledger; secrets masked."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from cryptoai_tui.config import UserConfig, load_config, save_config
from cryptoai_tui.alerts.rules import AlertRule, parse_condition
from cryptoai_tui.tui.screens.alerts import AlertsScreen
from cryptoai_tui.tui.session import AppConfig
from tests.integration.test_alert_delivery import Receiver, receiver  # noqa: F401 - the fixture
from tests.snapshots.apps import build_app


def _keys(text: str) -> list[str]:
    names = {" ": "space", "<": "less_than_sign", ":": "colon", "/": "slash", ".": "full_stop"}
    return [names.get(ch, ch) for ch in text]


def _text(screen: AlertsScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_add_refuse_remove_and_test_send(tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811
    config, journal = tmp_path / "config.toml", tmp_path / "journal.sqlite"
    secret_url = receiver.url("/hook").replace("json://", "json://bot:SECRET123@")
    save_config(config, UserConfig(alerts=(AlertRule("a1", "ETHUSDT", parse_condition("rsi < 25"),
                                                      notify=(secret_url,)),)))
    app = build_app(AppConfig(), journal_path=journal, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        rules = screen.query_one("#alerts-rules", DataTable)
        assert rules.row_count == 1
        assert all("SECRET123" not in str(cell) for cell in rules.get_row_at(0))

        await pilot.press("a")  # focus the form
        await pilot.press(*_keys("btcusdt"), "tab", *_keys("price sideways 5"), "enter")
        await pilot.pause()
        message = _text(screen, "#alerts-message")
        assert "is not a rule cryptoai-tui reads" in message and "price above|below" in message
        assert len(load_config(config).alerts) == 1

        screen.query_one("#alerts-rule").value = ""  # type: ignore[attr-defined]
        screen.query_one("#alerts-rule").focus()
        await pilot.press(*_keys("price above 120000"), "enter")
        await pilot.pause()
        assert [r.describe() for r in load_config(config).alerts] == [
            "ETHUSDT: rsi < 25", "BTCUSDT: price above 120,000"]
        assert rules.row_count == 2

        rules.move_cursor(row=1)
        await pilot.press("d")
        await pilot.pause()
        assert [r.id for r in load_config(config).alerts] == ["a1"]

        rules.move_cursor(row=0)
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert receiver.messages() == ["Test of alert a1: ETHUSDT: rsi < 25"]
        ledger = screen.query_one("#alerts-ledger", DataTable)
        assert ledger.row_count == 1
        cells = [str(c) for c in ledger.get_row_at(0)]
        assert cells[1] == "sent" and "SECRET123" not in " ".join(cells)
        assert "sent to json://" in _text(screen, "#alerts-message")
