"""24 h tickers (what `watch --top N` ranks and the 24 h change reads): the documented
payloads parse, bad entries are refused with a sentence, and encode -> parse round-trips
so the simulator cannot drift from the client."""

from __future__ import annotations

import copy

import pytest

from cryptoai_tui.exchanges.base import ExchangeProtocol, Ticker24h, top_by_turnover
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUS, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.exchanges.errors import MalformedMessageError
from tests.conftest import load_fixture


def test_binance_spot_fixture_parses() -> None:
    [ticker] = BinanceSpot().parse_tickers(load_fixture("binance_ticker_24hr_rest.json"))
    assert ticker == Ticker24h("BNBBTC", 4.000002, 99.0, 100.0, 0.1, 8913.3, 15.3)
    # the documented priceChangePercent of the same example, -95.960
    assert ticker.change_percent == pytest.approx(-95.960, abs=1e-3)


def test_binance_usdm_fixture_parses_without_bid_ask() -> None:
    [ticker] = BinanceUsdm().parse_tickers(load_fixture("binance_usdm_ticker_24hr_rest.json"))
    assert ticker.symbol == "BTCUSDT" and ticker.quote_volume == 15.3 and ticker.open_price == 99.0


def test_bybit_fixtures_parse() -> None:
    [spot] = BybitSpot().parse_tickers(load_fixture("bybit_tickers_spot_rest.json"))
    assert spot == Ticker24h("BTCUSDT", 20533.13, 20393.48, 21128.12, 20318.89, 11801.27771, 243765620.65899866)
    # Bybit's price24hPcnt is a fraction: 0.0068 of the example
    assert spot.change_percent == pytest.approx(0.68, abs=0.01)
    [linear] = BybitLinear().parse_tickers(load_fixture("bybit_tickers_linear_rest.json"))
    assert linear.last_price == 16597.0 and linear.open_price == 16464.5
    assert linear.change_percent == pytest.approx(0.8047, abs=0.001)


def test_requests_name_the_documented_paths() -> None:
    assert BinanceSpot().tickers_request().path == "/api/v3/ticker/24hr"
    assert BinanceUS().tickers_request().path == "/api/v3/ticker/24hr"
    assert BinanceUsdm().tickers_request().path == "/fapi/v1/ticker/24hr"
    spot = BybitSpot().tickers_request()
    assert spot.path == "/v5/market/tickers" and dict(spot.params) == {"category": "spot"}
    assert dict(BybitLinear().tickers_request().params) == {"category": "linear"}


@pytest.mark.parametrize(("field", "value", "words"), [
    ("lastPrice", "-1.5", "negative price"),
    ("quoteVolume", 15.3, "JSON number"),
    ("symbol", "bnb btc", "not a symbol"),
    ("openPrice", "NaN", "non-finite"),
])
def test_a_bad_binance_entry_refuses_the_reply(field: str, value: object, words: str) -> None:
    body = copy.deepcopy(load_fixture("binance_ticker_24hr_rest.json"))
    body[0][field] = value
    with pytest.raises(MalformedMessageError) as caught:
        BinanceSpot().parse_tickers(body)
    assert words in str(caught.value) and "24 h ticker 1 of 1" in str(caught.value)


def test_missing_fields_and_wrong_shapes_are_refused() -> None:
    body = copy.deepcopy(load_fixture("bybit_tickers_spot_rest.json"))
    del body["result"]["list"][0]["turnover24h"]
    with pytest.raises(MalformedMessageError, match="turnover24h"):
        BybitSpot().parse_tickers(body)
    with pytest.raises(MalformedMessageError, match="JSON array"):
        BinanceSpot().parse_tickers({"symbol": "BTCUSDT"})
    with pytest.raises(MalformedMessageError, match="result"):
        BybitLinear().parse_tickers([])


@pytest.mark.parametrize("protocol", [BinanceSpot(), BinanceUsdm(), BybitSpot(), BybitLinear()],
                         ids=lambda p: p.name)
def test_encode_then_parse_round_trips(protocol: ExchangeProtocol) -> None:
    tickers = [
        Ticker24h("BTCUSDT", 65000.5, 64000.0, 66000.0, 63000.25, 1234.5678, 80_000_000.125),
        Ticker24h("PEPEUSDT", 0.000009, 0.0000085, 0.0000095, 0.000008, 1e12, 9_000_000.0),
    ]
    assert protocol.parse_tickers(protocol.encode_tickers(tickers, 1_700_000_000_000)) == tickers


def test_top_by_turnover_ranks_by_quote_volume_then_name() -> None:
    tickers = [Ticker24h(name, 1, 1, 1, 1, 1, turnover) for name, turnover in
               (("AAA", 5.0), ("BBB", 9.0), ("CCC", 5.0), ("DDD", 1.0))]
    assert top_by_turnover(tickers, 3) == ["BBB", "AAA", "CCC"]
    assert top_by_turnover(tickers, 10) == ["BBB", "AAA", "CCC", "DDD"]
    with pytest.raises(ValueError, match="1 or more"):
        top_by_turnover(tickers, 0)
