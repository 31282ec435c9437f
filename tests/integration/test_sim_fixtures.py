"""What the simulator puts on the wire has the shape of the exchanges' documented payloads
(tests/data/fixtures), key by key and JSON type by type, so a client tested against the
simulator is tested against the real formats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import KlineMessage
from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from tests.conftest import load_fixture

START = 1_700_000_000_000


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return type(value).__name__


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys and JSON types all the way down. A list whose documented items all share
    one shape is checked item by item against it; a mixed list (a REST row) position by
    position."""
    assert json_type(actual) == json_type(expected), f"{path}: {json_type(actual)} where the docs have {json_type(expected)}"
    if isinstance(expected, dict):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        assert not missing and not extra, f"{path}: missing keys {sorted(missing)}, extra keys {sorted(extra)}"
        for key in expected:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected:
        shapes = {json.dumps(_skeleton(item)) for item in expected}
        if len(shapes) == 1 and not _is_row(expected):
            for index, item in enumerate(actual):
                assert_same_shape(item, expected[0], f"{path}[{index}]")
        else:
            assert len(actual) == len(expected), f"{path}: {len(actual)} items where the docs have {len(expected)}"
            for index, (item, documented) in enumerate(zip(actual, expected)):
                assert_same_shape(item, documented, f"{path}[{index}]")


def _skeleton(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _skeleton(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_skeleton(item) for item in value]
    return json_type(value)


def _is_row(items: list[Any]) -> bool:
    return len({json_type(item) for item in items}) > 1


def test_the_shape_check_catches_a_wrong_type_and_a_missing_key() -> None:
    documented = load_fixture("binance_kline_ws.json")
    wrong = json.loads(json.dumps(documented))
    wrong["k"]["x"] = "false"
    with pytest.raises(AssertionError, match=r"\$\.k\.x"):
        assert_same_shape(wrong, documented)
    del wrong["k"]["B"]
    with pytest.raises(AssertionError, match="missing keys"):
        assert_same_shape(wrong, documented)
    with pytest.raises(AssertionError):
        assert_same_shape([[1, "2", 3]], [[1, "2", "3"]])


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=600, start_ms=START, push_interval_s=0.02)) as running:
        yield running


@pytest.fixture
async def http(sim: SimExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=5) as client:
        yield client


async def first_frame(url: str, send: Sequence[dict[str, Any]] = (), skip_replies: bool = True) -> Any:
    async with websockets.connect(url) as ws:
        for message in send:
            await ws.send(json.dumps(message))
        while True:
            payload = json.loads(await asyncio.wait_for(ws.recv(), 2))
            if not skip_replies or "topic" in payload or "e" in payload or "stream" in payload:
                return payload


async def test_binance_websocket_klines_match_the_docs(sim: SimExchange) -> None:
    raw = await first_frame(f"{sim.ws_url}/ws/bnbbtc@kline_1m")
    assert_same_shape(raw, load_fixture("binance_kline_ws.json"))
    combined = await first_frame(f"{sim.ws_url}/stream?streams=bnbbtc@kline_1m")
    assert_same_shape(combined, load_fixture("binance_kline_ws_combined.json"))
    assert combined["stream"] == load_fixture("binance_kline_ws_combined.json")["stream"]
    futures = await first_frame(f"{sim.ws_url}/market/ws/btcusdt@kline_1m")
    assert_same_shape(futures, load_fixture("binance_usdm_kline_ws.json"))


async def test_binance_rest_payloads_match_the_docs(http: httpx.AsyncClient) -> None:
    rows = (await http.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1d", "limit": 3})).json()
    assert_same_shape(rows, load_fixture("binance_klines_rest.json"))
    futures_rows = (await http.get("/fapi/v1/klines", params={"symbol": "BTCUSDT", "interval": "1d", "limit": 3})).json()
    assert_same_shape(futures_rows, load_fixture("binance_usdm_klines_rest.json"))
    info = (await http.get("/api/v3/exchangeInfo", params={"symbol": "ETHBTC"})).json()
    assert_same_shape(info, load_fixture("binance_exchangeinfo_min.json"))
    futures_info = (await http.get("/fapi/v1/exchangeInfo")).json()
    assert_same_shape(futures_info, load_fixture("binance_usdm_exchangeinfo_min.json"))
    assert_same_shape((await http.get("/api/v3/time")).json(), load_fixture("binance_time.json"))
    assert_same_shape((await http.get("/fapi/v1/time")).json(), load_fixture("binance_usdm_time.json"))
    assert (await http.get("/api/v3/ping")).json() == load_fixture("binance_ping.json")


async def test_binance_rest_errors_are_the_documented_bodies(http: httpx.AsyncClient) -> None:
    symbol = await http.get("/api/v3/klines", params={"symbol": "NOPEUSDT", "interval": "1m"})
    assert symbol.json() == load_fixture("binance_error_invalid_symbol.json")
    interval = await http.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "2m"})
    assert interval.json() == load_fixture("binance_error_invalid_interval.json")


async def test_binance_control_replies_match_the_docs(sim: SimExchange) -> None:
    async with websockets.connect(f"{sim.ws_url}/ws") as ws:
        await ws.send(json.dumps(load_fixture("binance_ws_subscribe_request.json")))
        assert json.loads(await ws.recv()) == load_fixture("binance_ws_subscribe_response.json")
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
        listing = json.loads(await ws.recv())
        assert_same_shape(listing, load_fixture("binance_ws_list_subscriptions_response.json"))
        assert listing["result"] == ["btcusdt@aggTrade", "btcusdt@depth"]
        await ws.send(json.dumps(load_fixture("binance_ws_unsubscribe_request.json")))
        assert json.loads(await ws.recv()) == {"result": None, "id": 312}
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["not a stream"], "id": 1}))
        assert json.loads(await ws.recv()) == load_fixture("binance_ws_error_invalid_stream_observed.json")


