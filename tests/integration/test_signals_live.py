"""`cryptoai-tui signals` live against the built-in simulator (`--exchange sim`), as a user runs it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "cryptoai_tui", "signals", "--interval", "1m", "--exchange", "sim"]


def test_live_signals_stream_json_lines_and_ctrl_c_exits_cleanly() -> None:
    process = subprocess.Popen(
        [*COMMAND, "--symbol", "ETH/USDT", "--strategies", "rsi,macd", "--mode", "any", "--all-candles"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [json.loads(process.stdout.readline()) for _ in range(3)]
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err  # 128 + SIGINT, as shells report Ctrl+C
    assert [line["confluence"]["mode"] for line in lines] == ["any"] * 3
    assert {(line["exchange"], line["symbol"], line["interval"]) for line in lines} == {("sim", "ETHUSDT", "1m")}
    assert lines[0]["history"] is True  # the first closes are the start-up history
    assert list(lines[0]["strategies"]) == ["rsi", "macd"]
    assert lines[0]["open_time"] < lines[1]["open_time"] < lines[2]["open_time"]
    assert "Traceback" not in err
    assert err.splitlines()[0].startswith("cryptoai-tui: Connecting")


def test_unknown_symbol_is_one_sentence_and_exit_2() -> None:
    result = subprocess.run(
        [*COMMAND, "--symbol", "BTCUSDX", "--strategies", "rsi"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "BTCUSDX" in line]
    assert len(errors) == 1 and errors[0].startswith("cryptoai-tui: Unknown symbol 'BTCUSDX'")
