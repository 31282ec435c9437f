"""Replay throughput: confirmed candles per second through all 11 strategies on the event path.

Input: tests/data/candles/BTCUSDT-1h.csv repeated (each copy shifted forward in time, so
the open times keep rising) to at least `--candles` (default 100,000) candles, written to
a temporary CSV.

Runs exactly what `cryptoai-tui signals --replay CSV --strategies all` runs (CSV reader,
ReplaySource, RealtimeStrategyEngine with a 1000-candle window, the JSON-line printer),
writing the lines to an in-memory buffer instead of a terminal. In the same run, on the
same input, it splits that figure into its parts:

* `engine_only`: the same replay with no printer (the engine's event path alone);
* `stdlib_json`: the full replay with the lines encoded by `json` instead of orjson;
* `encoding_share`: the part of the full run's CPU time the JSON lines take;
* `plain_loop`: `engine.history.evaluate_history`, the same evaluator in a plain loop (no
  event loop, no events, no output): what the event path costs on top of evaluation.

`--reference DIR` also runs the same measurement, in a subprocess on the same input, with
the package found in DIR (e.g. /work/main): today's figure beside ours on a noisy machine.

Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
CSV = ROOT / "tests" / "data" / "candles" / "BTCUSDT-1h.csv"
SYMBOL = "BTCUSDT"


def repeated_csv(target: int, directory: Path) -> Path:
    """BTCUSDT-1h.csv repeated until it holds at least `target` candles, as a new CSV."""
    from cryptoai_tui.market import Interval
    from cryptoai_tui.replay import read_candles_csv, write_candles_csv

    interval = Interval.parse("1h")
    base = read_candles_csv(CSV, interval)
    shift = base[-1].open_time - base[0].open_time + interval.ms
    candles = []
    copy = 0
    while len(candles) < target:
        offset = copy * shift
        candles.extend(replace(c, open_time=c.open_time + offset, close_time=c.close_time + offset)
                       for c in base)
        copy += 1
    path = directory / f"{SYMBOL}-1h-x{copy}.csv"
    write_candles_csv(path, candles)
    return path


def replay(path: Path, *, print_lines: bool, orjson: bool = True) -> dict[str, float]:
    """One `signals --replay` run; with `print_lines` False, the engine alone; with
    `orjson` False, the lines written by the standard library's encoder."""
    from cryptoai_tui.commands.signals import LineContext, SignalPrinter, line_encoder
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.market import Interval
    from cryptoai_tui.replay import ReplaySource

    interval = Interval.parse("1h")
    source = ReplaySource.from_csv(path, SYMBOL, interval)
    started, cpu_started = time.perf_counter(), time.process_time()
    engine = RealtimeStrategyEngine(SYMBOL, interval, "all", "majority", "replay")
    printer = SignalPrinter(io.StringIO(), flush_each=False, context=LineContext("replay", SYMBOL, interval.name),
                            all_candles=True, encode=line_encoder(prefer_orjson=orjson)) if print_lines else None
    if printer is not None:
        engine.add_listener(on_confirmed=printer)
    asyncio.run(engine.run(source))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    candles = len(source.candles)
    assert engine.snapshot.metrics.messages_processed == candles
    assert engine.snapshot.metrics.strategy_errors == 0
    return {"candles": candles, "seconds": round(seconds, 3),
            "candles_per_second": round(candles / seconds),
            "cpu_candles_per_second": round(candles / cpu),
            "lines": printer.lines if printer is not None else 0}


def plain_loop(path: Path) -> dict[str, float]:
    from cryptoai_tui.engine.history import evaluate_history
    from cryptoai_tui.market import Interval
    from cryptoai_tui.replay import read_candles_csv

    candles = read_candles_csv(path, Interval.parse("1h"))
    started, cpu_started = time.perf_counter(), time.process_time()
    evaluate_history("all", candles)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"seconds": round(seconds, 3), "candles_per_second": round(len(candles) / seconds),
            "cpu_candles_per_second": round(len(candles) / cpu)}


def measure(path: Path) -> dict[str, object]:
    full = replay(path, print_lines=True)
    engine = replay(path, print_lines=False)
    stdlib = replay(path, print_lines=True, orjson=False)
    plain = plain_loop(path)
    try:
        import orjson  # noqa: F401

        encoder = "orjson"
    except ImportError:
        encoder = "json"
    import cryptoai_tui

    return {
        "package": str(Path(cryptoai_tui.__file__).parent),
        "candles": full["candles"],
        "lines": full["lines"],
        "seconds": full["seconds"],
        "candles_per_second": full["candles_per_second"],
        # CPU time: on a shared machine the wall clock also counts the neighbours' turns
        "cpu_candles_per_second": full["cpu_candles_per_second"],
        "engine_only_candles_per_second": engine["candles_per_second"],
        "engine_only_cpu_candles_per_second": engine["cpu_candles_per_second"],
        "encoding_share": round(max(0.0, 1.0 - full["cpu_candles_per_second"]
                                    / engine["cpu_candles_per_second"]), 3),
        # the full run again with the lines written by json instead of orjson
        "stdlib_json_candles_per_second": stdlib["candles_per_second"],
        "stdlib_json_cpu_candles_per_second": stdlib["cpu_candles_per_second"],
        "plain_loop_candles_per_second": plain["candles_per_second"],
        "plain_loop_cpu_candles_per_second": plain["cpu_candles_per_second"],
        "orjson_installed": encoder == "orjson",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=100_000, help="at least this many candles")
    parser.add_argument("--reference", type=Path, help="also measure the package in this checkout")
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)  # the reference run's CSV
    parser.add_argument("--package-root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.package_root or ROOT))

    if args.input is not None:  # a reference run: measure the given CSV and print only that
        print(json.dumps(measure(args.input)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = repeated_csv(args.candles, Path(tmp))
        report: dict[str, object] = {"strategies": 11, "window": 1000, "input": path.name,
                                     **measure(path)}
        if args.reference is not None:
            done = subprocess.run(
                [sys.executable, str(HERE), "--input", str(path), "--package-root", str(args.reference)],
                capture_output=True, text=True, check=True, cwd=args.reference,
            )
            report["reference"] = {"root": str(args.reference), **json.loads(done.stdout)}
    report["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
