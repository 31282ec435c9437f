"""Binance spot / Binance.US / USD-M: URLs, messages, parsers, error mapping and encoders,
checked against the payloads copied from the exchanges' docs (tests/data/fixtures)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from cryptoai_tui.exchanges.base import (
    ClientRequest,
    ControlKind,
    ControlMessage,
    KlineMessage,
    KlinesQuery,
    RequestKind,
    ShutdownNotice,
    format_decimal,
)
from cryptoai_tui.exchanges import refusals
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUS, BinanceUsdm
from cryptoai_tui.exchanges.errors import (
    ExchangeError,
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    MalformedMessageError,
    RateLimitedError,
    RegionBlockedError,
)
from cryptoai_tui.market import Candle, Interval, MarketKind, Symbol
from tests.conftest import fixture_text, load_fixture

SPOT, US, USDM = BinanceSpot(), BinanceUS(), BinanceUsdm()
ALL = (SPOT, US, USDM)


def docs_kline(name: str) -> dict[str, Any]:
    """A Binance kline fixture with its low made possible. The docs' example has low 0.0015
    above its open 0.0010, a candle no market can print, which the parser rightly refuses
    (test_the_docs_example_kline_is_refused_for_its_low); every other value is the docs'."""
    fixture = load_fixture(name)
    k = fixture["data"]["k"] if "data" in fixture else fixture["k"]
    k["l"] = "0.0010"
    return fixture


def assert_same_shape(encoded: Any, fixture: Any, where: str = "$") -> None:
    """Same keys in the same order and the same JSON type at every level (values may differ)."""
    assert type(encoded) is type(fixture), f"{where}: {type(encoded).__name__} != {type(fixture).__name__}"
    if isinstance(fixture, dict):
        assert list(encoded) == list(fixture), f"{where}: keys {list(encoded)} != {list(fixture)}"
        for key in fixture:
            assert_same_shape(encoded[key], fixture[key], f"{where}.{key}")
    elif isinstance(fixture, list) and fixture:
        assert encoded, f"{where}: empty list where the fixture has items"
        for index, item in enumerate(encoded):
            assert_same_shape(item, fixture[min(index, len(fixture) - 1)], f"{where}[{index}]")


# --- endpoint sets -----------------------------------------------------------------------

def test_endpoint_sets_match_the_reference() -> None:
    assert (SPOT.name, SPOT.default_ws_base, SPOT.default_rest_base) == (
        "binance", "wss://stream.binance.com:9443", "https://api.binance.com")
    assert (US.name, US.default_ws_base, US.default_rest_base) == (
        "binanceus", "wss://stream.binance.us:9443", "https://api.binance.us")
    assert (USDM.name, USDM.default_ws_base, USDM.default_rest_base) == (
        "binance-futures", "wss://fstream.binance.com", "https://fapi.binance.com")
    assert SPOT.limits.max_streams_per_connection == 1024
    assert SPOT.limits.max_incoming_messages_per_second == 5
    assert (SPOT.limits.max_connection_attempts, SPOT.limits.connection_attempt_window_s) == (300, 300)
    assert SPOT.limits.max_lifetime_s == 24 * 3600
    assert USDM.limits.max_streams_per_connection == 200
    assert USDM.limits.max_incoming_messages_per_second == 10
    assert (USDM.rest_kline_limit_default, USDM.rest_kline_limit_max) == (500, 1500)
    assert (SPOT.rest_kline_limit_default, SPOT.rest_kline_limit_max) == (500, 1000)
    assert SPOT.market_kind is MarketKind.SPOT and USDM.market_kind is MarketKind.LINEAR
    assert all(p.client_ping_interval_s is None and p.ping_message() is None for p in ALL)


def test_rest_paths_per_endpoint_set() -> None:
    for proto in (SPOT, US):
        assert (proto.klines_path, proto.symbols_path, proto.time_path) == (
            "/api/v3/klines", "/api/v3/exchangeInfo", "/api/v3/time")
    assert (USDM.klines_path, USDM.symbols_path, USDM.time_path) == (
        "/fapi/v1/klines", "/fapi/v1/exchangeInfo", "/fapi/v1/time")


