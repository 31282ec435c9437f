"""Replay throughput: confirmed candles per second through all 11 strategies.

Runs exactly what `cryptoai-tui signals --replay CSV --strategies all` runs (CSV reader,
ReplaySource, RealtimeStrategyEngine with a 1000-candle window, the JSON-line printer),
writing the lines to an in-memory buffer instead of a terminal, over every CSV in
tests/data/candles. The baseline is `engine.history.evaluate_history`, the same evaluator
in a plain loop (no event loop, no events, no output) over the same candles, so the figure
shows what the live code path costs on top of the evaluation itself.

Prints JSON: per file and in total, candles, seconds, candles_per_second, and the baseline.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptoai_tui.commands.signals import LineContext, SignalPrinter  # noqa: E402
from cryptoai_tui.engine import RealtimeStrategyEngine  # noqa: E402
from cryptoai_tui.market import Interval  # noqa: E402
from cryptoai_tui.replay import ReplaySource, read_candles_csv  # noqa: E402
from cryptoai_tui.engine.history import evaluate_history  # noqa: E402

CANDLES_DIR = ROOT / "tests" / "data" / "candles"
INTERVAL = Interval.parse("1h")


def replay(path: Path) -> tuple[int, float, int]:
    """(candles, seconds, lines printed) for one `signals --replay` run."""
    started = time.perf_counter()
    symbol = path.stem.split("-")[0]
    source = ReplaySource.from_csv(path, symbol, INTERVAL)
    printer = SignalPrinter(io.StringIO(), flush_each=False, context=LineContext("replay", symbol, INTERVAL.name),
                            all_candles=True)
    engine = RealtimeStrategyEngine(symbol, INTERVAL, "all", "majority", "replay")
    engine.add_listener(on_confirmed=printer)
    asyncio.run(engine.run(source))
    seconds = time.perf_counter() - started
    assert engine.snapshot.metrics.messages_processed == len(source.candles)
    return len(source.candles), seconds, printer.lines


def plain_loop(path: Path) -> tuple[int, float]:
    candles = read_candles_csv(path, INTERVAL)
    started = time.perf_counter()
    evaluate_history("all", candles)
    return len(candles), time.perf_counter() - started


def main() -> int:
    files = sorted(CANDLES_DIR.glob("*.csv"))
    report: dict[str, object] = {"strategies": 11, "window": 1000, "files": {}}
    total_candles, total_seconds, base_seconds = 0, 0.0, 0.0
    for path in files:
        candles, seconds, lines = replay(path)
        _, baseline = plain_loop(path)
        report["files"][path.name] = {  # type: ignore[index]
            "candles": candles,
            "lines": lines,
            "seconds": round(seconds, 3),
            "candles_per_second": round(candles / seconds),
            "plain_loop_candles_per_second": round(candles / baseline),
        }
        total_candles += candles
        total_seconds += seconds
        base_seconds += baseline
    report["candles"] = total_candles
    report["seconds"] = round(total_seconds, 3)
    report["candles_per_second"] = round(total_candles / total_seconds)
    report["plain_loop_candles_per_second"] = round(total_candles / base_seconds)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
