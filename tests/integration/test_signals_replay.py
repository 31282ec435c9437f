"""`cryptoai-tui signals --replay` as a user runs it: a real subprocess over real candles."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timezone
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


LINE_KEYS = {"exchange", "symbol", "interval", "open_time", "time", "close", "history", "confluence", "strategies"}
CONFLUENCE_KEYS = {"mode", "action", "confidence", "triggered_by", "confirmed_by", "opposed_by", "reason"}


def test_replay_all_candles_prints_one_valid_json_line_per_warmed_up_close(tmp_path: Path) -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=300)
    path = tmp_path / "btc.csv"
    write_candles_csv(path, candles)

    result = signals("--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "all", "--mode", "majority",
                     "--replay", str(path), "--all-candles")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) > 200
    by_time = {c.open_time: c for c in candles}
    assert [line["open_time"] for line in lines] == [c.open_time for c in candles[-len(lines):]]
    # the history path (the same evaluator, no event loop) gives the same verdicts
    expected = history_signals(parse_strategy_spec("all"), candles)[-len(lines):]
    for line, reference in zip(lines, expected):
        assert set(line) == LINE_KEYS
        assert (line["exchange"], line["symbol"], line["interval"], line["history"]) == ("replay", "BTCUSDT", "1h", False)
        stamp = datetime.fromtimestamp(line["open_time"] / 1000, timezone.utc)
        assert line["time"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert line["close"] == by_time[line["open_time"]].close
        assert set(line["confluence"]) == CONFLUENCE_KEYS
        assert line["confluence"]["mode"] == "majority"
        assert line["confluence"]["action"] in {"BUY", "SELL", "HOLD"}
        assert 0.0 <= line["confluence"]["confidence"] <= 1.0
        named = line["confluence"]["triggered_by"] + line["confluence"]["confirmed_by"] + line["confluence"]["opposed_by"]
        assert set(named) <= set(STRATEGY_NAMES) and line["confluence"]["reason"]
        assert list(line["strategies"]) == list(STRATEGY_NAMES)
        for name, verdict in line["strategies"].items():
            signal = reference[name]
            assert verdict["action"] == signal.action.value != Action.WARMUP.value
            assert verdict["stance"] == signal.stance.value
            assert verdict["confidence"] == signal.confidence
            assert verdict["values"] == {
                k: (v if math.isfinite(v) else None) for k, v in signal.values.items()
            }
            if verdict["action"] in ("BUY", "SELL") and line["confluence"]["action"] != "HOLD":
                assert name in line["confluence"]["triggered_by"]
    assert {line["confluence"]["action"] for line in lines} >= {"HOLD"}
    assert any(v["action"] != "HOLD" for line in lines for v in line["strategies"].values())


def test_by_default_only_confirmed_buy_and_sell_lines_are_printed(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    write_candles_csv(path, load_candles("BTCUSDT-1h.csv", limit=600))
    common = ("--symbol", "BTCUSDT", "--interval", "1h", "--strategies", "all", "--mode", "3", "--replay", str(path))

    every = [json.loads(line) for line in signals(*common, "--all-candles").stdout.splitlines()]
    default = signals(*common)

    assert default.returncode == 0, default.stderr
    lines = [json.loads(line) for line in default.stdout.splitlines()]
    assert lines == [line for line in every if line["confluence"]["action"] in ("BUY", "SELL")]
    assert 0 < len(lines) < len(every)  # K=3 of 11 fires on real candles, not on every one
    for line in lines:
        confluence = line["confluence"]
        assert confluence["mode"] == "3" and confluence["triggered_by"]
        assert len(confluence["triggered_by"]) + len(confluence["confirmed_by"]) >= 3


def test_a_csv_named_after_another_symbol_is_refused_and_a_nameless_one_takes_the_given_symbol(
    tmp_path: Path,
) -> None:
    named = tmp_path / "BTCUSDT-1h.csv"
    nameless = tmp_path / "seen.csv"
    for path in (named, nameless):
        write_candles_csv(path, load_candles("BTCUSDT-1h.csv", limit=60))

    refused = signals("--symbol", "ETHUSDT", "--interval", "1h", "--strategies", "rsi", "--replay", str(named))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "cryptoai-tui: BTCUSDT-1h.csv holds BTCUSDT candles but --symbol is ETHUSDT: pass --symbol "
        "BTCUSDT, or rename the file if it really holds ETHUSDT."
    )
    labelled = signals("--symbol", "ETHUSDT", "--interval", "1h", "--strategies", "rsi", "--replay",
                       str(nameless), "--all-candles")
    assert labelled.returncode == 0, labelled.stderr
    lines = [json.loads(line) for line in labelled.stdout.splitlines()]
    assert lines and {line["symbol"] for line in lines} == {"ETHUSDT"}


def test_a_parameter_that_can_never_warm_up_and_a_count_above_n_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "btc.csv"
    write_candles_csv(path, load_candles("BTCUSDT-1h.csv", limit=10))
    cases = [
        (["--strategies", "rsi:period=100000"], "the window holds 1000: the largest period that fits is 998."),
        (["--strategies", "rsi,macd", "--mode", "3"], "only 2 are chosen: choose more strategies or a count of at most 2."),
    ]
    for extra, message in cases:
        result = signals("--symbol", "BTCUSDT", "--interval", "1h", *extra, "--replay", str(path))
        assert result.returncode == 2, (extra, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


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
