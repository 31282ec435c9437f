"""The simulator's Binance WebSocket side over real loopback sockets, with a plain
websockets client: streams, control messages, heartbeats and limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import KlineMessage
from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange

START = 1_700_000_000_000
FAST = SimConfig(speed=600, start_ms=START, push_interval_s=0.02)  # a 1m candle every 0.1 s
PROTOCOL = BinanceSpot()


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(FAST) as running:
        yield running


async def recv_json(ws: Any, timeout: float = 2.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def collect_klines(ws: Any, finals: int, timeout: float = 5.0) -> list[KlineMessage]:
    """Kline messages until `finals` closed candles have arrived."""
    out: list[KlineMessage] = []
    async def gather() -> None:
        while sum(m.candle.closed for m in out) < finals:
            for message in PROTOCOL.parse_ws_message(await ws.recv()):
                if isinstance(message, KlineMessage):
                    out.append(message)
    await asyncio.wait_for(gather(), timeout)
    return out


async def test_a_raw_stream_sends_every_closed_candle_once_and_it_equals_rest(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        messages = await collect_klines(ws, finals=6)
    finals = [m.candle for m in messages if m.candle.closed]
    opens = [c.open_time for c in finals]
    assert opens == list(range(opens[0], opens[0] + 6 * 60_000, 60_000))
    # Live finals are exactly the ground truth, and exactly what REST serves.
    assert finals == sim.closed_candles("BTCUSDT", "1m", opens[0], opens[-1])
    async with httpx.AsyncClient() as http:
        rows = (await http.get(f"{sim.rest_url}/api/v3/klines", params={
            "symbol": "BTCUSDT", "interval": "1m", "startTime": opens[0], "endTime": opens[-1]})).json()
    assert PROTOCOL.parse_klines(rows) == finals
    assert all(m.symbol == "BTCUSDT" and m.interval == "1m" for m in messages)


async def test_forming_updates_carry_the_candle_so_far() -> None:
    # A 1m candle every 0.2 s with updates every 0.02 s: about nine updates per candle.
    async with SimExchange(replace(FAST, speed=300)) as sim, \
            websockets.connect(f"{sim.ws_url}/ws/ethusdt@kline_1m") as ws:
        messages = await collect_klines(ws, finals=4)
    by_candle: dict[int, list[KlineMessage]] = {}
    for message in messages:
        by_candle.setdefault(message.candle.open_time, []).append(message)
    complete = [group for group in by_candle.values() if group[-1].candle.closed and len(group) > 1][1:]
    assert complete, "expected whole candles with forming updates"
    for group in complete:
        *forming, final = [m.candle for m in group]
        assert len(forming) >= 2 and [f.closed for f in forming] == [False] * len(forming)
        assert sum(c.closed for c in (m.candle for m in group)) == 1
        for before, after in zip(forming, forming[1:]):
            assert after.high >= before.high and after.low <= before.low
        assert all(f.open == final.open and final.low <= f.low <= f.high <= final.high for f in forming)
    times = [m.event_time for m in messages]
    assert times == sorted(times) and START <= times[0] <= sim.now_ms()


async def test_a_combined_stream_wraps_each_event_with_its_stream_name(sim: SimExchange) -> None:
    url = f"{sim.ws_url}/stream?streams=btcusdt@kline_1m/ethbtc@kline_3m"
    seen: set[str] = set()
    async with websockets.connect(url) as ws:
        for _ in range(20):
            payload = await recv_json(ws)
            assert set(payload) == {"stream", "data"}
            assert payload["stream"] == f"{payload['data']['s'].lower()}@kline_{payload['data']['k']['i']}"
            seen.add(payload["stream"])
            if len(seen) == 2:
                break
    assert seen == {"btcusdt@kline_1m", "ethbtc@kline_3m"}


async def test_subscribe_list_and_unsubscribe_replies(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m", "solusdt@kline_1m"], "id": 1}))
        assert await recv_json(ws) == {"result": None, "id": 1}
        kline = await recv_json(ws)
        assert kline["e"] == "kline"
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
        reply = await _reply(ws)
        assert reply == {"result": ["btcusdt@kline_1m", "solusdt@kline_1m"], "id": 3}
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@kline_1m", "solusdt@kline_1m"],
                                  "id": 312}))
        assert await _reply(ws) == {"result": None, "id": 312}
        with pytest.raises(TimeoutError):
            await recv_json(ws, timeout=0.3)


async def _reply(ws: Any) -> Any:
    while True:
        payload = await recv_json(ws)
        if "id" in payload or "code" in payload:
            return payload


async def test_well_formed_unknown_streams_are_acked_then_silent(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["nopeusdt@kline_1m", "btcusdt@kline_7m",
                                                                    "btcusdt@aggTrade"], "id": 5}))
        assert await recv_json(ws) == {"result": None, "id": 5}
        with pytest.raises(TimeoutError):
            await recv_json(ws, timeout=0.4)  # four 1m candles close meanwhile: nothing comes
    async with websockets.connect(f"{sim.ws_url}/ws/nopeusdt@kline_1m") as ws:
        with pytest.raises(TimeoutError):
            await recv_json(ws, timeout=0.3)


async def test_bad_requests_get_the_documented_errors(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["BTCUSDT kline"], "id": 1}))
        assert await recv_json(ws) == {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 1}
        await ws.send("{not json")
        bad_json = await recv_json(ws)
        assert bad_json["code"] == 3 and bad_json["msg"].startswith("Invalid JSON")
        await ws.send(json.dumps({"method": "SUBSCRIBE_ALL", "id": 4}))
        unknown = await recv_json(ws)
        assert unknown["id"] == 4 and unknown["error"]["code"] == 2 and "unknown variant" in unknown["error"]["msg"]


async def test_the_combined_property_can_be_read_and_set(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        await ws.send(json.dumps({"method": "GET_PROPERTY", "params": ["combined"], "id": 2}))
        assert await _reply(ws) == {"result": False, "id": 2}
        await ws.send(json.dumps({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}))
        assert await _reply(ws) == {"result": None, "id": 5}
        assert set(await recv_json(ws)) == {"stream", "data"}
        await ws.send(json.dumps({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 6}))
        assert await _reply(ws) == {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": 6}


async def test_usdm_klines_live_under_the_market_route(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/market/stream?streams=btcusdt@kline_1m") as ws:
        payload = await recv_json(ws)
    assert payload["stream"] == "btcusdt@kline_1m" and payload["data"]["k"]["s"] == "BTCUSDT"


async def test_server_pings_keep_answering_clients_alive() -> None:
    # A 1 s pong timeout against 0.05 s pings: a loaded machine pausing the loop for a
    # moment must not look like a client that stopped answering.
    config = replace(FAST, ping_interval_s=0.05, pong_timeout_s=1.0)
    async with SimExchange(config) as sim, websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        # Keep reading (a client that stops reading stops answering pings too) until well past
        # the pong timeout and at least five pings; the deadline only guards against a hang.
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + 30
        while (sim.stats().pings < 5 or loop.time() < started + 1.5) and loop.time() < deadline:
            await recv_json(ws)
        assert sim.stats().pings >= 5
        assert sim.stats().pong_timeouts == 0


async def test_a_client_that_never_pongs_is_cut_after_the_timeout() -> None:
    config = replace(FAST, ping_interval_s=0.05, pong_timeout_s=0.2)
    async with SimExchange(config) as sim:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(
            b"GET /ws/btcusdt@kline_1m HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await writer.drain()
        status = await reader.readline()
        assert b"101" in status

        async def read_to_eof() -> None:
            while await reader.read(65536):
                pass

        await asyncio.wait_for(read_to_eof(), 3.0)  # the server hangs up: this ends
        writer.close()
        assert sim.stats().pong_timeouts == 1


async def test_more_than_five_messages_a_second_closes_with_1008(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        for n in range(7):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
        with pytest.raises(ConnectionClosed):
            while True:
                await recv_json(ws)
    assert ws.close_code == 1008 and ws.close_reason == "Too many requests"
    assert sim.stats().rate_limit_closes == 1


async def test_a_forced_lifetime_announces_server_shutdown_then_closes() -> None:
    config = replace(FAST, max_lifetime_s=0.3, shutdown_notice_s=0.1)
    async with SimExchange(config) as sim, websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
        shutdown = None
        with pytest.raises(ConnectionClosed):
            while True:
                payload = await recv_json(ws)
                if payload.get("e") == "serverShutdown":
                    shutdown = payload
        assert shutdown is not None and set(shutdown) == {"e", "E"} and shutdown["E"] >= START
        assert ws.close_code == 1001


async def test_unknown_websocket_paths_are_refused(sim: SimExchange) -> None:
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with websockets.connect(f"{sim.ws_url}/nope"):
            pass
    assert caught.value.response.status_code == 404
