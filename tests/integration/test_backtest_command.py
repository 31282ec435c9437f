"""`cryptoai-tui backtest` end to end: CSVs, downloads from the simulator's REST over loopback
through the cache, sentences for bad input, and sweeps equal to plain backtests."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from cryptoai_tui.backtest.candles import parse_date
from cryptoai_tui.backtest.engine import TradeModel
from cryptoai_tui.backtest.runner import run_backtest
from cryptoai_tui.backtest.vectorised import ohlcv_of
from cryptoai_tui.cli import main
from cryptoai_tui.market.candle_csv import read_candle_csv, write_candle_csv
from cryptoai_tui.sim.market import MarketModel
from tests.conftest import CANDLES_DIR, load_candles

HOUR = 3_600_000
FIGURES = {
    "trades", "win_rate", "total_return", "annualised_return", "max_drawdown", "sharpe",
    "profit_factor", "exposure", "buy_and_hold_return", "first_open_time", "last_open_time",
}


def gap_free_csv(tmp_path: Path, count: int = 1800) -> tuple[Path, list]:
    """The longest gap-free stretch of the real BTC file (its tail), as its own CSV."""
    candles = load_candles("BTCUSDT-1h.csv")[-count:]
    path = tmp_path / "BTCUSDT-1h.csv"
    write_candle_csv(path, candles)
    return path, candles


def backtest(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["backtest", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_replay_json_has_every_figure_and_equals_the_library_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, candles = gap_free_csv(tmp_path)
    trades, equity = tmp_path / "trades.csv", tmp_path / "equity.csv"
    status, out, _ = backtest(
        capsys, "--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "all", "--mode", "any",
        "--replay", str(path), "--format", "json", "--side", "long-short", "--fee-bps", "5",
        "--trades", str(trades), "--equity", str(equity),
    )
    assert status == 0
    figures = json.loads(out)
    assert FIGURES <= set(figures)
    expected = run_backtest(ohlcv_of(candles), "all", "any", TradeModel("long-short", 5.0), HOUR)
    assert figures == expected.summary.as_json()
    assert figures["trades"] > 5
    with trades.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == figures["trades"]
    assert {row["side"] for row in rows} == {"long", "short"}
    with equity.open() as handle:
        curve = list(csv.DictReader(handle))
    assert len(curve) == figures["candles"]
    assert float(curve[-1]["equity"]) == pytest.approx(1 + figures["total_return"], rel=1e-12)


def test_text_summary_and_help_state_the_trade_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = gap_free_csv(tmp_path, 600)
    status, out, _ = backtest(capsys, "--symbol", "BTCUSDT", "--strategies", "rsi,macd", "--replay", str(path))
    assert status == 0
    assert "total return" in out and "buy and hold" in out and "max drawdown" in out
    with pytest.raises(SystemExit):
        main(["backtest", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a confirmed BUY opens a long at the next candle's open" in text
    assert "--fee-bps (default 10) is charged on each side's traded value" in text


def test_a_gap_and_unsorted_rows_name_the_first_bad_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = backtest(capsys, "--symbol", "BTCUSDT", "--strategies", "rsi",
                              "--replay", str(CANDLES_DIR / "BTCUSDT-1h.csv"))
    assert status == 2
    assert "BTCUSDT-1h.csv line 497" in err and "gap" in err and "--allow-gaps" in err
    lines = (CANDLES_DIR / "ETHUSDT-1h.csv").read_text().splitlines()[:300]
    lines[120], lines[121] = lines[121], lines[120]
    unsorted = tmp_path / "ETHUSDT-1h.csv"
    unsorted.write_text("\n".join(lines) + "\n")
    status, _, err = backtest(capsys, "--symbol", "ETHUSDT", "--strategies", "rsi", "--replay", str(unsorted))
    assert status == 2
    assert "line 122 is not in time order" in err
    status, _, _ = backtest(capsys, "--symbol", "BTCUSDT", "--strategies", "rsi", "--allow-gaps",
                            "--replay", str(CANDLES_DIR / "BTCUSDT-1h.csv"))
    assert status == 0


def test_too_few_candles_says_how_many_are_needed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = gap_free_csv(tmp_path, 40)
    status, _, err = backtest(capsys, "--symbol", "BTCUSDT", "--strategies", "rsi,bos", "--replay", str(path))
    assert status == 2
    # bos needs 50 candles of warm-up; one more to trade on.
    assert "The span has 40 candles but the chosen strategies need at least 51" in err


def test_download_from_the_simulator_is_cached_reused_and_extended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    common = ["--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "all", "--exchange", "sim",
              "--seed", "5", "--cache-dir", str(cache), "--format", "json"]
    status, out, err = backtest(capsys, *common, "--start", "2026-08-01", "--end", "2026-09-01")
    assert status == 0, err
    assert "downloading BTCUSDT 1h from sim" in err and "744/744" in err  # 31 days of hours
    files = list(cache.iterdir())
    assert [f.name for f in files] == ["sim-seed5-BTCUSDT-1h.csv"]
    stored = read_candle_csv(files[0]).candles
    start, end = parse_date("2026-08-01", "--start"), parse_date("2026-09-01", "--end")
    truth = MarketModel(5).closed_candles("BTCUSDT", "1h", start, end - 1, now_ms=end * 2)
    assert [(c.open_time, c.open, c.high, c.low, c.close, c.volume) for c in stored] == [
        (c.open_time, c.open, c.high, c.low, c.close, c.volume) for c in truth
    ]
    first = json.loads(out)

    # Inside the cached span: no request at all, the same figures.
    status, again, err = backtest(capsys, *common, "--start", "2026-08-01", "--end", "2026-09-01")
    assert status == 0 and "downloading" not in err
    assert json.loads(again) == first

    # Reaching past it: only the missing week is fetched, and the file grows.
    status, _, err = backtest(capsys, *common, "--start", "2026-07-25", "--end", "2026-09-01")
    assert status == 0 and "168/168" in err
    assert len(read_candle_csv(files[0]).candles) == 744 + 168


def test_a_sweep_row_equals_the_plain_backtest_with_its_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, candles = gap_free_csv(tmp_path, 1200)
    results = tmp_path / "results.csv"
    status, out, err = backtest(
        capsys, "--symbol", "BTCUSDT", "--strategies", "macd,bos", "--mode", "any", "--replay", str(path),
        "--sweep", "rsi:period=7..21:7,lower=20..30:10", "--results", str(results), "--workers", "2",
        "--rank-by", "sharpe",
    )
    assert status == 0, err
    assert "sweeping 6 combinations" in err and "6/6" in err
    with results.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert {(row["rsi.period"], row["rsi.lower"]) for row in rows} == {
        (p, lo) for p in ("7", "14", "21") for lo in ("20", "30")
    }
    sharpes = [float(row["sharpe"]) for row in rows]
    assert sharpes == sorted(sharpes, reverse=True)
    for row in rows:
        status, plain, _ = backtest(
            capsys, "--symbol", "BTCUSDT", "--strategies", row["strategies"], "--mode", "any",
            "--replay", str(path), "--format", "json",
        )
        figures = json.loads(plain)
        for key, value in figures.items():
            assert row[key] == ("" if value is None else str(value)), (row["strategies"], key)
    assert len({row["total_return"] for row in rows}) > 1  # the parameters matter


def test_ray_without_the_extra_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    path, _ = gap_free_csv(tmp_path, 300)
    status, _, err = backtest(capsys, "--symbol", "BTCUSDT", "--replay", str(path),
                              "--sweep", "rsi:period=7..14:7", "--ray", "auto")
    assert status == 2
    assert 'pip install "cryptoai-tui[ray]"' in err


def test_a_sweep_on_ray_equals_the_local_one(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from cryptoai_tui.backtest import sweep

    _, candles = gap_free_csv(tmp_path, 900)
    data = ohlcv_of(candles)
    combos = sweep.combinations("rsi:period=7..21:7;ema_cross:fast=5..9:4", "bos")
    settings = ("any", TradeModel(), HOUR, 1000)
    local = sweep.run_local(data, combos, settings, workers=1)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = sweep.run_ray(data, combos, settings, address=None)
    finally:
        ray.shutdown()
    assert [dict(row.summary) for row in remote] == [dict(row.summary) for row in local]
    assert len(remote) == 6


def test_journal_holds_the_signals_the_backtest_traded_on_once_however_often_it_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13 §1: `backtest --journal` writes the span's confirmed signals as history entries;
    they are `signals --replay`'s own (one evaluation path), and a second run adds nothing."""
    from cryptoai_tui.journal.store import JournalStore

    path, _ = gap_free_csv(tmp_path, 600)
    journal = tmp_path / "journal.sqlite"
    common = ("--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "rsi,macd,ema_cross", "--mode", "2")
    status, out, err = backtest(capsys, *common, "--replay", str(path), "--journal", str(journal),
                                "--format", "json")
    assert status == 0, err
    assert "journaling the confirmed signals of 600 candles" in err
    trades = json.loads(out)["trades"]
    assert main(["signals", *common, "--replay", str(path), "--no-journal"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    with JournalStore(journal) as store:
        rows = [r.entry for r in store.iter_all()]
    assert rows and trades >= 1
    assert [(r.open_time, r.action) for r in rows] == [
        (line["open_time"], line["confluence"]["action"]) for line in printed]
    assert all(r.history for r in rows)
    backtest(capsys, *common, "--replay", str(path), "--journal", str(journal))
    with JournalStore(journal) as store:
        assert store.count() == len(rows)


@pytest.mark.parametrize("stop, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_download_stopped_by_ctrl_c_or_sigterm_exits_130_or_143_without_a_traceback(
        tmp_path: Path, stop: str, status: int) -> None:
    """SIGTERM used to land inside the in-process simulator's request handler, which logged a
    traceback and went on: the backtest then finished and exited 0."""
    import os
    import signal
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoai_tui", "backtest", "--symbol", "BTCUSDT", "--interval", "1m",
         "--strategies", "rsi", "--exchange", "sim", "--start", "2024-01-01"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "CRYPTOAI_TUI_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert process.stderr is not None
    seen = b""
    while b"downloading" not in seen:  # the download is under way
        chunk = process.stderr.read1(4096)  # type: ignore[attr-defined]
        assert chunk, "backtest ended before downloading"
        seen += chunk
    process.send_signal(getattr(signal, stop))
    out, err = process.communicate(timeout=60)
    assert process.returncode == status, (seen + err).decode()[-500:]
    assert b"Traceback" not in seen + err and out == b""
