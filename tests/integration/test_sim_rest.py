"""The simulator's REST endpoints over real loopback HTTP, as a plain httpx client sees them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.market import LISTING_MS
from cryptoai_tui.sim.server import SimExchange

START = 1_700_000_000_000
MINUTE = 60_000


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    # Slow enough that the clock barely moves during a test, so "now" is predictable.
    async with SimExchange(SimConfig(speed=1.0, start_ms=START)) as running:
        yield running


@pytest.fixture
async def http(sim: SimExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=5) as client:
        yield client


async def test_ping_and_time_read_the_exchange_clock(sim: SimExchange, http: httpx.AsyncClient) -> None:
    ping = await http.get("/api/v3/ping")
    assert ping.status_code == 200 and ping.json() == {}
    assert ping.headers["content-type"].startswith("application/json")
    served = (await http.get("/api/v3/time")).json()["serverTime"]
    assert START <= served <= sim.now_ms() < START + 60_000
    bybit = (await http.get("/v5/market/time")).json()
    assert bybit["retCode"] == 0 and START <= int(bybit["result"]["timeSecond"]) * 1000 <= sim.now_ms()


async def test_klines_default_to_500_newest_rows_ending_with_the_forming_candle(
        sim: SimExchange, http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m"})
    rows = response.json()
    assert response.status_code == 200 and len(rows) == 500
    assert int(response.headers["X-MBX-USED-WEIGHT-1M"]) >= 2
    opens = [row[0] for row in rows]
    assert opens == list(range(opens[0], opens[0] + 500 * MINUTE, MINUTE))
    assert opens[-1] == sim.current_open_time("1m")
    candles = BinanceSpot().parse_klines(rows)
    # Every row but the forming one is exactly the simulator's ground truth.
    assert candles[:-1] == sim.closed_candles("BTCUSDT", "1m", opens[0], opens[-2])


async def test_kline_limits_are_the_real_ones(http: httpx.AsyncClient) -> None:
    full = await http.get("/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1h", "limit": 1000})
    assert len(full.json()) == 1000
    over = await http.get("/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "1h", "limit": 1001})
    assert over.status_code == 400
    assert over.json() == {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}
    futures = await http.get("/fapi/v1/klines", params={"symbol": "ETHUSDT", "interval": "1h", "limit": 1500})
    assert len(futures.json()) == 1500


async def test_start_and_end_select_as_binance_does(sim: SimExchange, http: httpx.AsyncClient) -> None:
    current = sim.current_open_time("1m")

    async def opens(**params: int) -> list[int]:
        response = await http.get("/api/v3/klines", params={"symbol": "SOLUSDT", "interval": "1m", **params})
        assert response.status_code == 200, response.text
        return [row[0] for row in response.json()]

    base = current - 100 * MINUTE
    assert await opens(startTime=base + 1, limit=3) == [base + MINUTE, base + 2 * MINUTE, base + 3 * MINUTE]
    assert await opens(endTime=base + 5, limit=3) == [base - 2 * MINUTE, base - MINUTE, base]
    assert await opens(startTime=base, endTime=base + 2 * MINUTE, limit=1000) == [base, base + MINUTE, base + 2 * MINUTE]
    assert (await opens(startTime=0, limit=1))[0] == LISTING_MS
    assert (await opens(startTime=current + 10 * MINUTE)) == []
    backwards = await http.get("/api/v3/klines", params={"symbol": "SOLUSDT", "interval": "1m",
                                                         "startTime": base + MINUTE, "endTime": base})
    assert backwards.status_code == 400 and backwards.json()["code"] == -1023


@pytest.mark.parametrize(
    ("params", "code", "phrase"),
    [
        ({"symbol": "NOPEUSDT", "interval": "1m"}, -1121, "Invalid symbol."),
        ({"symbol": "BTCUSDT", "interval": "7m"}, -1120, "Invalid interval."),
        ({"symbol": "btcusdt", "interval": "1m"}, -1100, "Illegal characters found in parameter 'symbol'"),
        ({"interval": "1m"}, -1102, "Mandatory parameter 'symbol'"),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": "ten"}, -1130, "parameter 'limit'"),
    ],
)
async def test_bad_kline_requests_get_binance_errors(http: httpx.AsyncClient, params: dict[str, str], code: int,
                                                     phrase: str) -> None:
    response = await http.get("/api/v3/klines", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and phrase in body["msg"]


async def test_exchange_info_lists_filters_and_refuses_unknown_symbols(http: httpx.AsyncClient) -> None:
    everything = (await http.get("/api/v3/exchangeInfo")).json()
    names = {s["symbol"] for s in everything["symbols"]}
    assert {"BTCUSDT", "ETHBTC"} <= names and len(names) >= 20
    assert all(s["status"] == "TRADING" for s in everything["symbols"])
    one = (await http.get("/api/v3/exchangeInfo", params={"symbol": "ETHBTC"})).json()
    assert [(s["symbol"], s["baseAsset"], s["quoteAsset"]) for s in one["symbols"]] == [("ETHBTC", "ETH", "BTC")]
    two = (await http.get("/api/v3/exchangeInfo", params={"symbols": json.dumps(["BTCUSDT", "ETHUSDT"])})).json()
    assert {s["symbol"] for s in two["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    unknown = await http.get("/api/v3/exchangeInfo", params={"symbol": "NOPEUSDT"})
    assert unknown.status_code == 400 and unknown.json()["code"] == -1121
    futures = (await http.get("/fapi/v1/exchangeInfo")).json()
    assert "ETHBTC" not in {s["symbol"] for s in futures["symbols"]}


async def test_futures_refuse_one_second_klines(http: httpx.AsyncClient) -> None:
    spot = await http.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1s", "limit": 5})
    futures = await http.get("/fapi/v1/klines", params={"symbol": "BTCUSDT", "interval": "1s"})
    assert spot.status_code == 200 and len(spot.json()) == 5
    assert futures.status_code == 400 and futures.json()["code"] == -1120


async def test_bybit_klines_are_strings_newest_first_default_200(sim: SimExchange, http: httpx.AsyncClient) -> None:
    response = await http.get("/v5/market/kline", params={"category": "spot", "symbol": "BTCUSDT", "interval": "1"})
    body = response.json()
    rows = body["result"]["list"]
    assert body["retCode"] == 0 and body["result"]["category"] == "spot" and len(rows) == 200
    starts = [int(row[0]) for row in rows]
    assert starts == sorted(starts, reverse=True) and starts[0] == sim.current_open_time("1m")
    assert all(isinstance(cell, str) for row in rows for cell in row)
    truth = sim.candle("BTCUSDT", "1m", starts[1])
    assert truth is not None and (float(rows[1][1]), float(rows[1][4])) == (truth.open, truth.close)
    limited = await http.get("/v5/market/kline", params={"category": "linear", "symbol": "BTCUSDT",
                                                        "interval": "60", "limit": 1000})
    assert len(limited.json()["result"]["list"]) == 1000
    window = await http.get("/v5/market/kline", params={
        "category": "spot", "symbol": "BTCUSDT", "interval": "1", "start": starts[10], "end": starts[5]})
    assert [int(r[0]) for r in window.json()["result"]["list"]] == starts[5:11]


@pytest.mark.parametrize(
    ("params", "phrase"),
    [
        ({"category": "spot", "symbol": "NOPEUSDT", "interval": "1"}, "Not supported symbols"),
        ({"category": "linear", "symbol": "ETHBTC", "interval": "1"}, "Not supported symbols"),
        ({"category": "spot", "symbol": "BTCUSDT", "interval": "7"}, "nterval"),
        ({"category": "spot", "symbol": "BTCUSDT", "interval": "1", "limit": "1001"}, "limit"),
    ],
)
async def test_bybit_business_errors_are_http_200_with_retcode(http: httpx.AsyncClient, params: dict[str, str],
                                                               phrase: str) -> None:
    response = await http.get("/v5/market/kline", params=params)
    body = response.json()
    assert response.status_code == 200 and body["retCode"] == 10001 and phrase in body["retMsg"]


async def test_bybit_instruments_per_category_with_linear_pages(http: httpx.AsyncClient) -> None:
    spot = (await http.get("/v5/market/instruments-info", params={"category": "spot"})).json()
    assert "ETHBTC" in {s["symbol"] for s in spot["result"]["list"]}
    seen: list[str] = []
    cursor = ""
    for _ in range(20):
        page = (await http.get("/v5/market/instruments-info",
                               params={"category": "linear", "limit": 7, "cursor": cursor})).json()["result"]
        seen += [s["symbol"] for s in page["list"]]
        cursor = page["nextPageCursor"]
        if not cursor:
            break
    assert "BTCUSDT" in seen and "ETHBTC" not in seen and len(seen) == len(set(seen)) > 7
    missing = (await http.get("/v5/market/instruments-info")).json()
    assert missing["retCode"] == 10001 and "category" in missing["retMsg"]


async def test_unknown_paths_are_404(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/v3/depth")).status_code == 404
    assert (await http.get("/")).status_code == 404