# --- intervals ---------------------------------------------------------------------------

def test_intervals_spot_has_1s_and_us_and_futures_do_not() -> None:
    assert SPOT.intervals == ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h",
                              "12h", "1d", "3d", "1w", "1M")
    assert US.intervals == SPOT.intervals[1:] == USDM.intervals
    assert SPOT.interval_code("1s") == "1s"
    for proto in (US, USDM):
        with pytest.raises(InvalidIntervalError) as info:
            proto.interval_code("1s")
        assert "1s" not in info.value.valid and "1m" in info.value.valid
        assert proto.display_name in str(info.value)


@pytest.mark.parametrize("given,expected", [
    ("1m", "1m"), ("1M", "1M"), ("60m", "1h"), ("24h", "1d"), ("7d", "1w"), ("1mo", "1M"),
    (Interval.parse("4h"), "4h"),
])
def test_interval_code_accepts_equivalent_spellings(given: Interval | str, expected: str) -> None:
    assert SPOT.interval_code(given) == expected
    assert SPOT.interval_from_code(expected) == expected


@pytest.mark.parametrize("bad", ["7m", "2w", "banana", "0m", ""])
def test_invalid_interval_lists_the_valid_ones(bad: str) -> None:
    with pytest.raises(InvalidIntervalError) as info:
        SPOT.interval_code(bad)
    message = str(info.value)
    assert f"Invalid interval {bad!r} on Binance." in message
    assert "Valid intervals: 1s, 1m, 3m" in message
    assert info.value.valid == SPOT.intervals


def test_interval_from_code_is_case_sensitive_like_binance() -> None:
    with pytest.raises(InvalidIntervalError):
        SPOT.interval_from_code("1H")


# --- URLs and control messages -----------------------------------------------------------

def test_stream_names_are_lowercase_and_parse_back() -> None:
    assert SPOT.stream_name("BTCUSDT", "1m") == "btcusdt@kline_1m"
    assert SPOT.parse_stream_name("btcusdt@kline_1m") == ("BTCUSDT", "1m")
    assert SPOT.parse_stream_name("ethusdt@kline_1h@+08:00") == ("ETHUSDT", "1h")
    with pytest.raises(MalformedMessageError):
        SPOT.parse_stream_name("btcusdt@trade")
    with pytest.raises(InvalidIntervalError):
        US.parse_stream_name("btcusdt@kline_1s")


@pytest.mark.parametrize("proto,streams,url", [
    (SPOT, ["btcusdt@kline_1m"], "wss://stream.binance.com:9443/ws/btcusdt@kline_1m"),
    (SPOT, ["btcusdt@kline_1m", "ethusdt@kline_5m"],
     "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m/ethusdt@kline_5m"),
    (SPOT, [], "wss://stream.binance.com:9443/ws"),
    (US, ["btcusdt@kline_1m"], "wss://stream.binance.us:9443/ws/btcusdt@kline_1m"),
    (USDM, ["btcusdt@kline_1m"], "wss://fstream.binance.com/market/ws/btcusdt@kline_1m"),
    (USDM, ["btcusdt@kline_1m", "ethusdt@kline_5m"],
     "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_5m"),
    (BinanceSpot("ws://127.0.0.1:8765"), ["a@kline_1m", "b@kline_1m"],
     "ws://127.0.0.1:8765/stream?streams=a@kline_1m/b@kline_1m"),
    (BinanceSpot("ws://127.0.0.1:8765/"), ["a@kline_1m"], "ws://127.0.0.1:8765/ws/a@kline_1m"),
    (BinanceUsdm("ws://127.0.0.1:9"), ["a@kline_1m", "b@kline_1m"],
     "ws://127.0.0.1:9/market/stream?streams=a@kline_1m/b@kline_1m"),
])
def test_ws_urls(proto: BinanceSpot, streams: list[str], url: str) -> None:
    assert proto.ws_url(streams) == url
    parts = urlsplit(url)
    assert proto.streams_from_url(f"{parts.path}?{parts.query}") == streams