async def test_binance_server_shutdown_matches_the_docs(sim: SimExchange) -> None:
    async def shutdown_notice(url: str) -> Any:
        async with websockets.connect(url) as ws:
            await sim.wait_for_connections(1)
            restart = asyncio.create_task(sim.restart(down_s=0.01, announce=True))
            notice = None
            try:
                while True:
                    payload = json.loads(await asyncio.wait_for(ws.recv(), 2))
                    if "serverShutdown" in json.dumps(payload):
                        notice = payload
            except ConnectionClosed:
                pass
            await restart
            return notice

    assert_same_shape(await shutdown_notice(f"{sim.ws_url}/ws/btcusdt@kline_1m"),
                      load_fixture("binance_ws_server_shutdown.json"))
    combined = await shutdown_notice(f"{sim.ws_url}/stream?streams=btcusdt@kline_1m")
    assert_same_shape(combined, load_fixture("binance_ws_server_shutdown_combined.json"))
    assert combined["stream"] == "!serverShutdown"


async def test_bybit_websocket_payloads_match_the_docs(sim: SimExchange) -> None:
    kline = await first_frame(f"{sim.ws_url}/v5/public/linear", [{"op": "subscribe", "args": ["kline.5.BTCUSDT"]}])
    assert_same_shape(kline, load_fixture("bybit_kline_ws.json"))
    for category in ("spot", "linear"):
        async with websockets.connect(f"{sim.ws_url}/v5/public/{category}") as ws:
            await ws.send(json.dumps({"req_id": "10001", "op": "subscribe", "args": ["kline.1.BTCUSDT"]}))
            assert_same_shape(json.loads(await ws.recv()), load_fixture(f"bybit_ws_subscribe_response_{category}.json"))
            await ws.send(json.dumps(load_fixture("bybit_ws_ping_request.json")))
            pong = None
            while pong is None:
                payload = json.loads(await asyncio.wait_for(ws.recv(), 2))
                pong = payload if payload.get("op") == "ping" else None
            assert_same_shape(pong, load_fixture(f"bybit_ws_pong_{category}.json"))
    failure = await first_frame(f"{sim.ws_url}/v5/public/linear",
                                [{"req_id": "dcp.future", "op": "subscribe", "args": ["dcp.future"]}],
                                skip_replies=False)
    assert_same_shape(failure, load_fixture("bybit_ws_subscribe_error_observed.json"))
    documented = load_fixture("bybit_ws_subscribe_error_observed.json")
    assert (failure["ret_msg"], failure["req_id"]) == (documented["ret_msg"], documented["req_id"])


async def test_bybit_rest_payloads_match_the_docs(http: httpx.AsyncClient) -> None:
    rows = (await http.get("/v5/market/kline", params={"category": "linear", "symbol": "BTCUSDT",
                                                       "interval": "60", "limit": 3})).json()
    assert_same_shape(rows, load_fixture("bybit_kline_rest.json"))
    for category in ("spot", "linear"):
        instruments = (await http.get("/v5/market/instruments-info", params={"category": category})).json()
        assert_same_shape(instruments, load_fixture(f"bybit_instruments_{category}_min.json"))
    assert_same_shape((await http.get("/v5/market/time")).json(), load_fixture("bybit_time.json"))
    unknown = (await http.get("/v5/market/kline", params={"category": "spot", "symbol": "NOPEUSDT",
                                                          "interval": "1"})).json()
    assert_same_shape(unknown, load_fixture("bybit_error_invalid_symbol_observed.json"))
    assert unknown["retMsg"] == load_fixture("bybit_error_invalid_symbol_observed.json")["retMsg"]


@pytest.mark.parametrize("exchange", ["binance", "binance-futures", "bybit-spot", "bybit-linear"])
async def test_every_rest_kline_the_simulator_serves_passes_the_wire_checks(
        sim: SimExchange, http: httpx.AsyncClient, exchange: str) -> None:
    """The simulator speaks through the same protocol modules that now refuse inconsistent
    candles, so every interval it serves, weeks and months included, must pass them."""
    protocol = get_protocol(exchange, sim.ws_url, sim.rest_url)
    for interval in protocol.intervals:
        request = protocol.klines_request("BTCUSDT", interval, limit=40)
        body = (await http.get(request.path, params=dict(request.params))).json()
        candles = protocol.parse_klines(body, interval)
        assert len(candles) >= 2, f"{exchange} {interval}: no history"
        assert protocol.parse_klines(body) == candles  # the rows' own spacing or close times agree


async def test_every_websocket_kline_the_simulator_pushes_passes_the_wire_checks(sim: SimExchange) -> None:
    protocol = get_protocol("binance", sim.ws_url, sim.rest_url)
    streams = [protocol.stream_name("BTCUSDT", interval) for interval in protocol.intervals]
    seen: set[str] = set()
    # close_timeout: the simulator is slow to answer a close on this 16-stream connection
    async with websockets.connect(protocol.ws_url(streams), close_timeout=1) as ws:
        while len(seen) < len(streams):
            for message in protocol.parse_ws_message(await asyncio.wait_for(ws.recv(), 2)):
                if isinstance(message, KlineMessage):
                    seen.add(message.interval)
    assert seen == set(protocol.intervals)
