"""The latency the live header shows, in the app on the simulator, beside tick_latency's p50.

The header reads `Snapshot.metrics.latency_p50_us`: from the moment the feed took a live
message off the socket to the moment the engine published its Snapshot, socket, feed,
event-loop hops and all 11 strategies included. This runs the real app headless (Textual's
`run_test`, the Lab's choice of all strategies on the simulator), lets the live screen
run until `--messages` live messages were timed, and reads the figure the header shows
(and the header's own rendered text, to be sure it is that figure). The simulator runs in
its own process, as in benchmarks/ui_key_latency.py: it is the market, not the thing
measured.

In the same run, benchmarks/tick_latency.py's engine measurement (one kline frame decoded
-> Snapshot published, no socket, no screen) gives the p50 the header is compared with, so
the ratio can be read on a noisy shared machine. Goal: header p50 within 3x of it.

A third figure says what the difference is made of: tick_latency's measurement again with
the loop idle between frames for as long as the live messages were apart
(`tick_paced_p50_us`). On this shared machine that alone reads several times the
back-to-back p50 (the code runs cold after the loop idled), so `paced_ratio` (header /
paced) is the part the socket, the feed and the event-loop hops add.

Prints JSON: header_p50_us, header_p99_us, header_text, messages_timed, tick_p50_us,
ratio (header p50 / tick p50), message_spacing_ms, tick_paced_p50_us, paced_ratio,
load_average_1m.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cryptoai_tui.feed.status import ConnectionState  # noqa: E402
from cryptoai_tui.strategies.registry import STRATEGY_NAMES  # noqa: E402
from cryptoai_tui.strategies.signal import ConfluenceMode  # noqa: E402
from cryptoai_tui.tui.app import make_app  # noqa: E402
from cryptoai_tui.tui.screens.live import LiveScreen  # noqa: E402
from cryptoai_tui.tui.session import AppConfig  # noqa: E402


def start_sim(speed: float) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", str(speed),
               "--seed", "3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=ROOT)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"listening on (\S+)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("the simulator did not start")


def header_text(live: LiveScreen) -> str:
    """The live header's rendered words (empty if the widget cannot be read)."""
    try:
        from cryptoai_tui.tui.widgets.live_header import LiveHeader

        header = live.query_one(LiveHeader)
        rendered = header.render()
        return str(getattr(rendered, "plain", rendered))
    except Exception:  # the figure itself comes from the snapshot; the text is a cross-check
        return ""


async def measure_header(address: str, messages: int, timeout_s: float) -> dict[str, object]:
    config = AppConfig(exchange="sim", ws_url=f"ws://{address}", rest_url=f"http://{address}",
                       symbol="BTCUSDT", interval="1m", strategies=STRATEGY_NAMES,
                       mode=ConfluenceMode.MAJORITY)
    app = make_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        live: LiveScreen | None = None
        while loop.time() < deadline:
            screen = app.screen
            if isinstance(screen, LiveScreen) and screen.engine is not None \
                    and screen.engine.snapshot.state is ConnectionState.LIVE:
                live = screen
                break
            await pilot.pause(0.02)
        if live is None or live.engine is None:
            raise RuntimeError("the live screen did not go live")
        engine = live.engine
        start = engine.snapshot.metrics.messages_processed
        began = loop.time()
        while loop.time() < deadline and engine.snapshot.metrics.messages_processed - start < messages:
            await pilot.pause(0.05)
        spacing_s = (loop.time() - began) / max(1, engine.snapshot.metrics.messages_processed - start)
        await pilot.pause(0.3)  # the LatencyWindow refreshes its percentiles every 0.1 s
        metrics = engine.snapshot.metrics
        result = {
            "header_p50_us": metrics.latency_p50_us,
            "header_p99_us": metrics.latency_p99_us,
            "header_text": header_text(live),
            "messages_timed": metrics.messages_processed - start,
            "messages_coalesced": metrics.messages_coalesced,
            "strategy_errors": metrics.strategy_errors,
            "message_spacing_s": spacing_s,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="live messages to time (default 600)")
    parser.add_argument("--speed", type=float, default=60.0, help="simulator clock speed (default 60)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up")
    parser.add_argument("--tick-candles", type=int, default=100,
                        help="candles for tick_latency's measurement in the same run (default 100)")
    parser.add_argument("--paced-frames", type=int, default=300,
                        help="frames for the paced tick measurement (default 300)")
    args = parser.parse_args(argv)

    process, address = start_sim(args.speed)
    try:
        header = asyncio.run(measure_header(address, args.messages, args.timeout))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    import tick_latency

    from cryptoai_tui.exchanges.binance import BinanceSpot
    from cryptoai_tui.replay import read_candles_csv

    candles = read_candles_csv(tick_latency.CSV, tick_latency.INTERVAL)
    history = candles[: tick_latency.WINDOW]
    live = candles[tick_latency.WINDOW : tick_latency.WINDOW + args.tick_candles]
    protocol = BinanceSpot()
    frames = tick_latency.frames_for(live, 9, protocol)
    ours, _ = asyncio.run(tick_latency.measure_engine(history, frames, protocol))
    tick_p50 = tick_latency.percentile(ours, 0.5)
    # The same frames with the loop idle between them for as long as the live stream's
    # messages are apart: what the header's extra is made of (cold execution after idling,
    # or event-loop hops: the hops are in the header's figure only).
    spacing_s = header.pop("message_spacing_s")
    paced, _ = asyncio.run(tick_latency.measure_engine(history, frames[: args.paced_frames], protocol,
                                                       pause_s=spacing_s))
    paced_p50 = tick_latency.percentile(paced, 0.5)
    header_p50 = header["header_p50_us"]
    print(json.dumps({
        **header,
        "tick_p50_us": round(tick_p50, 1),
        "tick_frames": len(ours),
        "ratio": round(header_p50 / tick_p50, 2) if isinstance(header_p50, float) else None,
        "message_spacing_ms": round(spacing_s * 1000.0, 1),
        "tick_paced_p50_us": round(paced_p50, 1),
        "paced_ratio": round(header_p50 / paced_p50, 2) if isinstance(header_p50, float) else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