def test_ws_url_combined_can_be_forced_for_one_stream() -> None:
    url = SPOT.ws_url(["btcusdt@kline_1m"], combined=True)
    assert url.endswith("/stream?streams=btcusdt@kline_1m")
    assert SPOT.url_is_combined("/stream?streams=btcusdt@kline_1m")
    assert not SPOT.url_is_combined("/ws/btcusdt@kline_1m")


def test_ws_url_refuses_more_streams_than_a_connection_takes() -> None:
    with pytest.raises(ValueError, match="at most 200 streams per connection"):
        USDM.ws_url([f"s{i}@kline_1m" for i in range(201)])


def test_subscribe_messages_match_the_fixture_shape() -> None:
    fixture = load_fixture("binance_ws_subscribe_request.json")
    [message] = SPOT.subscribe_messages(fixture["params"], request_id=fixture["id"])
    assert json.loads(message) == fixture
    unsub = load_fixture("binance_ws_unsubscribe_request.json")
    [message] = SPOT.unsubscribe_messages(unsub["params"], request_id=unsub["id"])
    assert json.loads(message) == unsub


def test_subscribe_messages_chunk_at_the_stream_cap_with_increasing_ids() -> None:
    streams = [f"s{i}@kline_1m" for i in range(450)]
    messages = [json.loads(m) for m in USDM.subscribe_messages(streams, request_id=7)]
    assert [len(m["params"]) for m in messages] == [200, 200, 50]
    assert [m["id"] for m in messages] == [7, 8, 9]
    assert [s for m in messages for s in m["params"]] == streams


def test_client_requests_parse_back_on_the_server_side() -> None:
    request = SPOT.parse_client_request(fixture_text("binance_ws_subscribe_request.json"))
    assert request == ClientRequest(RequestKind.SUBSCRIBE, ("btcusdt@aggTrade", "btcusdt@depth"), 1)
    request = SPOT.parse_client_request(fixture_text("binance_ws_unsubscribe_request.json"))
    assert request == ClientRequest(RequestKind.UNSUBSCRIBE, ("btcusdt@depth",), 312)
    listing = SPOT.parse_client_request('{"method":"LIST_SUBSCRIPTIONS","id":3}')
    assert listing == ClientRequest(RequestKind.LIST_SUBSCRIPTIONS, (), 3)
    prop = SPOT.parse_client_request('{"method":"SET_PROPERTY","params":["combined",true],"id":5}')
    assert prop == ClientRequest(RequestKind.SET_PROPERTY, (), 5, ("combined", True))


@pytest.mark.parametrize("text,fragment", [
    ("{not json", "Invalid JSON"),
    ('{"params":[],"id":1}', "missing field `method`"),
    ('{"method":"PING","id":1}', "unknown variant `PING`"),
    ('{"method":"SUBSCRIBE","params":[1],"id":1}', "invalid stream"),
])
def test_bad_client_requests_say_what_binance_would(text: str, fragment: str) -> None:
    with pytest.raises(MalformedMessageError, match=fragment):
        SPOT.parse_client_request(text)


# --- WebSocket parsing -------------------------------------------------------------------

def _check_fixture_kline(message: KlineMessage, symbol: str, fixture: dict[str, Any]) -> None:
    k = fixture["k"]
    assert message.symbol == symbol and type(message.symbol) is str
    assert message.interval == "1m"
    assert message.event_time == fixture["E"] and type(message.event_time) is int
    candle = message.candle
    assert (candle.open_time, candle.close_time) == (k["t"], k["T"])
    assert type(candle.open_time) is int and type(candle.close_time) is int
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (0.001, 0.0025, 0.001, 0.002, 1000.0)
    assert all(type(v) is float for v in (candle.open, candle.high, candle.low, candle.close, candle.volume))
    assert candle.closed is False


def test_parse_raw_kline_fixture_field_by_field() -> None:
    [message] = SPOT.parse_ws_message(json.dumps(docs_kline("binance_kline_ws.json")))
    assert isinstance(message, KlineMessage)
    _check_fixture_kline(message, "BNBBTC", load_fixture("binance_kline_ws.json"))


