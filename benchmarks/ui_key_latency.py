"""Key latency on the live screen while the simulator floods it, beside a calm baseline.

The design promises that a message flood costs frames, never key responsiveness. Tests
check that every key acts under a flood; how fast is a wall-clock figure, so it is
measured here, not asserted in a test. For each run the simulator is its own process
(it is the load, not the thing measured); the app runs headless with Textual's Pilot.
Keys are posted as the terminal driver posts them. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
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
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.session import AppConfig


def start_sim(flood: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", "60", "--seed", "3"]
    if flood:
        command.append("--flood")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"listening on (\S+)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("the simulator did not start")


async def measure(address: str, rounds: int) -> dict[str, float]:
    config = AppConfig(exchange="sim", ws_url=f"ws://{address}", rest_url=f"http://{address}",
                       symbol="BTCUSDT", interval="1m", strategies=STRATEGY_NAMES, mode=ConfluenceMode.ANY)
    app = make_app(config)
    latencies_ms: list[float] = []
    frames: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2000):
            screen = app.screen
            if isinstance(screen, LiveScreen) and screen.engine is not None \
                    and screen.engine.snapshot.state is ConnectionState.LIVE:
                break
            await pilot.pause(0.01)
        live = app.screen
        assert isinstance(live, LiveScreen)
        await asyncio.sleep(1.0)  # let the flood (if any) build up

        async def press(key: str, acted: Callable[[], bool]) -> None:
            before, started = live.frames_drawn, time.perf_counter()
            event = events.Key(key, key)
            event.set_sender(app)
            app.post_message(event)
            while not acted():
                await asyncio.sleep(0)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            frames.append(live.frames_drawn - before)
            await asyncio.sleep(0.1)

        for _ in range(rounds):
            await press("c", lambda: not live.chart_visible)
            await press("c", lambda: live.chart_visible)
            mode = live.mode
            await press("m", lambda: live.mode is not mode)
        received = live.engine.snapshot.metrics.messages_received if live.engine else 0
        drawn = live.frames_drawn
    latencies_ms.sort()
    return {
        "keys": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 2),
        "max_ms": round(latencies_ms[-1], 2),
        "frames_p50": statistics.median(frames),
        "frames_max": max(frames),
        "messages_received": received,
        "frames_drawn": drawn,
    }


def run(flood: bool, rounds: int) -> dict[str, float]:
    process, address = start_sim(flood)
    try:
        return asyncio.run(measure(address, rounds))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="rounds of c, c, m (default 10)")
    args = parser.parse_args()
    calm = run(False, args.rounds)
    flood = run(True, args.rounds)
    print(json.dumps({
        "benchmark": "ui_key_latency",
        "calm": calm,
        "flood": flood,
        "flood_vs_calm_p50": round(flood["p50_ms"] / calm["p50_ms"], 2) if calm["p50_ms"] else None,
    }, indent=2))


if __name__ == "__main__":
    main()
