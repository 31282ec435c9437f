"""`cryptoai-tui watch` as a user runs it: a simulator in its own process, the command in
another, JSON lines per symbol and closed candle, Ctrl+C, and one-sentence mistakes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "cryptoai_tui", "watch", "--interval", "1m"]


def _sim(*extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`cryptoai-tui sim` on a free port; returns it and the flags its banner prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", "300", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "--exchange binance --ws-url" in line and "Binance spot" in line:
            flags = line.split("--exchange binance ", 1)[1].split()
            return process, flags
    raise AssertionError("the simulator printed no flags: " + (process.stderr.read() if process.stderr else ""))


def test_watch_prints_lines_for_every_symbol_and_ctrl_c_exits_cleanly() -> None:
    sim, flags = _sim("--symbols", "BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
    try:
        process = subprocess.Popen(
            [*COMMAND, "BTCUSDT", "eth/usdt", "--top", "3", "--strategies", "rsi,macd", "--mode", "any",
             "--history", "60", "--all-candles", "--exchange", "binance", *flags],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert process.stdout is not None
            by_symbol: dict[str, list[dict[str, object]]] = defaultdict(list)
            while len(by_symbol) < 3 or min(len(lines) for lines in by_symbol.values()) < 2:
                line = json.loads(process.stdout.readline())
                by_symbol[str(line["symbol"])].append(line)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            process.kill()
    finally:
        sim.terminate()
        sim.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert set(by_symbol) <= {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"} and {"BTCUSDT", "ETHUSDT"} <= set(by_symbol)
    assert "watching 3 symbols" in err or "watching 4 symbols" in err
    for symbol, lines in by_symbol.items():
        first = lines[0]
        assert list(first)[:4] == ["exchange", "symbol", "interval", "open_time"]
        assert first["exchange"] == "binance" and first["interval"] == "1m"
        assert list(first["strategies"]) == ["rsi", "macd"]  # type: ignore[arg-type]
        times = [line["open_time"] for line in lines]
        assert times == sorted(set(times)), f"{symbol} lines out of order or doubled"  # type: ignore[type-var]


def test_mistakes_are_one_sentence_and_exit_2() -> None:
    nothing = subprocess.run([*COMMAND, "--strategies", "rsi", "--exchange", "sim"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert nothing.returncode == 2 and "--top N" in nothing.stderr and nothing.stdout == ""
    unknown = subprocess.run([*COMMAND, "BTCUSDT", "BTCUSDX", "--strategies", "rsi", "--exchange", "sim"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and unknown.stdout == ""
    errors = [line for line in unknown.stderr.splitlines() if "BTCUSDX" in line]
    assert len(errors) == 1 and errors[0].startswith("cryptoai-tui: Unknown symbol 'BTCUSDX'")
    top = subprocess.run([*COMMAND, "--top", "0", "--strategies", "rsi", "--exchange", "sim"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert top.returncode == 2 and "--top takes 1 or more" in top.stderr
