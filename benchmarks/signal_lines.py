"""JSON lines per second of `signals --replay CSV --all-candles`, with orjson and with json.

Runs what the command runs (CSV reader, ReplaySource, RealtimeStrategyEngine, all 11
strategies, the line printer) in-process, writing to an in-memory buffer, once with each
encoder; then encodes the same confirmed signals again with each encoder alone, so the
figure shows both what a user sees end to end (evaluation dominates) and what the encoder
itself costs. Why orjson is a dependency: the encode-only figure.

Usage: python benchmarks/signal_lines.py [CSV]  (default tests/data/candles/BTCUSDT-1h.csv)
Prints one JSON object.
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

from cryptoai_tui.commands.signals import (  # noqa: E402
    LineContext, SignalPrinter, confirmed_signal_line, is_warmed_up, line_encoder,
)
from cryptoai_tui.engine import RealtimeStrategyEngine  # noqa: E402
from cryptoai_tui.market import Interval  # noqa: E402
from cryptoai_tui.replay import ReplaySource  # noqa: E402
from cryptoai_tui.snapshot import ConfirmedSignal  # noqa: E402

INTERVAL = Interval.parse("1h")
ENCODE_ROUNDS = 5


def command(path: Path, prefer_orjson: bool) -> tuple[int, float, list[ConfirmedSignal]]:
    """(lines, seconds, confirmed signals) of one in-process `signals --replay --all-candles`."""
    symbol = path.stem.split("-")[0]
    started = time.perf_counter()
    source = ReplaySource.from_csv(path, symbol, INTERVAL)
    printer = SignalPrinter(io.StringIO(), flush_each=False, context=LineContext("replay", symbol, INTERVAL.name),
                            all_candles=True, encode=line_encoder(prefer_orjson))
    seen: list[ConfirmedSignal] = []
    engine = RealtimeStrategyEngine(symbol, INTERVAL, "all", "majority", "replay")
    engine.add_listener(on_confirmed=printer)
    engine.add_listener(on_confirmed=seen.append)
    asyncio.run(engine.run(source))
    return printer.lines, time.perf_counter() - started, seen


def encode_only(signals: list[ConfirmedSignal], prefer_orjson: bool) -> float:
    """Best-of-N seconds to encode every warmed-up line once."""
    encode = line_encoder(prefer_orjson)
    context = LineContext("replay", "BTCUSDT", INTERVAL.name)
    chosen = [s for s in signals if is_warmed_up(s)]
    best = float("inf")
    for _ in range(ENCODE_ROUNDS):
        started = time.perf_counter()
        for signal in chosen:
            confirmed_signal_line(signal, context, encode)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "candles" / "BTCUSDT-1h.csv"
    report: dict[str, object] = {"file": path.name}
    signals: list[ConfirmedSignal] = []
    for name, prefer in (("orjson", True), ("json", False)):
        lines, seconds, signals = command(path, prefer)
        encode_seconds = encode_only(signals, prefer)
        report[name] = {
            "lines": lines,
            "command_seconds": round(seconds, 3),
            "command_lines_per_second": round(lines / seconds),
            "encode_only_lines_per_second": round(lines / encode_seconds),
        }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
