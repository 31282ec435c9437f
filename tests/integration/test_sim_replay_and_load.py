"""Replayed real candles served as history then live; many streams and flood mode on one
connection, with every final still delivered exactly once and in order."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import httpx
import websockets

from cryptoai_tui.exchanges.base import KlineMessage
from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.market import DEFAULT_SYMBOLS
from cryptoai_tui.sim.replay import load_replay_csv
from cryptoai_tui.sim.server import SimExchange
from tests.conftest import CANDLES_DIR

PROTOCOL = BinanceSpot()
HOUR = 3_600_000


async def test_a_replay_serves_its_history_over_rest_then_plays_the_rest_live() -> None:
    path = CANDLES_DIR / "BTCUSDT-1h.csv"
    series = load_replay_csv(path)
    # 1h candles close every 0.1 s; the first 300 rows are history at start-up.
    config = SimConfig(replay=(path,), replay_history=300, speed=36_000, push_interval_s=0.02)
    async with SimExchange(config) as sim, httpx.AsyncClient() as http:
        rows = (await http.get(f"{sim.rest_url}/api/v3/klines",
                               params={"symbol": "BTCUSDT", "interval": "1h", "startTime": 0, "limit": 1000})).json()
        history = PROTOCOL.parse_klines(rows)
        assert history[0].open_time == series.first_open
        assert [c.open_time for c in history[:300]] == list(series.open_times[:300])
        assert (history[10].open, history[10].close, history[10].volume) == (
            series.opens[10], series.closes[10], series.volumes[10])
        finals: list[KlineMessage] = []
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1h") as ws:
            while len(finals) < 5:
                message = PROTOCOL.parse_ws_message(await asyncio.wait_for(ws.recv(), 3))[0]
                if isinstance(message, KlineMessage) and message.candle.closed:
                    finals.append(message)
    index = series.open_times.index(finals[0].candle.open_time)
    assert index >= 300
    for offset, message in enumerate(finals):
        i = index + offset
        candle = message.candle
        assert candle.open_time == series.open_times[i]
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
            series.opens[i], series.highs[i], series.lows[i], series.closes[i], series.volumes[i])


async def test_two_hundred_streams_on_one_connection_each_get_every_final_once() -> None:
    names = [spec.name.lower() for spec in DEFAULT_SYMBOLS[:25]]
    streams = [f"{name}@kline_{interval}" for name in names for interval in
               ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h")]
    assert len(streams) == 200
    finals: dict[str, list[int]] = defaultdict(list)
    config = SimConfig(speed=3000, start_ms=1_700_000_000_000)  # ~50 one-minute candles a second
    async with SimExchange(config) as sim:
        async with websockets.connect(f"{sim.ws_url}/stream?streams={'/'.join(streams)}", max_size=None,
                                      max_queue=None) as ws:
            minute_streams = [s for s in streams if s.endswith("@kline_1m")]
            # until every minute stream saw five finals (~0.1 s of market time each at this
            # speed), however slowly a loaded machine serves 200 streams; a generous cap only
            # keeps a broken server from hanging the suite
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while loop.time() < deadline and not all(len(finals[s]) >= 5 for s in minute_streams):
                payload = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if payload["data"]["k"]["x"]:
                    finals[payload["stream"]].append(payload["data"]["k"]["t"])
        sent = sim.stats().finals
    assert all(len(finals[s]) >= 5 for s in minute_streams), {s: len(finals[s]) for s in minute_streams}
    for stream, opens in finals.items():
        step = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240}[
            stream.split("_")[-1]] * 60_000
        assert opens == list(range(opens[0], opens[0] + step * len(opens), step)), stream
    assert sum(len(v) for v in finals.values()) <= sent


async def test_flood_mode_sends_forming_updates_as_fast_as_the_client_reads() -> None:
    normal = SimConfig(speed=600, start_ms=1_700_000_000_000, push_interval_s=0.25)
    flood = SimConfig(speed=600, start_ms=1_700_000_000_000, push_interval_s=0.25, flood=True)
    counts = []
    finals: list[int] = []
    for config in (normal, flood):
        async with SimExchange(config) as sim:
            # An unbounded client queue: a flooded client that stops reading to close must
            # still see the server's close frame behind the data already in flight.
            async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m", max_queue=None) as ws:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 0.5
                count = 0
                while loop.time() < deadline:
                    message = PROTOCOL.parse_ws_message(await asyncio.wait_for(ws.recv(), 2))[0]
                    count += 1
                    if config.flood and isinstance(message, KlineMessage) and message.candle.closed:
                        finals.append(message.candle.open_time)
                counts.append(count)
    assert counts[1] > 20 * counts[0]
    assert len(finals) >= 1 and len(finals) == len(set(finals))
