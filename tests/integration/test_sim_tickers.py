"""The simulator's 24 h tickers over real loopback HTTP, read by the product's RestClient:
every listed pair, in each exchange's grammar, agreeing with the simulator's own candles."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cryptoai_tui.exchanges.base import ExchangeProtocol, top_by_turnover
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.exchanges.rest import RestClient
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.rest import LINEAR_QUOTES
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.sim.symbols import listing_of

START = 1_700_000_000_000
HOUR = 3_600_000
SYMBOLS = ("BTCUSDT", "ETHUSDT", "DOGEUSDT", "ETHBTC", "SIM001USDT")


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    async with SimExchange(SimConfig(speed=1.0, start_ms=START, symbols=SYMBOLS)) as running:
        yield running


def _at(sim: SimExchange, protocol: ExchangeProtocol) -> ExchangeProtocol:
    return type(protocol)(sim.ws_url, sim.rest_url)


@pytest.mark.parametrize("protocol", [BinanceSpot(), BinanceUsdm(), BybitSpot(), BybitLinear()],
                         ids=lambda p: p.name)
async def test_every_listed_pair_has_a_ticker(sim: SimExchange, protocol: ExchangeProtocol) -> None:
    async with RestClient(_at(sim, protocol)) as rest:
        tickers = await rest.get_tickers()
    linear = protocol.name in ("binance-futures", "bybit-linear")
    expected = [s for s in SYMBOLS if not linear or s.endswith(LINEAR_QUOTES)]
    assert [t.symbol for t in tickers] == expected
    for ticker in tickers:
        assert ticker.low_price <= min(ticker.open_price, ticker.last_price)
        assert ticker.high_price >= max(ticker.open_price, ticker.last_price)
        assert ticker.volume > 0 and ticker.quote_volume > 0


async def test_a_ticker_agrees_with_the_simulators_candles(sim: SimExchange) -> None:
    async with RestClient(_at(sim, BinanceSpot())) as rest:
        before = sim.now_ms()
        tickers = {t.symbol: t for t in await rest.get_tickers()}
        after = sim.now_ms()
    btc = tickers["BTCUSDT"]
    # the window's first hour opened 23 h before the forming one
    first_open = (before // HOUR - 23) * HOUR
    assert btc.open_price == sim.candle("BTCUSDT", "1h", first_open).open  # type: ignore[union-attr]
    # the last price is the forming minute's close at some moment of the request
    closes = {c.close for at in range(before, after + 1, 50)
              if (c := sim.market.candle("BTCUSDT", "1m", at // 60_000 * 60_000, at)) is not None}
    assert btc.last_price in closes


async def test_the_most_traded_come_first(sim: SimExchange) -> None:
    async with RestClient(_at(sim, BybitSpot())) as rest:
        tickers = await rest.get_tickers()
    # BTC trades 1.5e9 a day in the listing, ETH 8e8, DOGE 2e8, the made-up pair 1e7
    assert top_by_turnover(tickers, 3) == ["BTCUSDT", "ETHUSDT", "DOGEUSDT"]


async def test_one_symbol_and_an_unknown_one(sim: SimExchange) -> None:
    async with httpx.AsyncClient(base_url=sim.rest_url, timeout=5) as http:
        one = (await http.get("/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"})).json()
        assert one["symbol"] == "ETHUSDT" and float(one["lastPrice"]) > 0
        unknown = await http.get("/api/v3/ticker/24hr", params={"symbol": "NOPEUSDT"})
        assert unknown.status_code == 400 and unknown.json()["code"] == -1121
        weight = int(unknown.headers["X-MBX-USED-WEIGHT-1M"])
        assert weight >= 160  # 80 a call without a symbol, as documented
        bybit = (await http.get("/v5/market/tickers", params={"category": "spot", "symbol": "NOPEUSDT"})).json()
        assert bybit["retCode"] != 0
        missing = (await http.get("/v5/market/tickers")).json()
        assert missing["retCode"] != 0 and "category" in missing["retMsg"]
    assert isinstance(BinanceSpot().parse_error(400, {}, unknown.text, None), InvalidSymbolError)


def test_a_large_listing_is_deterministic_and_unique() -> None:
    names = listing_of(300)
    assert len(names) == len(set(names)) == 300
    assert names[:2] == ("BTCUSDT", "ETHUSDT") and names[-1] == "SIM274USDT"
    assert listing_of(300) == names and listing_of(3) == ("BTCUSDT", "ETHUSDT", "BNBUSDT")
