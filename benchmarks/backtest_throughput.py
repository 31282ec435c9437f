"""Backtest throughput: the vectorised history path against the live evaluator, same run.

`vectorised_candles_per_s`: `backtest.vectorised.evaluate_vectorised` with all 11
strategies (majority confluence, 1,000-candle window semantics) over at least 200,000
candles, built by concatenating the real files in tests/data/candles end to end (each copy
re-timed to follow the previous one, prices as recorded; a join is one price jump, which
the strategies treat as any other bar). `event_candles_per_s`: `engine.history.
evaluate_history`, the live StrategyRunner one candle at a time, on the first 20,000 of the
same candles. `ratio` = vectorised / event. The best of `--repeat` vectorised runs is
reported (a shared machine only ever makes a run slower), and the same per second of CPU
time (what the code costs, whatever else the machine runs).

Usage: python benchmarks/backtest_throughput.py [--candles 220000] [--event 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptoai_tui.backtest.vectorised import evaluate_vectorised, ohlcv_of  # noqa: E402
from cryptoai_tui.engine.evaluator import EngineTiming  # noqa: E402
from cryptoai_tui.engine.history import evaluate_history  # noqa: E402
from cryptoai_tui.market.candle import Candle  # noqa: E402
from cryptoai_tui.market.candle_csv import read_candle_csv  # noqa: E402

CANDLES_DIR = ROOT / "tests" / "data" / "candles"


def concatenated(count: int) -> list[Candle]:
    """At least `count` real candles: the files end to end, repeated, re-timed to be contiguous."""
    files = [read_candle_csv(path).candles for path in sorted(CANDLES_DIR.glob("*.csv"))]
    step = 3_600_000
    out: list[Candle] = []
    next_open = files[0][0].open_time
    while len(out) < count:
        for candles in files:
            for c in candles:
                out.append(Candle(next_open, c.open, c.high, c.low, c.close, c.volume,
                                  next_open + step - 1))
                next_open += step
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=220_000)
    parser.add_argument("--event", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    candles = concatenated(args.candles)
    data = ohlcv_of(candles)
    best = best_cpu = float("inf")
    for _ in range(max(1, args.repeat)):
        started, cpu = time.perf_counter(), time.process_time()
        result = evaluate_vectorised("all", data, mode="majority", window=1000)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    refined = sum(track.refined for track in result.tracks)
    sample = candles[: args.event]
    started = time.perf_counter()
    live = evaluate_history("all", sample, mode="majority", window=1000,
                            timing=EngineTiming(strategy_budget_ms=1e9))
    event_seconds = time.perf_counter() - started
    # The same run proves the two agree on the slice (actions exactly).
    agree = bool(np.array_equal(
        np.array([{"BUY": 1, "SELL": -1}.get(s.confluence.action.value, 0) for s in live]),
        result.action[: len(live)],
    ))
    vectorised = len(candles) / best
    event = len(sample) / event_seconds
    print(json.dumps({
        "candles": len(candles),
        "vectorised_seconds": round(best, 4),
        "vectorised_candles_per_s": round(vectorised),
        "vectorised_candles_per_cpu_s": round(len(candles) / best_cpu),
        "event_candles": len(sample),
        "event_seconds": round(event_seconds, 3),
        "event_candles_per_s": round(event),
        "ratio": round(vectorised / event, 1),
        "bars_refined_by_live_code": refined,
        "actions_equal_on_event_slice": agree,
    }, indent=2))


if __name__ == "__main__":
    main()
