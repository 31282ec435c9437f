"""One SMC strategy's forming-update step, alone: p50 per strategy, memo on and off.

Issue 11 asks a forming (not closed) update that changes nothing structural to cost O(1).
The engine-level figure (tick_latency.py) mixes eleven strategies, confluence and the
snapshot; this isolates the five SMC patterns so a change to their quiet path shows.

Each strategy is bootstrapped on the first 1000 candles of tests/data/candles/BTCUSDT-1h.csv
(window 1000, the engine's), then streamed `--candles` candles, each as `--updates` forming
versions (tick_latency's walk from open to close) and the close. Every forming update is
timed on two instances fed the same views: one as shipped (`forming_p50_us`) and one with
the quiet-path memo switched off (`forming_no_memo_p50_us`, the baseline in the same run;
equal to the first when the strategy has no memo). `closed_p50_us` times the closing step.

Prints JSON: {strategy: {forming_p50_us, forming_no_memo_p50_us, closed_p50_us}, ...}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.tick_latency import CSV, INTERVAL, WINDOW, forming_steps, percentile  # noqa: E402
from cryptoai_tui.market import Candle  # noqa: E402
from cryptoai_tui.market.series import CandleSeries  # noqa: E402
from cryptoai_tui.replay import read_candles_csv  # noqa: E402
from cryptoai_tui.strategies import parse_strategy_spec  # noqa: E402
from cryptoai_tui.strategies.base import Strategy  # noqa: E402

SMC = ("bos", "choch", "order_block", "fvg", "liquidity_sweep")


def without_memo(strategy: Strategy) -> Strategy:
    """The same strategy with its quiet-path memo off (a no-op before the memo existed)."""
    strategy.memoise = False  # type: ignore[attr-defined]
    return strategy


def timed_us(strategy: Strategy, view: object, confirmed: bool) -> float:
    started = time.perf_counter_ns()
    strategy.evaluate(view, confirmed=confirmed)  # type: ignore[arg-type]
    return (time.perf_counter_ns() - started) / 1000.0


def measure(name: str, history: list[Candle], live: list[Candle], updates: int) -> dict[str, float]:
    """p50s (µs) of one strategy's forming step with and without the memo, and its close."""
    fast = parse_strategy_spec(name)[0]
    slow = without_memo(parse_strategy_spec(name)[0])
    series = CandleSeries(WINDOW)
    for candle in history:
        series.append(candle)
        view = series.view()
        fast.evaluate(view, confirmed=True)
        slow.evaluate(view, confirmed=True)
    gc.collect()
    forming: list[float] = []
    baseline: list[float] = []
    closed: list[float] = []
    for candle in live:
        for step in forming_steps(candle, updates):
            series.set_forming(step)
            view = series.view(include_forming=True)
            forming.append(timed_us(fast, view, False))
            baseline.append(timed_us(slow, view, False))
        series.append(candle)
        view = series.view()
        closed.append(timed_us(fast, view, True))
        slow.evaluate(view, confirmed=True)
    return {
        "forming_p50_us": round(percentile(forming, 0.5), 2),
        "forming_no_memo_p50_us": round(percentile(baseline, 0.5), 2),
        "closed_p50_us": round(percentile(closed, 0.5), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=400, help="candles streamed (default 400)")
    parser.add_argument("--updates", type=int, default=9, help="forming updates per candle (default 9)")
    args = parser.parse_args(argv)
    candles = read_candles_csv(CSV, INTERVAL)
    history, live = candles[:WINDOW], candles[WINDOW:WINDOW + args.candles]
    result: dict[str, object] = {name: measure(name, history, live, args.updates) for name in SMC}
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