def test_parse_combined_kline_fixture_field_by_field() -> None:
    [message] = SPOT.parse_ws_message(json.dumps(docs_kline("binance_kline_ws_combined.json")).encode())
    assert isinstance(message, KlineMessage)
    _check_fixture_kline(message, "BNBBTC", load_fixture("binance_kline_ws_combined.json")["data"])


def test_parse_usdm_kline_fixture_field_by_field() -> None:
    [message] = USDM.parse_ws_message(json.dumps(docs_kline("binance_usdm_kline_ws.json")))
    assert isinstance(message, KlineMessage)
    _check_fixture_kline(message, "BTCUSDT", load_fixture("binance_usdm_kline_ws.json"))


def test_the_docs_example_kline_is_refused_for_its_low() -> None:
    for proto, name in ((SPOT, "binance_kline_ws.json"), (SPOT, "binance_kline_ws_combined.json"),
                        (USDM, "binance_usdm_kline_ws.json")):
        with pytest.raises(MalformedMessageError, match="low 0.0015 above its open 0.001") as info:
            proto.parse_ws_message(fixture_text(name))
        assert info.value.reason == refusals.LOW_ABOVE_OPEN_CLOSE


def test_closed_flag_comes_from_k_x() -> None:
    payload = docs_kline("binance_kline_ws.json")
    payload["k"]["x"] = True
    [message] = SPOT.parse_ws_message(json.dumps(payload))
    assert isinstance(message, KlineMessage) and message.candle.closed is True


@pytest.mark.parametrize("name", ["binance_ws_server_shutdown.json", "binance_ws_server_shutdown_combined.json"])
def test_server_shutdown_raw_and_combined(name: str) -> None:
    assert SPOT.parse_ws_message(fixture_text(name)) == [ShutdownNotice(1770123456789)]


def test_parse_replies() -> None:
    assert SPOT.parse_ws_message(fixture_text("binance_ws_subscribe_response.json")) == [
        ControlMessage(ControlKind.ACK, request_id=1)]
    assert SPOT.parse_ws_message(fixture_text("binance_ws_list_subscriptions_response.json")) == [
        ControlMessage(ControlKind.LIST, request_id=3, result=["btcusdt@aggTrade"])]
    [error] = SPOT.parse_ws_message(fixture_text("binance_ws_error_invalid_stream_observed.json"))
    assert error == ControlMessage(ControlKind.ERROR, ok=False, request_id=1,
                                   detail="Invalid request: invalid stream", code=2)
    [bare] = SPOT.parse_ws_message('{"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}')
    assert (bare.kind, bare.ok, bare.code, bare.request_id) == (ControlKind.ERROR, False, 3, None)
    assert bare.kind == "error"  # str Enum: string comparisons keep working
    [prop] = SPOT.parse_ws_message('{"result":true,"id":2}')
    assert prop == ControlMessage(ControlKind.OTHER, request_id=2, result=True)


