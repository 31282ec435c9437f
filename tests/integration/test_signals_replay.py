"""`cryptoai-tui signals --replay` as a user runs it: a real subprocess over real candles."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from cryptoai_tui.replay import write_candles_csv
from cryptoai_tui.engine.history import history_signals
from cryptoai_tui.strategies.registry import STRATEGY_NAMES, parse_strategy_spec
from cryptoai_tui.strategies.signal import Action
from tests.conftest import load_candles

ROOT = Path(__file__).resolve().parents[2]


def signals(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptoai_tui", "signals", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_replay_prints_one_valid_json_line_per_warmed_up_close(tmp_path: Path) -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=300)
    path = tmp_path / "btc.csv"
    write_candles_csv(path, candles)

    result = signals("--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "all", "--mode", "majority",
                     "--replay", str(path))

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) > 200
    by_time = {c.open_time: c for c in candles}
    assert [line["open_time"] for line in lines] == [c.open_time for c in candles[-len(lines):]]
    # the history path (the same evaluator, no event loop) gives the same verdicts
    expected = history_signals(parse_strategy_spec("all"), candles)[-len(lines):]
    for line, reference in zip(lines, expected):
        assert set(line) == {"open_time", "close", "confluence", "strategies"}
        assert line["close"] == by_time[line["open_time"]].close
        assert set(line["confluence"]) == {"mode", "action", "confidence", "agree"}
        assert line["confluence"]["mode"] == "majority"
        assert line["confluence"]["action"] in {"BUY", "SELL", "HOLD"}
        assert 0.0 <= line["confluence"]["confidence"] <= 1.0
        assert set(line["confluence"]["agree"]) <= set(STRATEGY_NAMES)
        assert list(line["strategies"]) == list(STRATEGY_NAMES)
        for name, verdict in line["strategies"].items():
            signal = reference[name]
            assert verdict["action"] == signal.action.value != Action.WARMUP.value
            assert verdict["confidence"] == signal.confidence
            assert verdict["values"] == {
                k: (v if math.isfinite(v) else None) for k, v in signal.values.items()
            }
    assert {line["confluence"]["action"] for line in lines} >= {"HOLD"}
    assert any(v["action"] != "HOLD" for line in lines for v in line["strategies"].values())


def test_bad_choices_are_one_sentence_on_stderr_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "btc.csv"
    write_candles_csv(path, load_candles("BTCUSDT-1h.csv", limit=10))
    cases = [
        (["--interval", "1h", "--strategies", "rsi,macdd"], "Unknown strategy 'macdd'"),
        (["--interval", "1h", "--strategies", "rsi:period=ten"], "rsi parameter period must be a whole number"),
        (["--interval", "7x", "--strategies", "rsi"], "Unknown interval '7x'"),
        (["--interval", "5m", "--strategies", "rsi"], "candles are 1h apart but the interval is 5m"),
    ]
    for extra, message in cases:
        result = signals("--symbol", "BTCUSDT", *extra, "--replay", str(path))
        assert result.returncode == 2, (extra, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("cryptoai-tui: ") and message in result.stderr
