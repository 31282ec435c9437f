"""Feed throughput: kline messages per second decoded and applied from a simulator flood.

The simulator runs in its own process in flood mode (forming updates of every stream as
fast as the socket takes them, plus exactly one final per closed candle) with `--streams`
streams on one connection. Each client runs in a fresh process of its own, so CPU time and
peak RSS are the client's alone:

- feed: the real KlineFeed (Binance protocol decode, sequencer de-dup and gap judge, one
  CandleEvent per accepted kline) consumed by a loop that only counts events;
- naive baseline (the original design): `json.loads` of each frame and a row appended to
  that stream's pandas DataFrame (`pd.concat`, kept to the last 500 rows) per message,
  on the same websockets connection settings.

Both read `WARMUP` messages before the clock starts.

Prints JSON: messages per second, CPU seconds per 100k messages and peak RSS for both, and
the speedup. Figures vary with the machine and its load; compare the two in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INTERVAL = "1m"
#: simulated time speed: a 1m candle closes every 0.2 s, so finals are part of the flood
SPEED = 300.0
#: messages read before timing starts: the simulator builds its 200 markets lazily, so its
#: first seconds are slower than its flood
WARMUP = 3000


def stream_symbols(count: int) -> list[str]:
    return [f"C{i:03d}USDT" for i in range(count)]


# --- roles ----------------------------------------------------------------------------------

async def serve(streams: int) -> None:
    """The simulator process: print its URLs, flood until stdin closes."""
    from cryptoai_tui.sim.config import SimConfig
    from cryptoai_tui.sim.server import SimExchange

    config = SimConfig(speed=SPEED, seed=1, symbols=tuple(stream_symbols(streams)), flood=True,
                       max_incoming_per_s=None)
    async with SimExchange(config) as sim:
        print(json.dumps({"ws_url": sim.ws_url, "rest_url": sim.rest_url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def run_feed(ws_url: str, rest_url: str, streams: int, messages: int) -> dict[str, Any]:
    from cryptoai_tui.exchanges.registry import get_protocol
    from cryptoai_tui.feed import FeedConfig, KlineFeed
    from cryptoai_tui.market import CandleEvent

    protocol = get_protocol("binance", ws_url, rest_url)
    feed = KlineFeed(protocol, [(s, INTERVAL) for s in stream_symbols(streams)], history=0,
                     config=FeedConfig(stall_timeout_s=30.0, max_url_length=8000))
    events = closed = seen = 0
    start_wall = start_cpu = 0.0
    start_frames = 0
    async with feed:
        async for event in feed:
            if type(event) is not CandleEvent:
                continue
            seen += 1
            if seen <= WARMUP:
                if seen == WARMUP:
                    start_wall, start_cpu = time.perf_counter(), time.process_time()
                    start_frames = feed.counters.messages_received
                continue
            events += 1
            closed += event.candle.closed
            if events >= messages:
                break
        wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
        counters = feed.counters
    frames = counters.messages_received - start_frames
    return {
        "messages": frames,
        "events_emitted": events,
        "closed_candles": closed,
        "duplicates_dropped": counters.duplicates_dropped,
        "seconds": round(wall, 3),
        "messages_per_s": round(frames / wall),
        "cpu_s_per_100k": round(cpu / frames * 100_000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


async def run_naive(ws_url: str, rest_url: str, streams: int, messages: int) -> dict[str, Any]:
    import pandas as pd
    from websockets.asyncio.client import connect

    from cryptoai_tui.exchanges.registry import get_protocol

    protocol = get_protocol("binance", ws_url, rest_url)
    names = [protocol.stream_name(s, INTERVAL) for s in stream_symbols(streams)]
    frames: dict[str, pd.DataFrame] = {}
    count = seen = 0
    start_wall = start_cpu = wall = cpu = 0.0
    async with connect(protocol.ws_url(names), max_size=2**22, ping_interval=None, max_queue=256,
                       close_timeout=1.0) as ws:
        async for raw in ws:
            seen += 1
            if seen <= WARMUP:
                if seen == WARMUP:
                    start_wall, start_cpu = time.perf_counter(), time.process_time()
                continue
            payload = json.loads(raw)
            data = payload.get("data", payload)
            if data.get("e") != "kline":
                continue
            k = data["k"]
            row = pd.DataFrame([{
                "open_time": k["t"], "open": float(k["o"]), "high": float(k["h"]), "low": float(k["l"]),
                "close": float(k["c"]), "volume": float(k["v"]), "closed": k["x"],
            }])
            previous = frames.get(k["s"])
            frame = row if previous is None else pd.concat([previous, row], ignore_index=True)
            frames[k["s"]] = frame.iloc[-500:]
            count += 1
            if count >= messages:
                # Timed before leaving the block: closing waits for the flooding server's reply.
                wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
                break
    return {
        "messages": count,
        "seconds": round(wall, 3),
        "messages_per_s": round(count / wall),
        "cpu_s_per_100k": round(cpu / count * 100_000, 3),
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


# --- orchestration ------------------------------------------------------------------------------

def client(role: str, urls: dict[str, str], streams: int, messages: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--role", role, "--ws-url", urls["ws_url"], "--rest-url", urls["rest_url"],
         "--streams", str(streams), "--messages", str(messages)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"The {role} client failed:\n{result.stderr}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200, help="streams on the one connection (default 200)")
    parser.add_argument("--messages", type=int, default=200_000, help="messages the feed reads (default 200k)")
    parser.add_argument("--baseline-messages", type=int, default=5_000,
                        help="messages the naive baseline reads (default 5k: it is slow)")
    parser.add_argument("--role", choices=("sim", "feed", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--ws-url", help=argparse.SUPPRESS)
    parser.add_argument("--rest-url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "sim":
        asyncio.run(serve(args.streams))
        return
    if args.role in ("feed", "naive"):
        run = run_feed if args.role == "feed" else run_naive
        print(json.dumps(asyncio.run(run(args.ws_url, args.rest_url, args.streams, args.messages))))
        return

    sim = subprocess.Popen([sys.executable, __file__, "--role", "sim", "--streams", str(args.streams)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert sim.stdout is not None
        urls = json.loads(sim.stdout.readline())
        feed = client("feed", urls, args.streams, args.messages)
        naive = client("naive", urls, args.streams, args.baseline_messages)
    finally:
        if sim.stdin is not None:
            sim.stdin.close()
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
    print(json.dumps({
        "benchmark": "feed_throughput",
        "streams_on_one_connection": args.streams,
        "cpu_count": os.cpu_count(),
        "feed": feed,
        "naive_baseline": naive,
        "speedup_messages_per_s": round(feed["messages_per_s"] / naive["messages_per_s"], 1),
        "cpu_ratio_per_message": round(naive["cpu_s_per_100k"] / feed["cpu_s_per_100k"], 1),
    }, indent=2))


if __name__ == "__main__":
    main()
