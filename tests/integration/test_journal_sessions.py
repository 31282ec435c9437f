"""The journal and the alerts hooked into `signals`, run as a user runs them (cli.main, real
files, a real loopback HTTP receiver for the alert targets)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cryptoai_tui.cli import main
from cryptoai_tui.config import load_config, save_config, UserConfig
from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition
from cryptoai_tui.journal.store import JournalStore
from cryptoai_tui.replay import write_candles_csv
from tests.conftest import load_candles
from tests.integration.test_alert_delivery import Receiver, receiver  # noqa: F401 - the fixture
from tests.unit.synthetic_candles import from_closes


def _signals(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    code = main(["signals", *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return [json.loads(line) for line in out.out.splitlines()]


def test_a_replay_is_journaled_once_however_often_it_is_replayed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = tmp_path / "btc.csv"
    write_candles_csv(csv_path, load_candles("BTCUSDT-1h.csv", limit=400))
    journal = tmp_path / "j.sqlite"
    args = ("--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi,macd,ema_cross",
            "--replay", str(csv_path), "--journal", str(journal))

    lines = _signals(capsys, *args, "--all-candles")  # every close, for the grades below
    confirmed = [line for line in lines if line["confluence"]["action"] in ("BUY", "SELL")]  # type: ignore[index]
    assert confirmed, "the replay should confirm some signals"
    _signals(capsys, *args)  # a restart replaying the same candles

    with JournalStore(journal) as store:
        assert store.count() == len(confirmed)
        rows = list(store.iter_all())
    assert [r.entry.open_time for r in rows] == [line["open_time"] for line in confirmed]
    first = rows[0].entry
    assert first.history and first.exchange == "replay" and first.app_version
    assert set(first.strategies) == {"rsi", "macd", "ema_cross"}
    assert {v.stance for v in first.strategies.values()} <= {"bullish", "bearish", "neutral"}
    assert len({r.entry.session_id for r in rows}) == 1  # the second run stored nothing new
    # graded: a signal with 20 closed candles after it has all three returns
    early = rows[0]
    later_closes = {line["open_time"]: line["close"] for line in lines}
    assert early.returns[1] is not None and early.returns[20] is not None
    times = sorted(later_closes)
    after = times[times.index(first.open_time) + 1]
    assert early.returns[1] == pytest.approx(later_closes[after] / first.close - 1.0)

    assert main(["journal", "list", "--journal", str(journal), "--limit", "5"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("time (UTC)") and len(listing) == 6
    assert all("BTCUSDT" in line and "(history)" in line for line in listing[1:])


def test_no_journal_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = tmp_path / "btc.csv"
    write_candles_csv(csv_path, load_candles("BTCUSDT-1h.csv", limit=200))
    _signals(capsys, "--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi",
             "--replay", str(csv_path), "--no-journal")
    assert not any(tmp_path.rglob("*.sqlite"))


def _crossing_csv(path: Path, crossings: int) -> None:
    """Closes that cross 110 upwards `crossings` times, 4 candles apart."""
    closes: list[float] = []
    for _ in range(crossings):
        closes += [100.0, 101.0, 102.0, 120.0]
    write_candles_csv(path, from_closes(closes + [100.0]))


def _arm(config: Path, *rules: AlertRule) -> None:
    save_config(config, UserConfig(alerts=rules))


@pytest.mark.parametrize(("frequency", "cooldown_h", "expected"), [
    (Frequency.EVERY, 0, 6), (Frequency.ONCE, 0, 1), (Frequency.EVERY, 6, 3),
])
def test_signals_replay_fires_armed_rules_only_with_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], receiver: Receiver,  # noqa: F811
    frequency: Frequency, cooldown_h: int, expected: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    csv_path, config, journal = tmp_path / "x.csv", tmp_path / "config.toml", tmp_path / "j.sqlite"
    _crossing_csv(csv_path, 6)
    _arm(config, AlertRule("a1", "BTCUSDT", parse_condition("price crosses above 110"),
                           notify=(receiver.url("/hook"),), frequency=frequency, cooldown_s=cooldown_h * 3600))
    base = ["--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi", "--replay", str(csv_path),
            "--journal", str(journal)]
    monkeypatch.setenv("CRYPTOAI_TUI_CONFIG", str(config))

    _signals(capsys, *base)
    assert receiver.messages() == []  # a replay never notifies by surprise

    _signals(capsys, *base, "--alerts")
    messages = receiver.messages()
    assert len(messages) == expected
    assert all("BTCUSDT price crosses above 110" in m for m in messages)
    with JournalStore(journal) as store:
        ledger = store.deliveries(limit=100)
    assert [d.state for _, d in ledger] == ["sent"] * expected
    assert all(d.rule_ids == ("a1",) and d.target.startswith("json://127.0.0.1") for _, d in ledger)


def test_ledger_and_errors_never_hold_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], receiver: Receiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csv_path, config, journal = tmp_path / "x.csv", tmp_path / "config.toml", tmp_path / "j.sqlite"
    _crossing_csv(csv_path, 1)
    secret = "SECRETTOKENabc123"
    # every attempt is refused (429, retry at once) until the retries run out
    receiver.script = [(429, {"Retry-After": "0"})] * 6
    url = receiver.url("/hook").replace("json://", f"json://user:{secret}@")
    _arm(config, AlertRule("a1", "BTCUSDT", parse_condition("price crosses above 110"),
                           notify=(url,), frequency=Frequency.EVERY))
    monkeypatch.setenv("CRYPTOAI_TUI_CONFIG", str(config))

    _signals(capsys, "--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi", "--replay",
             str(csv_path), "--journal", str(journal), "--alerts")

    with JournalStore(journal) as store:
        ledger = [d for _, d in store.deliveries(limit=100)]
    assert [d.state for d in ledger] == ["dropped"] + ["retried"] * 5  # newest first
    assert all(d.status == 429 for d in ledger)
    raw = sqlite3.connect(journal).execute("SELECT target, error FROM deliveries").fetchall()
    assert raw and all(secret not in str(cell) for row in raw for cell in row)
    assert secret in load_config(config).alerts[0].notify[0]  # the config file keeps it, 0600
    assert config.stat().st_mode & 0o077 == 0


def test_signals_live_fires_armed_rules_once_live_and_journals_live_entries(
    tmp_path: Path, receiver: Receiver,  # noqa: F811
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    config, journal = tmp_path / "config.toml", tmp_path / "j.sqlite"
    _arm(config,
         AlertRule("a1", "BTCUSDT", parse_condition("price above 1"), notify=(receiver.url("/once"),),
                   frequency=Frequency.ONCE),
         AlertRule("a2", "BTCUSDT", parse_condition("signal any"), notify=(receiver.url("/sig"),),
                   frequency=Frequency.EVERY))
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoai_tui", "signals", "--exchange", "sim", "--symbol", "BTCUSDT",
         "--interval", "1m", "--strategies", "rsi,macd,ema_cross", "--mode", "any", "--sim-speed", "600",
         "--journal", str(journal)],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,  # stdout unread: no pipe to fill
        env={**os.environ, "CRYPTOAI_TUI_CONFIG": str(config)},
    )
    try:
        deadline = time.monotonic() + 60  # a hang guard, not a speed requirement
        while time.monotonic() < deadline and not any("confirmed" in m for m in receiver.messages()):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    messages = receiver.messages()
    assert sum(1 for m in messages if "price above 1" in m) == 1  # once, and not per history candle
    signal_messages = [m for m in messages if "confirmed" in m]
    assert signal_messages
    with JournalStore(journal) as store:
        rows = list(store.iter_all())
    live = [r for r in rows if not r.entry.history]
    assert rows and live and all(r.entry.exchange == "sim" for r in rows)
    # the 500 history candles were journaled as history and never notified anyone
    assert len(signal_messages) <= len(live) < len(rows)


def test_a_journal_that_cannot_keep_up_says_how_many_signals_it_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptoai_tui.journal import writer

    csv_path = tmp_path / "btc.csv"
    write_candles_csv(csv_path, load_candles("BTCUSDT-1h.csv", limit=400))
    # a queue of one item and a disk that takes 50 ms a transaction: the replay overruns it
    import time

    original, original_write = writer.JournalWriter.__init__, writer.JournalWriter._write

    def tiny(self: writer.JournalWriter, *args: object, **kwargs: object) -> None:
        kwargs["capacity"] = 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    def slow(self: writer.JournalWriter, *args: object) -> None:
        time.sleep(0.05)
        original_write(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.JournalWriter, "__init__", tiny)
    monkeypatch.setattr(writer.JournalWriter, "_write", slow)
    code = main(["signals", "--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi,macd,ema_cross",
                 "--replay", str(csv_path), "--journal", str(tmp_path / "j.sqlite")])
    err = capsys.readouterr().err
    assert code == 0
    assert "missed signals:" in err and "refused (its queue was full)" in err
