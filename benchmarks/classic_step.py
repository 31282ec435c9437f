"""Per-step cost of the six classic strategies, against the TA-Lib stream call they wrap.

Why: the classic strategies read their indicators from TA-Lib streaming handles (one C call
per bar), so what a tick costs beyond that call is the Python glue around it (issue 11).
This prints that glue as nanoseconds and as a ratio to the raw handle call measured in the
same run, so a figure from a busy machine still reads against its own baseline.

For each of the candles after the first 1,000 of tests/data/candles/BTCUSDT-1h.csv:
`--updates` forming versions of the candle (close walking from open to the final close),
each evaluated by every strategy with `confirmed=False` (a forming step: one peek), then the
closed candle evaluated with `confirmed=True` (a closed step: one update). Only the
`evaluate` call is timed; the series' own bookkeeping is not.

Baseline: `talib.stream.RSI(...).peek(close)` and `.update(close)` on an open handle, and the
plain `Signal(...)` constructor, timed the same way (one perf_counter_ns pair per call) in
the same loop, next to the strategy calls, so clock drift on a shared machine hits both.

Prints JSON: per strategy forming_p50_ns, closed_p50_ns and their ratios to the baseline.
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

import numpy as np  # noqa: E402

from cryptoai_tui.market import Candle, Interval  # noqa: E402
from cryptoai_tui.market.series import CandleSeries  # noqa: E402
from cryptoai_tui.replay import read_candles_csv  # noqa: E402
from cryptoai_tui.strategies import parse_strategy_spec  # noqa: E402
from cryptoai_tui.strategies.indicators import talib  # noqa: E402
from cryptoai_tui.strategies.signal import Action, Signal, Stance  # noqa: E402

CSV = ROOT / "tests" / "data" / "candles" / "BTCUSDT-1h.csv"
WINDOW = 1000
CLASSIC = "rsi,ema_cross,bollinger,macd,stochastic,adx"


def forming_steps(candle: Candle, updates: int) -> list[Candle]:
    """`updates` forming versions of `candle` whose close walks from open to the final close."""
    steps = []
    for k in range(1, updates + 1):
        close = candle.open + (candle.close - candle.open) * k / (updates + 1)
        steps.append(Candle(candle.open_time, candle.open, max(candle.open, close),
                            min(candle.open, close), close, candle.volume * k / (updates + 1),
                            candle.close_time, False))
    return steps


def p50(samples: list[int]) -> float:
    ordered = sorted(samples)
    return float(ordered[len(ordered) // 2])


def measure(candles: list[Candle], live: int, updates: int) -> tuple[dict[str, dict[str, float]],
                                                                      dict[str, float]]:
    """Per-strategy p50s (ns) and the baseline's, timed in the same loop: on this shared
    machine the clock speed drifts between runs, so the baseline is timed next to each
    strategy call rather than before them all."""
    strategies = parse_strategy_spec(CLASSIC)
    series = CandleSeries(WINDOW)
    series.extend(candles[:WINDOW])
    for strategy in strategies:  # bootstrap (not timed): warms each state on the window
        strategy.evaluate(series.view(), confirmed=True)
    handle = talib.stream.RSI(np.array([c.close for c in candles[:WINDOW]]), timeperiod=14)
    forming: dict[str, list[int]] = {s.name: [] for s in strategies}
    closed: dict[str, list[int]] = {s.name: [] for s in strategies}
    base: dict[str, list[int]] = {"talib_peek_ns": [], "talib_update_ns": [],
                                  "signal_init_ns": [], "timer_ns": []}
    peeks, updates_, inits, empty = (base[k] for k in base)
    hold, neutral, values = Action.HOLD, Stance.NEUTRAL, {"x": 1.0}
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()  # a collection inside one timed call says nothing about that call
    try:
        for candle in candles[WINDOW:WINDOW + live]:
            for step in forming_steps(candle, updates):
                series.set_forming(step)
                view = series.view(include_forming=True)
                close = step.close
                for strategy in strategies:
                    t0 = clock()
                    strategy.evaluate(view, confirmed=False)
                    t1 = clock()
                    handle.peek(close)
                    t2 = clock()
                    Signal(hold, 0.0, "", values, neutral)
                    t3 = clock()
                    t4 = clock()
                    forming[strategy.name].append(t1 - t0)
                    peeks.append(t2 - t1)
                    inits.append(t3 - t2)
                    empty.append(t4 - t3)
            series.append(candle)
            view = series.view()
            for strategy in strategies:
                t0 = clock()
                strategy.evaluate(view, confirmed=True)
                closed[strategy.name].append(clock() - t0)
            t0 = clock()
            handle.update(candle.close)
            updates_.append(clock() - t0)
    finally:
        gc.enable()
    steps = {s.name: {"forming": p50(forming[s.name]), "closed": p50(closed[s.name])}
             for s in strategies}
    return steps, {name: p50(samples) for name, samples in base.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=1000,
                        help="live candles after the window (default 1000)")
    parser.add_argument("--updates", type=int, default=9,
                        help="forming updates per candle (default 9)")
    args = parser.parse_args(argv)

    candles = read_candles_csv(CSV, Interval.parse("1h"))
    steps, base = measure(candles, args.candles, args.updates)
    peek, update = base["talib_peek_ns"], base["talib_update_ns"]
    print(json.dumps({
        "candles": args.candles,
        "updates": args.updates,
        "window": WINDOW,
        "baseline": base,
        "strategies": {
            name: {
                "forming_p50_ns": round(s["forming"]),
                "closed_p50_ns": round(s["closed"]),
                "forming_x_peek": round(s["forming"] / peek, 1),
                "closed_x_update": round(s["closed"] / update, 1),
            }
            for name, s in steps.items()
        },
        "forming_p50_ns_sum": round(sum(s["forming"] for s in steps.values())),
        "closed_p50_ns_sum": round(sum(s["closed"] for s in steps.values())),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
