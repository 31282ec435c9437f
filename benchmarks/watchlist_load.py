"""Watchlist under load: 300 symbols updating every second, the app headless on them.

The simulator runs in its own process (`cryptoai-tui sim`, real time, one forming update
per stream per second: it is the load, not the thing measured); this process is the app,
with the Watchlist screen over one exchange connection carrying every stream, driven by
Pilot. Once every row is live it measures, over `--seconds`:
- updates_per_s: kline updates the app evaluated (every symbol's engine, all strategies);
- cpu_per_update_us / app_cpu_cores: this process's CPU time per update and over wall time;
- key_p50_ms / key_p99_ms: from posting a key as the terminal driver does until the
  screen has acted on it (cursor moved, sort changed), keys spaced 100 ms apart;
- frames_skipped: frame-timer ticks the loop could not keep.
Budget (issue 14): keys within 50 ms p99, the app under one core. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import signal
import statistics
import subprocess
import sys
import time
from typing import Callable

from textual import events

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.symbols import listing_of
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.watchlist import WatchlistScreen, WatchSession
from cryptoai_tui.tui.session import AppConfig, WatchChoice
from cryptoai_tui.tui.widgets.watch_table import WatchTable


def start_sim(symbols: tuple[str, ...]) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", "1", "--seed", "3",
               "--push-interval", "1", "--symbols", *symbols]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"listening on (\S+)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("the simulator did not start")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(address: str, symbols: tuple[str, ...], seconds: float, history: int) -> dict[str, object]:
    url = f"ws://{address}", f"http://{address}"
    choice = WatchChoice("binance", "1m", STRATEGY_NAMES, ConfluenceMode.MAJORITY, symbols, None, *url)
    app = make_app(AppConfig(exchange="binance", ws_url=url[0], rest_url=url[1]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = WatchlistScreen(choice, lambda session: None,  # type: ignore[arg-type, return-value]
                                 exchange_title="simulator", watch_factory=lambda c: WatchSession(c, history=history))
        await app.push_screen(screen)
        table = screen.query_one(WatchTable)
        started = time.monotonic()
        while True:
            rows = table.rows.values()
            if len(table.rows) == len(symbols) and all(r.state is ConnectionState.LIVE and r.price for r in rows):
                break
            if screen.failure:
                raise RuntimeError(screen.failure)
            if time.monotonic() - started > 600:
                raise RuntimeError("the watchlist did not go live within 10 minutes")
            await pilot.pause(0.2)
        warmup_s = time.monotonic() - started
        runner = screen.runner
        assert isinstance(runner, WatchSession) and runner.engine is not None
        engine = runner.engine

        def processed() -> int:
            return sum(engine.engine(s).snapshot.metrics.messages_processed for s in engine.symbols)

        await asyncio.sleep(2.0)
        latencies: list[float] = []
        updates_before, cpu_before, wall_before = processed(), time.process_time(), time.monotonic()
        skipped_before = screen.frames_skipped
        pauses: list[float] = []
        collecting: list[float] = []

        full: list[float] = []

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                collecting.append(time.perf_counter())
            elif collecting:
                pauses.append((time.perf_counter() - collecting.pop()) * 1000)
                if info.get("generation") == 2:
                    full.append(pauses[-1])

        gc.callbacks.append(on_gc)

        async def press(key: str, acted: Callable[[], bool]) -> None:
            began = time.perf_counter()
            event = events.Key(key, None)
            event.set_sender(app)
            app.post_message(event)
            while not acted():
                if time.perf_counter() - began > 10:
                    raise RuntimeError(f"the key {key!r} was not acted on within 10 s")
                await asyncio.sleep(0)
            latencies.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.1)

        step = "down"
        while time.monotonic() - wall_before < seconds:
            cursor = table.cursor_symbol
            position = table.order.index(cursor) if cursor in table.order else 0
            step = "up" if position >= len(table.order) - 1 else "down" if position == 0 else step
            await press(step, lambda: table.cursor_symbol != cursor)
            key = table.sort_key
            await press("right", lambda: table.sort_key != key)
        wall = time.monotonic() - wall_before
        gc.callbacks.remove(on_gc)
        cpu = time.process_time() - cpu_before
        updates = processed() - updates_before
        skipped = screen.frames_skipped - skipped_before
    return {
        "benchmark": "watchlist_load",
        "symbols": len(symbols),
        "strategies": len(STRATEGY_NAMES),
        "connections": 1,
        "warmup_s": round(warmup_s, 1),
        "seconds": round(wall, 1),
        "updates_per_s": round(updates / wall, 1),
        "cpu_per_update_us": round(cpu / updates * 1e6, 1) if updates else None,
        "app_cpu_cores": round(cpu / wall, 3),
        "keys": len(latencies),
        "key_p50_ms": round(statistics.median(latencies), 2),
        "key_p99_ms": round(_percentile(latencies, 0.99), 2),
        "frames_skipped": skipped,
        "slowest_keys_ms": [round(v, 1) for v in sorted(latencies)[-4:]],
        "gc_collections": len(pauses),
        "gc_max_ms": round(max(pauses), 1) if pauses else 0.0,
        "gc_full": [round(v, 1) for v in full],
        "tracked_objects": len(gc.get_objects()),
        "budget_ok": _percentile(latencies, 0.99) <= 50.0 and cpu / wall < 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=300, help="symbols to watch (default 300)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time once live (default 30)")
    parser.add_argument("--history", type=int, default=60, help="closed candles each symbol loads (default 60)")
    args = parser.parse_args()
    symbols = listing_of(args.symbols)
    process, address = start_sim(symbols)
    try:
        result = asyncio.run(measure(address, symbols, args.seconds, args.history))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
