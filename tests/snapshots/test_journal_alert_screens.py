"""The Journal and Alerts screens at 120x40 and 80x24, from real files with fixed contents
(journal rows from tests/journal_entries.py, ledger lines at fixed times), opened by keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition
from cryptoai_tui.config import UserConfig, save_config
from cryptoai_tui.journal.entry import DeliveryRecord
from cryptoai_tui.journal.store import Grade, JournalStore
from cryptoai_tui.tui.session import AppConfig
from tests.journal_entries import HOUR_MS, T0, entry
from tests.snapshots.apps import SIZE, build_app

SMALL = (80, 24)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    journal, config = tmp_path / "journal.sqlite", tmp_path / "config.toml"
    with JournalStore(journal) as store:
        store.add([
            entry(n, symbol=("ETHUSDT" if n % 3 == 0 else "BTCUSDT"), action=("SELL" if n % 2 else "BUY"),
                  close=60_000 + 150 * n, triggered_by=(("macd",) if n % 4 == 0 else ("rsi",)),
                  mode=("all" if n % 5 == 0 else "majority"))
            for n in range(240)
        ], now_ms=T0)
        # graded as far as candles have closed after each: the newest rows still wait
        store.grade([Grade("binance", symbol, "1h", T0 + n * HOUR_MS, h, 0.001 * (h - n % 7))
                     for symbol in ("BTCUSDT", "ETHUSDT") for h in (1, 5, 20) for n in range(240 - h)])
        store.record_deliveries([
            DeliveryRecord(T0 + 60_000, "json://127.0.0.1:8080/hook", ("a2",), "sent", 1, 1, 200),
            DeliveryRecord(T0 + 120_000, "tgram://***", ("a1",), "retried", 1, 3, 429, "429 Too Many Requests"),
            DeliveryRecord(T0 + 121_000, "tgram://***", ("a1",), "sent", 2, 3, 200),
        ])
    save_config(config, UserConfig(alerts=(
        AlertRule("a1", "BTCUSDT", parse_condition("price above 120000"),
                  notify=("tgram://123456:SECRETTOKEN/987654",), cooldown_s=900),
        AlertRule("a2", "ETHUSDT", parse_condition("rsi < 25"), notify=("json://127.0.0.1:8080/hook",),
                  interval="1h", frequency=Frequency.ONCE, app_notify=("toast",)),
        AlertRule("a3", "BTCUSDT", parse_condition("signal BUY"), frequency=Frequency.EVERY),
    )))
    return journal, config


def _opened(*keys: str):
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return run_before


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_journal_screen_pages_the_newest_signals_with_grades(snap_compare, files, size) -> None:
    journal, config = files
    app = build_app(AppConfig(), journal_path=journal, config_path=config)
    assert snap_compare(app, terminal_size=size, run_before=_opened("j"))


def test_journal_screen_shows_a_signals_details(snap_compare, files) -> None:
    journal, config = files
    app = build_app(AppConfig(), journal_path=journal, config_path=config)
    assert snap_compare(app, terminal_size=SIZE, run_before=_opened("j", "down", "down", "down", "down", "down", "down", "enter"))


def test_journal_stats_rank_strategies_and_modes(snap_compare, files) -> None:
    journal, config = files
    app = build_app(AppConfig(), journal_path=journal, config_path=config)
    assert snap_compare(app, terminal_size=SIZE, run_before=_opened("j", "s"))


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_alerts_screen_lists_rules_masked_and_the_delivery_ledger(snap_compare, files, size) -> None:
    journal, config = files
    app = build_app(AppConfig(), journal_path=journal, config_path=config)
    assert snap_compare(app, terminal_size=size, run_before=_opened("a"))