@pytest.mark.parametrize("frame", [
    "not json", "[1,2]", '{"hello":1}', '{"stream":"x","data":[1]}',
    '{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1}}',
    '{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1,"T":2,"s":"BTCUSDT","i":"1m","o":"x","c":"1","h":"1","l":"1","v":"1","x":false}}',
    '{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1,"T":2,"s":"BTCUSDT","i":"1m","o":"1","c":"1","h":"1","l":"1","v":"1","x":"false"}}',
    '{"e":"serverShutdown"}',
])
def test_malformed_frames_raise_a_sentence(frame: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        SPOT.parse_ws_message(frame)
    assert str(info.value).startswith("Binance sent")


def test_unknown_events_are_not_errors() -> None:
    [message] = SPOT.parse_ws_message('{"e":"24hrTicker","E":1}')
    assert message == ControlMessage(ControlKind.OTHER, detail="event 24hrTicker")


# --- REST parsing ------------------------------------------------------------------------

@pytest.mark.parametrize("proto,name", [
    (SPOT, "binance_klines_rest.json"), (US, "binanceus_klines_rest.json"),
    (USDM, "binance_usdm_klines_rest.json"),
])
def test_parse_rest_klines_fixture_field_by_field(proto: BinanceSpot, name: str) -> None:
    [candle] = proto.parse_klines(load_fixture(name))
    assert candle == Candle(1499040000000, 0.0163479, 0.8, 0.015758, 0.015771, 148976.11427815,
                            1499644799999, True)
    assert type(candle.open_time) is int and type(candle.close_time) is int
    assert all(type(v) is float for v in (candle.open, candle.high, candle.low, candle.close, candle.volume))


def test_rest_rows_are_read_in_o_h_l_c_order() -> None:
    row = [0, "1", "4", "0.5", "2", "10", 59_999, "0", 0, "0", "0", "0"]
    [candle] = SPOT.parse_klines([row])
    assert (candle.open, candle.high, candle.low, candle.close) == (1.0, 4.0, 0.5, 2.0)


@pytest.mark.parametrize("body", [{"code": -1121}, [[1, "x"]], [["a", "1", "1", "1", "1", "1", 2]]])
def test_bad_rest_klines_raise_malformed(body: Any) -> None:
    with pytest.raises(MalformedMessageError):
        SPOT.parse_klines(body)


def test_parse_exchange_info_fixtures() -> None:
    symbols, cursor = SPOT.parse_symbols(load_fixture("binance_exchangeinfo_min.json"))
    assert symbols == [Symbol("ETHBTC", "ETH", "BTC", "TRADING")] and cursor is None
    assert symbols[0].trading
    symbols, cursor = USDM.parse_symbols(load_fixture("binance_usdm_exchangeinfo_min.json"))
    assert symbols == [Symbol("BLZUSDT", "BLZ", "USDT", "TRADING")] and cursor is None
    with pytest.raises(MalformedMessageError):
        SPOT.parse_symbols({"timezone": "UTC"})


def test_parse_time_fixtures() -> None:
    assert SPOT.parse_server_time(load_fixture("binance_time.json")) == 1499827319559
    assert USDM.parse_server_time(load_fixture("binance_usdm_time.json")) == 1499827319559
    assert SPOT.time_request().path == "/api/v3/time"
    with pytest.raises(MalformedMessageError):
        SPOT.parse_server_time(load_fixture("binance_ping.json"))


def test_klines_request_params_and_limits() -> None:
    request = SPOT.klines_request("btcusdt", "1h", start_time=1, end_time=2, limit=1000)
    assert request.path == "/api/v3/klines"
    assert request.params == {"symbol": "BTCUSDT", "interval": "1h", "startTime": 1, "endTime": 2, "limit": 1000}
    assert SPOT.klines_request("BTCUSDT", "1m").params == {"symbol": "BTCUSDT", "interval": "1m"}
    assert USDM.klines_request("BTCUSDT", "1m", limit=1500).path == "/fapi/v1/klines"
    with pytest.raises(ValueError, match="1 to 1000 klines"):
        SPOT.klines_request("BTCUSDT", "1m", limit=1001)


def test_klines_request_reads_back_on_the_server_side() -> None:
    params = {k: str(v) for k, v in SPOT.klines_request("BTCUSDT", "5m", start_time=10, limit=3).params.items()}
    assert SPOT.parse_klines_request(params) == KlinesQuery("BTCUSDT", "5m", 10, None, 3)
    with pytest.raises(ValueError, match="Illegal characters found in parameter 'symbol'"):
        SPOT.parse_klines_request({"symbol": "btcusdt", "interval": "1m"})
    with pytest.raises(ValueError, match="Mandatory parameter 'symbol'"):
        SPOT.parse_klines_request({"interval": "1m"})
    with pytest.raises(ValueError, match="'limit' is not valid"):
        SPOT.parse_klines_request({"symbol": "BTCUSDT", "interval": "1m", "limit": "1001"})
    with pytest.raises(InvalidIntervalError):
        US.parse_klines_request({"symbol": "BTCUSDT", "interval": "1s"})


# --- REST error mapping ------------------------------------------------------------------

REQ = SPOT.klines_request("BTCUSDX", "1m")


def test_success_statuses_are_not_errors() -> None:
    assert SPOT.parse_error(200, {}, "[]", REQ) is None


def test_invalid_symbol_fixture_maps_to_invalid_symbol_error() -> None:
    error = SPOT.parse_error(400, {}, fixture_text("binance_error_invalid_symbol.json"), REQ)
    assert isinstance(error, InvalidSymbolError)
    assert error.symbol == "BTCUSDX" and str(error) == "Unknown symbol 'BTCUSDX' on Binance."


def test_invalid_interval_fixture_lists_valid_intervals() -> None:
    request = US.klines_request("BTCUSDT", "1m")
    error = US.parse_error(400, {}, fixture_text("binance_error_invalid_interval.json"), request)
    assert isinstance(error, InvalidIntervalError)
    assert error.valid == US.intervals and "Valid intervals: 1m, 3m" in str(error)


def test_illegal_chars_on_symbol_suggests_upper_case() -> None:
    body = json.dumps({"code": -1100, "msg": "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."})
    request = SPOT.klines_request("BTCUSDT", "1m")
    lowered = type(request)(request.path, {**request.params, "symbol": "btcusdt"})
    error = SPOT.parse_error(400, {}, body, lowered)
    assert isinstance(error, InvalidSymbolError) and error.suggestions == ("BTCUSDT",)
    assert "Did you mean BTCUSDT?" in str(error)


def test_429_and_418_carry_retry_after() -> None:
    error = SPOT.parse_error(429, {"Retry-After": "42"}, '{"code":-1003,"msg":"Too much request weight used"}')
    assert isinstance(error, RateLimitedError) and error.retry_after == 42.0 and error.retryable
    assert "wait 42 s" in str(error)
    error = SPOT.parse_error(418, {"retry-after": "7200"}, '{"code":-1003,"msg":"IP banned until 1"}')
    assert isinstance(error, IpBannedError) and error.retry_after == 7200.0 and not error.retryable
    error = SPOT.parse_error(429, {}, "")
    assert isinstance(error, RateLimitedError) and error.retry_after == 60.0


def test_451_geo_block_points_us_users_to_binanceus() -> None:
    error = SPOT.parse_error(451, {}, fixture_text("binance_error_geo_451.json"))
    assert isinstance(error, RegionBlockedError)
    assert "--exchange binanceus" in str(error) and str(error).startswith("Binance refuses")
    error = USDM.parse_error(451, {}, fixture_text("binance_error_geo_451.json"))
    assert isinstance(error, RegionBlockedError) and "bybit-linear" in str(error)


def test_binance_us_cloudfront_403_html_is_a_region_block() -> None:
    reply = US.encode_rest_error(RegionBlockedError("Binance.US", ""))
    assert reply.status == 403 and reply.body.lstrip().startswith("<!DOCTYPE HTML")
    error = US.parse_error(reply.status, reply.headers, reply.body)
    assert isinstance(error, RegionBlockedError)
    assert "Binance.US serves only US IPs; outside the US try --exchange binance or bybit-spot" in str(error)


def test_plain_403_is_a_firewall_refusal_not_a_region_block() -> None:
    error = SPOT.parse_error(403, {}, "<html><body>Forbidden</body></html>")
    assert type(error) is ExchangeError and "firewall" in str(error) and "<" not in str(error)


@pytest.mark.parametrize("status,body", [(500, ""), (502, "<html>Bad gateway</html>"), (503, "{}")])
def test_5xx_is_exchange_unavailable(status: int, body: str) -> None:
    error = SPOT.parse_error(status, {}, body)
    assert isinstance(error, ExchangeUnavailableError) and error.retryable
    assert f"HTTP {status}" in str(error)


def test_other_4xx_bodies_json_or_not_give_a_sentence() -> None:
    error = SPOT.parse_error(400, {}, '{"code":-1130,"msg":"Data sent for parameter \'limit\' is not valid."}')
    assert type(error) is ExchangeError and "code -1130" in str(error) and "'limit'" in str(error)
    error = SPOT.parse_error(404, {}, "<html><h1>Not Found</h1></html>")
    assert type(error) is ExchangeError and "Not Found" in str(error)
    error = SPOT.parse_error(400, {}, "")
    assert type(error) is ExchangeError and "empty body" in str(error)


# --- encoders: the simulator's side --------------------------------------------------------

CANDLE = Candle(1672515780000, 0.001, 0.0025, 0.0015, 0.002, 1000.0, 1672515839999, False)


@pytest.mark.parametrize("proto,name", [(SPOT, "binance_kline_ws.json"), (USDM, "binance_usdm_kline_ws.json")])
def test_encode_kline_matches_fixture_keys_and_types(proto: BinanceSpot, name: str) -> None:
    fixture = docs_kline(name)
    [parsed] = proto.parse_ws_message(json.dumps(fixture))
    assert isinstance(parsed, KlineMessage)
    encoded = json.loads(proto.encode_kline(fixture["s"], "1m", parsed.candle, fixture["E"]))
    assert_same_shape(encoded, fixture)
    assert set(encoded["k"]) == set("tTsifLochlvnxqVQB")
    for key in ("e", "E", "s"):
        assert encoded[key] == fixture[key]
    for key in ("t", "T", "s", "i", "x"):
        assert encoded["k"][key] == fixture["k"][key]
    for key in "ochlv":
        assert float(encoded["k"][key]) == float(fixture["k"][key])


def test_encode_combined_kline_matches_fixture() -> None:
    fixture = load_fixture("binance_kline_ws_combined.json")
    encoded = json.loads(SPOT.encode_kline("BNBBTC", "1m", CANDLE, fixture["data"]["E"], combined=True))
    assert_same_shape(encoded, fixture)
    assert encoded["stream"] == fixture["stream"]


@pytest.mark.parametrize("combined", [False, True])
def test_encode_parse_kline_round_trip_on_real_candles(combined: bool, btc_1h: list[Candle]) -> None:
    for index, candle in enumerate(btc_1h[:200]):
        candle = Candle(candle.open_time, candle.open, candle.high, candle.low, candle.close,
                        candle.volume, candle.close_time, closed=index % 2 == 0)
        frame = SPOT.encode_kline("BTCUSDT", "1h", candle, candle.open_time + 5, combined=combined)
        assert SPOT.parse_ws_message(frame) == [KlineMessage("BTCUSDT", "1h", candle, candle.open_time + 5)]


def test_encode_klines_matches_fixture_and_round_trips(btc_1h: list[Candle]) -> None:
    fixture = load_fixture("binance_klines_rest.json")
    encoded = SPOT.encode_klines(btc_1h[:3], "BTCUSDT", "1h")
    assert_same_shape(encoded, fixture)
    assert all(len(row) == 12 for row in encoded)
    assert SPOT.parse_klines(json.loads(json.dumps(encoded))) == btc_1h[:3]
    [row] = SPOT.encode_klines([SPOT.parse_klines(fixture)[0]], "BTCUSDT", "1w")
    assert row[:7] == [1499040000000, "0.0163479", "0.8", "0.015758", "0.015771", "148976.11427815", 1499644799999]


@pytest.mark.parametrize("proto,name", [
    (SPOT, "binance_exchangeinfo_min.json"), (US, "binance_exchangeinfo_min.json"),
    (USDM, "binance_usdm_exchangeinfo_min.json"),
])
def test_encode_symbols_matches_fixture_and_round_trips(proto: BinanceSpot, name: str) -> None:
    fixture = load_fixture(name)
    expected, _ = proto.parse_symbols(fixture)
    encoded = json.loads(json.dumps(proto.encode_symbols(expected, fixture["serverTime"])))
    assert_same_shape(encoded, fixture)
    assert encoded["serverTime"] == fixture["serverTime"]
    assert encoded["rateLimits"] == fixture["rateLimits"]
    assert proto.parse_symbols(encoded) == (expected, None)


def test_encode_symbols_spells_bybit_statuses_the_binance_way() -> None:
    encoded = SPOT.encode_symbols([Symbol("BTCUSDT", "BTC", "USDT", "Trading")], 0)
    assert encoded["symbols"][0]["status"] == "TRADING"


def test_encode_server_time_matches_fixture() -> None:
    fixture = load_fixture("binance_time.json")
    assert SPOT.encode_server_time(fixture["serverTime"]) == fixture
    assert USDM.encode_server_time(1) == {"serverTime": 1}


@pytest.mark.parametrize("name", [
    "binance_ws_subscribe_response.json", "binance_ws_list_subscriptions_response.json",
    "binance_ws_error_invalid_stream_observed.json",
])
def test_encode_control_reproduces_reply_fixtures(name: str) -> None:
    [message] = SPOT.parse_ws_message(fixture_text(name))
    assert isinstance(message, ControlMessage)
    assert json.loads(SPOT.encode_control(message)) == load_fixture(name)


def test_encode_control_bare_error_and_property_value() -> None:
    bare = ControlMessage(ControlKind.ERROR, ok=False, detail="Invalid JSON: expected value at line 1 column 1", code=3)
    assert json.loads(SPOT.encode_control(bare)) == {"code": 3, "msg": bare.detail}
    assert SPOT.parse_ws_message(SPOT.encode_control(bare)) == [bare]
    value = ControlMessage(ControlKind.OTHER, request_id=2, result=True)
    assert json.loads(SPOT.encode_control(value)) == {"result": True, "id": 2}
    with pytest.raises(ValueError, match="pong frames"):
        SPOT.encode_control(ControlMessage(ControlKind.PONG))


@pytest.mark.parametrize("combined,name", [
    (False, "binance_ws_server_shutdown.json"), (True, "binance_ws_server_shutdown_combined.json"),
])
def test_encode_server_shutdown_matches_fixtures(combined: bool, name: str) -> None:
    assert json.loads(SPOT.encode_server_shutdown(1770123456789, combined=combined)) == load_fixture(name)


@pytest.mark.parametrize("error,status,expected", [
    (RateLimitedError(30), 429, RateLimitedError),
    (IpBannedError(120), 418, IpBannedError),
    (RegionBlockedError("Binance", ""), 451, RegionBlockedError),
    (InvalidSymbolError("BTCUSDX"), 400, InvalidSymbolError),
    (InvalidIntervalError("7m"), 400, InvalidIntervalError),
    (ExchangeUnavailableError("down"), 503, ExchangeUnavailableError),
    (ValueError("Data sent for parameter 'limit' is not valid."), 400, ExchangeError),
])
def test_encode_rest_error_round_trips_through_parse_error(
        error: Exception, status: int, expected: type[Exception]) -> None:
    reply = SPOT.encode_rest_error(error, server_time=1_000)
    assert reply.status == status
    parsed = SPOT.parse_error(reply.status, reply.headers, reply.body, REQ)
    assert type(parsed) is expected
    if isinstance(error, (RateLimitedError, IpBannedError)):
        assert reply.headers["Retry-After"] == str(int(error.retry_after))
        assert parsed.retry_after == error.retry_after  # type: ignore[union-attr]


def test_encode_geo_block_matches_fixture() -> None:
    reply = SPOT.encode_rest_error(RegionBlockedError("Binance", ""))
    assert json.loads(reply.body) == load_fixture("binance_error_geo_451.json")
    assert json.loads(SPOT.encode_rest_error(InvalidSymbolError("X")).body) == load_fixture("binance_error_invalid_symbol.json")
    assert json.loads(SPOT.encode_rest_error(InvalidIntervalError("X")).body) == load_fixture("binance_error_invalid_interval.json")


def test_ip_ban_body_says_until_when() -> None:
    reply = SPOT.encode_rest_error(IpBannedError(120), server_time=1_000)
    assert "IP banned until 121000" in json.loads(reply.body)["msg"]


@pytest.mark.parametrize("value,text", [
    (17055.5, "17055.5"), (17071.0, "17071"), (0.00001, "0.00001"), (1e-10, "0.0000000001"),
    (123456789012.5, "123456789012.5"), (0.1 + 0.2, "0.30000000000000004"), (0.0, "0"),
])
def test_format_decimal_is_plain_and_round_trips(value: float, text: str) -> None:
    assert format_decimal(value) == text
    assert float(text) == value


def test_format_decimal_refuses_nan() -> None:
    with pytest.raises(ValueError, match="nan"):
        format_decimal(float("nan"))
