"""The simulator's Bybit v5 public WebSocket over loopback: topics, replies, pings, idle cut."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import KlineMessage
from cryptoai_tui.exchanges.bybit import BybitSpot
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange

START = 1_700_000_000_000
FAST = SimConfig(speed=600, start_ms=START, push_interval_s=0.02)


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(FAST) as running:
        yield running


async def recv_json(ws: Any, timeout: float = 2.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def reply(ws: Any) -> Any:
    while True:
        payload = await recv_json(ws)
        if "op" in payload:
            return payload


async def test_spot_and_linear_replies_have_their_own_shapes(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as spot:
        await spot.send(json.dumps({"req_id": "10001", "op": "subscribe", "args": ["kline.1.BTCUSDT"]}))
        ack = await reply(spot)
        assert {k: ack[k] for k in ("success", "ret_msg", "req_id", "op")} == {
            "success": True, "ret_msg": "subscribe", "req_id": "10001", "op": "subscribe"}
        await spot.send(json.dumps({"req_id": "100001", "op": "ping"}))
        pong = await reply(spot)
        assert set(pong) == {"success", "ret_msg", "conn_id", "op"} and pong["ret_msg"] == "pong"
        assert pong["conn_id"] == ack["conn_id"]
    async with websockets.connect(f"{sim.ws_url}/v5/public/linear") as linear:
        await linear.send(json.dumps({"op": "subscribe", "args": ["kline.5.ETHUSDT"]}))
        ack = await reply(linear)
        assert (ack["success"], ack["ret_msg"], ack["req_id"]) == (True, "", "")
        await linear.send(json.dumps({"req_id": "7", "op": "ping"}))
        pong = await reply(linear)
        assert (pong["op"], pong["ret_msg"], pong["req_id"]) == ("ping", "pong", "7")


async def test_kline_topics_confirm_each_candle_once_and_match_ground_truth(sim: SimExchange) -> None:
    protocol = BybitSpot()
    messages: list[KlineMessage] = []
    async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.SOLUSDT"]}))

        async def gather() -> None:
            while sum(m.candle.closed for m in messages) < 5:
                for message in protocol.parse_ws_message(await ws.recv()):
                    if isinstance(message, KlineMessage):
                        messages.append(message)

        await asyncio.wait_for(gather(), 5)
    finals = [m.candle for m in messages if m.candle.closed]
    opens = [c.open_time for c in finals]
    assert opens == list(range(opens[0], opens[0] + 5 * 60_000, 60_000))
    assert finals == sim.closed_candles("SOLUSDT", "1m", opens[0], opens[-1])
    assert any(not m.candle.closed for m in messages)


async def test_bad_subscriptions_fail_in_the_reply(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as ws:
        async def failure(args: list[str]) -> str:
            await ws.send(json.dumps({"op": "subscribe", "args": args, "req_id": "x"}))
            answer = await reply(ws)
            assert answer["success"] is False and answer["op"] == "subscribe"
            return answer["ret_msg"]

        assert await failure(["kline.1.NOPEUSDT"]) == "Invalid symbol :[kline.1.NOPEUSDT]"
        assert await failure(["dcp.future"]) == "error:handler not found,topic:dcp.future"
        assert await failure([f"kline.1.{s}" for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT",
                                                        "DOGEUSDT", "BNBUSDT", "DOTUSDT", "LTCUSDT", "TRXUSDT",
                                                        "UNIUSDT")]) == "args size >10"
    async with websockets.connect(f"{sim.ws_url}/v5/public/linear") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.ETHBTC"]}))  # not a linear contract
        assert (await reply(ws))["success"] is False


async def test_other_public_topics_are_accepted_but_silent(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/v5/public/linear") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT", "orderbook.1.BTCUSDT"]}))
        assert (await reply(ws))["success"] is True
        with pytest.raises(TimeoutError):
            await recv_json(ws, timeout=0.3)


async def test_unsubscribe_stops_the_topic(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/v5/public/linear") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.BTCUSDT"]}))
        assert (await reply(ws))["success"] is True
        assert "topic" in await recv_json(ws)
        await ws.send(json.dumps({"op": "unsubscribe", "args": ["kline.1.BTCUSDT"], "req_id": "u"}))
        assert (await reply(ws))["op"] == "unsubscribe"
        with pytest.raises(TimeoutError):
            await recv_json(ws, timeout=0.3)


async def test_a_quiet_client_is_cut_and_a_pinging_one_is_not() -> None:
    # Pings every 0.25 s for 2.5 s against a 1 s idle cut: the pinging client outlives the
    # cut more than twice over, with margin for a loaded machine pausing the loop.
    config = replace(FAST, idle_timeout_s=1.0)
    async with SimExchange(config) as sim:
        async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as pinging:
            for n in range(10):
                await pinging.send(json.dumps({"op": "ping", "req_id": str(n)}))
                assert (await reply(pinging))["ret_msg"] == "pong"
                await asyncio.sleep(0.25)
        async with websockets.connect(f"{sim.ws_url}/v5/public/spot") as quiet:
            with pytest.raises(ConnectionClosed):
                await recv_json(quiet, timeout=5)
        assert sim.stats().idle_closes == 1
