"""The app's live session journals what the engine confirmed and fires the armed alerts:
the real app factory and engine over a replay of real BTC candles, a real journal file, a
real loopback receiver for the alert target, and the app's own toast and bell."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.app import App

from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition
from cryptoai_tui.config import UserConfig, save_config
from cryptoai_tui.journal.store import JournalStore
from cryptoai_tui.replay import write_candles_csv
from tests.conftest import load_candles
from tests.integration.test_alert_delivery import Receiver, receiver  # noqa: F401 - the fixture
from tests.snapshots.apps import REPLAY_CANDLES, build_app, live_config, settle_live

ROOT = Path(__file__).resolve().parents[2]


async def test_a_live_session_journals_its_signals_and_fires_alerts(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    journal, config = tmp_path / "journal.sqlite", tmp_path / "config.toml"
    candles = load_candles("BTCUSDT-1h.csv", limit=REPLAY_CANDLES)
    closes = [c.close for c in candles]
    level = sorted(closes)[len(closes) // 2]
    save_config(config, UserConfig(alerts=(
        AlertRule("a1", "BTCUSDT", parse_condition(f"price crosses above {level}"),
                  notify=(receiver.url("/hook"),), frequency=Frequency.EVERY),
        AlertRule("a2", "ETHUSDT", parse_condition("price above 1"), notify=(receiver.url("/eth"),)),
    )))
    bells: list[None] = []
    monkeypatch.setattr(App, "bell", lambda self: bells.append(None))
    toasts: list[str] = []
    original_notify = App.notify

    def notify(self: App[object], message: str, *args: object, **kwargs: object) -> None:
        if str(kwargs.get("title", "")).startswith("Alert "):
            toasts.append(message)
        original_notify(self, message, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(App, "notify", notify)

    app = build_app(live_config(), journal_path=journal, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_live(pilot)
        await pilot.press("escape")  # leave the live screen: the session ends, hooks flush
        await pilot.pause()
        await app.workers.wait_for_complete()

    # what the same candles confirm through `signals --replay` (same strategies and mode)
    csv_path, reference = tmp_path / "btc.csv", tmp_path / "reference.sqlite"
    write_candles_csv(csv_path, candles)
    done = subprocess.run(
        [sys.executable, "-m", "cryptoai_tui", "signals", "--symbol", "BTCUSDT", "--interval", "1h",
         "--strategies", "all", "--mode", "any", "--replay", str(csv_path), "--journal", str(reference)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with JournalStore(journal) as store, JournalStore(reference) as expected:
        got = [(r.entry.open_time, r.entry.action) for r in store.iter_all()]
        want = [(r.entry.open_time, r.entry.action) for r in expected.iter_all()]
        live_rows = list(store.iter_all())
        ledger = store.deliveries(limit=1000)
    assert got == want and got
    assert not live_rows[-1].entry.history and live_rows[-1].entry.exchange == "binance"

    crossings = sum(1 for a, b in zip(closes, closes[1:]) if a < level <= b)
    assert crossings > 1
    assert len(receiver.messages()) == crossings  # ETHUSDT's rule is not for this session
    assert [d.state for _, d in ledger] == ["sent"] * crossings
    assert len(bells) == len(toasts) == crossings
    assert all(f"BTCUSDT price crosses above" in text for text in toasts)
