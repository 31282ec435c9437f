"""Bybit v5 spot and linear: URLs, topics, messages, parsers, error mapping and encoders,
checked against the payloads copied from Bybit's docs (tests/data/fixtures)."""

from __future__ import annotations

import json

import pytest

from cryptoai_tui.exchanges.base import (
    ClientRequest,
    ControlKind,
    ControlMessage,
    KlineMessage,
    KlinesQuery,
    RequestKind,
)
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
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
from cryptoai_tui.market import Candle, MarketKind, Symbol
from tests.conftest import fixture_text, load_fixture
from tests.unit.test_exchange_binance import assert_same_shape

SPOT, LINEAR = BybitSpot(), BybitLinear()
BOTH = (SPOT, LINEAR)

CANONICAL = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M")
CODES = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")


def test_endpoint_sets_match_the_reference() -> None:
    assert (SPOT.name, LINEAR.name) == ("bybit-spot", "bybit-linear")
    assert SPOT.ws_url() == "wss://stream.bybit.com/v5/public/spot"
    assert LINEAR.ws_url(["kline.1.BTCUSDT"]) == "wss://stream.bybit.com/v5/public/linear"
    assert SPOT.rest_base == LINEAR.rest_base == "https://api.bybit.com"
    assert (SPOT.rest_kline_limit_default, SPOT.rest_kline_limit_max) == (200, 1000)
    assert SPOT.limits.max_args_per_subscribe == 10 and LINEAR.limits.max_args_per_subscribe is None
    assert (SPOT.limits.max_connection_attempts, SPOT.limits.connection_attempt_window_s) == (500, 300)
    assert SPOT.client_ping_interval_s == 20.0
    assert (SPOT.market_kind, LINEAR.market_kind) == (MarketKind.SPOT, MarketKind.LINEAR)
    assert (SPOT.klines_path, SPOT.symbols_path, SPOT.time_path) == (
        "/v5/market/kline", "/v5/market/instruments-info", "/v5/market/time")


def test_overridden_ws_base_keeps_the_category_path() -> None:
    assert BybitSpot("ws://127.0.0.1:8765").ws_url() == "ws://127.0.0.1:8765/v5/public/spot"
    assert BybitLinear("ws://127.0.0.1:8765/").ws_url() == "ws://127.0.0.1:8765/v5/public/linear"
    assert BybitSpot(rest_base="http://127.0.0.1:1").rest_base == "http://127.0.0.1:1"
    assert SPOT.streams_from_url("/v5/public/spot") == []


def test_interval_mapping_both_ways() -> None:
    assert SPOT.intervals == CANONICAL
    for name, code in zip(CANONICAL, CODES):
        assert SPOT.interval_code(name) == code
        assert SPOT.interval_from_code(code) == name
    assert SPOT.interval_code("60m") == "60" and SPOT.interval_code("24h") == "D"


@pytest.mark.parametrize("bad", ["1s", "8h", "3d", "2m", "nope"])
def test_invalid_interval_lists_the_valid_ones(bad: str) -> None:
    with pytest.raises(InvalidIntervalError) as info:
        SPOT.interval_code(bad)
    assert info.value.valid == CANONICAL
    assert f"Invalid interval {bad!r} on Bybit spot. Valid intervals: 1m, 3m, 5m" in str(info.value)
    with pytest.raises(InvalidIntervalError):
        SPOT.interval_from_code("7")


def test_topics_are_uppercase_and_parse_back() -> None:
    assert SPOT.stream_name("btcusdt", "5m") == "kline.5.BTCUSDT"
    assert LINEAR.stream_name("ETHUSDT", "1d") == "kline.D.ETHUSDT"
    assert SPOT.parse_stream_name("kline.240.SOLUSDT") == ("SOLUSDT", "4h")
    for bad in ("publicTrade.BTCUSDT", "kline.7.BTCUSDT", "kline.1."):
        with pytest.raises(MalformedMessageError):
            SPOT.parse_stream_name(bad)


def test_spot_subscribe_is_chunked_to_ten_args() -> None:
    topics = [f"kline.1.S{i}USDT" for i in range(23)]
    messages = [json.loads(m) for m in SPOT.subscribe_messages(topics, request_id=5)]
    assert [len(m["args"]) for m in messages] == [10, 10, 3]
    assert [m["req_id"] for m in messages] == ["5", "6", "7"]
    assert all(m["op"] == "subscribe" for m in messages)
    assert [t for m in messages for t in m["args"]] == topics
    [linear] = LINEAR.subscribe_messages(topics)
    assert len(json.loads(linear)["args"]) == 23
    unsub = [json.loads(m) for m in SPOT.unsubscribe_messages(topics[:12])]
    assert [m["op"] for m in unsub] == ["unsubscribe", "unsubscribe"]


def test_subscribe_and_ping_messages_match_fixture_shapes() -> None:
    fixture = load_fixture("bybit_ws_subscribe_request.json")
    [message] = LINEAR.subscribe_messages(fixture["args"])
    assert_same_shape(json.loads(message), fixture)
    unsub = load_fixture("bybit_ws_unsubscribe_request.json")
    [message] = LINEAR.unsubscribe_messages(unsub["args"])
    assert set(json.loads(message)) == set(unsub)
    ping = load_fixture("bybit_ws_ping_request.json")
    assert_same_shape(json.loads(SPOT.ping_message()), ping)
    assert json.loads(SPOT.ping_message())["op"] == "ping"


def test_client_requests_parse_back_on_the_server_side() -> None:
    assert SPOT.parse_client_request(fixture_text("bybit_ws_subscribe_request.json")) == ClientRequest(
        RequestKind.SUBSCRIBE, ("orderbook.1.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.1.ETHUSDT"), "test")
    assert SPOT.parse_client_request(fixture_text("bybit_ws_unsubscribe_request.json")) == ClientRequest(
        RequestKind.UNSUBSCRIBE, ("publicTrade.ETHUSD",), "customised_id")
    assert SPOT.parse_client_request(fixture_text("bybit_ws_ping_request.json")) == ClientRequest(
        RequestKind.PING, (), 100001)
    for bad in ("nope", "[]", '{"op":"auth"}', '{"op":"subscribe","args":"kline.1.X"}'):
        with pytest.raises(MalformedMessageError):
            SPOT.parse_client_request(bad)


# --- WebSocket parsing -------------------------------------------------------------------

def test_parse_kline_fixture_field_by_field() -> None:
    [message] = SPOT.parse_ws_message(fixture_text("bybit_kline_ws.json"))
    assert isinstance(message, KlineMessage)
    assert (message.symbol, message.interval, message.event_time) == ("BTCUSDT", "5m", 1672324988882)
    candle = message.candle
    assert candle == Candle(1672324800000, 16649.5, 16677.0, 16608.0, 16677.0, 2.081, 1672325099999, False)
    assert type(candle.open_time) is int and type(candle.close_time) is int
    assert all(type(v) is float for v in (candle.open, candle.high, candle.low, candle.close, candle.volume))


def test_a_frame_with_several_candles_gives_several_messages() -> None:
    first = Candle(0, 1, 2, 0.5, 1.5, 10, 299_999, True)
    second = Candle(300_000, 1.5, 1.6, 1.4, 1.55, 1, 599_999, False)
    frame = LINEAR.encode_kline_frame("BTCUSDT", "5m", [first, second], 300_001)
    assert LINEAR.parse_ws_message(frame) == [
        KlineMessage("BTCUSDT", "5m", first, 300_001), KlineMessage("BTCUSDT", "5m", second, 300_001)]


def test_parse_pongs_and_subscribe_replies_of_both_shapes() -> None:
    assert SPOT.parse_ws_message(fixture_text("bybit_ws_pong_spot.json")) == [
        ControlMessage(ControlKind.PONG, ok=True, request_id=None, detail="pong")]
    assert LINEAR.parse_ws_message(fixture_text("bybit_ws_pong_linear.json")) == [
        ControlMessage(ControlKind.PONG, ok=True, request_id=None, detail="pong")]
    assert SPOT.parse_ws_message(fixture_text("bybit_ws_subscribe_response_spot.json")) == [
        ControlMessage(ControlKind.SUBSCRIBE, ok=True, request_id=10001, detail="subscribe")]
    assert LINEAR.parse_ws_message(fixture_text("bybit_ws_subscribe_response_linear.json")) == [
        ControlMessage(ControlKind.SUBSCRIBE, ok=True, request_id=None, detail="")]


def test_parse_subscribe_failure() -> None:
    [reply] = LINEAR.parse_ws_message(fixture_text("bybit_ws_subscribe_error_observed.json"))
    assert reply == ControlMessage(ControlKind.SUBSCRIBE, ok=False, request_id="dcp.future",
                                   detail="error:handler not found,topic:dcp.future")


@pytest.mark.parametrize("frame", [
    "garbage", "42", '{"ts":1}',
    '{"topic":"kline.5.BTCUSDT","data":[{"start":1}],"ts":1,"type":"snapshot"}',
    '{"topic":"kline.7.BTCUSDT","data":[],"ts":1,"type":"snapshot"}',
    '{"topic":"kline.5.BTCUSDT","data":[{"start":1,"end":2,"open":"1","close":"1","high":"1","low":"1","volume":"1","confirm":"true"}],"ts":1}',
])
def test_malformed_frames_raise_a_sentence(frame: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        SPOT.parse_ws_message(frame)
    assert str(info.value).startswith("Bybit spot sent")


def test_other_topics_are_not_errors() -> None:
    [message] = SPOT.parse_ws_message('{"topic":"tickers.BTCUSDT","data":{},"ts":1,"type":"snapshot"}')
    assert message.kind is ControlKind.OTHER  # type: ignore[union-attr]


# --- REST parsing ------------------------------------------------------------------------

def test_rest_klines_fixture_reversed_to_oldest_first_field_by_field() -> None:
    candles = SPOT.parse_klines(load_fixture("bybit_kline_rest.json"), "1h")
    assert candles == [
        Candle(1670601600000, 17086.5, 17088.0, 16978.0, 17071.5, 6356.0, 1670605199999, True),
        Candle(1670605200000, 17071.5, 17071.5, 17061.0, 17071.0, 4177.0, 1670608799999, True),
        Candle(1670608800000, 17071.0, 17073.0, 17027.0, 17055.5, 268611.0, 1670612399999, True),
    ]
    for candle in candles:
        assert type(candle.open_time) is int and type(candle.close_time) is int
        assert all(type(v) is float for v in (candle.open, candle.high, candle.low, candle.close, candle.volume))


def test_rest_klines_infer_the_interval_when_not_given() -> None:
    assert SPOT.parse_klines(load_fixture("bybit_kline_rest.json")) == SPOT.parse_klines(
        load_fixture("bybit_kline_rest.json"), "1h")
    single = load_fixture("bybit_kline_rest.json")
    single["result"]["list"] = single["result"]["list"][:1]
    with pytest.raises(MalformedMessageError, match="pass interval"):
        SPOT.parse_klines(single)


def test_monthly_rest_rows_close_on_the_calendar() -> None:
    """Bybit rows carry only their start; Interval gives the close, leap February included."""
    jan, feb, mar, apr = 1704067200000, 1706745600000, 1709251200000, 1711929600000  # 2024-01..04-01
    body = load_fixture("bybit_kline_rest.json")
    body["result"]["list"] = [[str(start), "10", "12", "9", "11", "5", "50"] for start in (mar, feb, jan)]
    candles = SPOT.parse_klines(body, "1M")
    assert [(c.open_time, c.close_time) for c in candles] == [(jan, feb - 1), (feb, mar - 1), (mar, apr - 1)]
    assert SPOT.parse_klines(body) == candles  # the spacing says monthly


def test_parse_instruments_fixtures() -> None:
    assert SPOT.parse_symbols(load_fixture("bybit_instruments_spot_min.json")) == (
        [Symbol("BTCUSDT", "BTC", "USDT", "Trading")], None)
    symbols, cursor = LINEAR.parse_symbols(load_fixture("bybit_instruments_linear_min.json"))
    assert symbols == [Symbol("BTCUSDT", "BTC", "USDT", "Trading")] and cursor is None
    assert symbols[0].trading
    page = LINEAR.encode_symbols(symbols, 1, next_cursor="abc")
    assert LINEAR.parse_symbols(page)[1] == "abc"


def test_symbols_requests_paginate_only_on_linear() -> None:
    assert SPOT.symbols_request().params == {"category": "spot"}
    assert SPOT.symbols_request("abc").params == {"category": "spot"}
    assert LINEAR.symbols_request().params == {"category": "linear", "limit": 1000}
    assert LINEAR.symbols_request("abc").params == {"category": "linear", "limit": 1000, "cursor": "abc"}


def test_parse_time_fixture() -> None:
    assert SPOT.parse_server_time(load_fixture("bybit_time.json")) == 1688639403423
    body = load_fixture("bybit_time.json")
    del body["result"]["timeNano"]
    assert SPOT.parse_server_time(body) == body["time"]


def test_klines_request_params_and_round_trip() -> None:
    request = LINEAR.klines_request("ethusdt", "4h", start_time=1, end_time=2, limit=1000)
    assert request.path == "/v5/market/kline"
    assert request.params == {"category": "linear", "symbol": "ETHUSDT", "interval": "240",
                              "start": 1, "end": 2, "limit": 1000}
    params = {k: str(v) for k, v in request.params.items()}
    assert LINEAR.parse_klines_request(params) == KlinesQuery("ETHUSDT", "4h", 1, 2, 1000)
    with pytest.raises(ValueError, match="1 to 1000 klines"):
        SPOT.klines_request("BTCUSDT", "1m", limit=1001)
    with pytest.raises(ValueError, match="symbol is required"):
        SPOT.parse_klines_request({"interval": "1"})
    with pytest.raises(InvalidIntervalError):
        SPOT.parse_klines_request({"symbol": "BTCUSDT", "interval": "1m"})


# --- REST error mapping ------------------------------------------------------------------

REQ = SPOT.klines_request("BTCUSDX", "1m")


def test_http_200_with_retcode_zero_is_success() -> None:
    assert SPOT.parse_error(200, {}, fixture_text("bybit_kline_rest.json"), REQ) is None


def test_10001_not_supported_symbols_is_invalid_symbol() -> None:
    error = SPOT.parse_error(200, {}, fixture_text("bybit_error_invalid_symbol_observed.json"), REQ)
    assert isinstance(error, InvalidSymbolError)
    assert str(error) == "Unknown symbol 'BTCUSDX' on Bybit spot."


def test_10001_about_the_interval_is_invalid_interval() -> None:
    body = json.dumps({"retCode": 10001, "retMsg": "Invalid period!", "result": {}, "retExtInfo": {}, "time": 1})
    error = SPOT.parse_error(200, {}, body, SPOT.klines_request("BTCUSDT", "1h"))
    assert isinstance(error, InvalidIntervalError) and error.interval == "1h"
    assert "Valid intervals: 1m, 3m" in str(error)


def test_other_10001_is_a_plain_rejection() -> None:
    body = json.dumps({"retCode": 10001, "retMsg": "params error: limit", "result": {}, "retExtInfo": {}, "time": 1})
    error = SPOT.parse_error(200, {}, body, REQ)
    assert type(error) is ExchangeError and "retCode 10001" in str(error)


def test_10006_waits_until_the_reset_timestamp_on_the_exchange_clock() -> None:
    body = json.dumps({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {},
                       "time": 1_700_000_000_000})
    error = SPOT.parse_error(200, {"X-Bapi-Limit-Reset-Timestamp": "1700000002500"}, body)
    assert isinstance(error, RateLimitedError) and error.retry_after == 2.5


def test_403_cloudfront_html_is_a_region_block() -> None:
    reply = SPOT.encode_rest_error(RegionBlockedError("Bybit", ""))
    error = SPOT.parse_error(reply.status, reply.headers, reply.body)
    assert isinstance(error, RegionBlockedError)
    assert "Bybit blocks US and mainland-China IPs" in str(error)


def test_403_access_too_frequent_is_a_ten_minute_rate_limit() -> None:
    error = SPOT.parse_error(403, {}, "access too frequent")
    assert isinstance(error, RateLimitedError) and error.retry_after == 600.0
    assert "at least 10 minutes" in str(error)


def test_429_is_rate_limited() -> None:
    error = LINEAR.parse_error(429, {"Retry-After": "3"}, "System level frequency protection. Please retry")
    assert isinstance(error, RateLimitedError) and error.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_exchange_unavailable(status: int) -> None:
    assert isinstance(SPOT.parse_error(status, {}, "<html>oops</html>"), ExchangeUnavailableError)


def test_10016_is_exchange_unavailable() -> None:
    body = json.dumps({"retCode": 10016, "retMsg": "Server error", "result": {}, "retExtInfo": {}, "time": 1})
    assert isinstance(SPOT.parse_error(200, {}, body), ExchangeUnavailableError)


def test_non_json_success_bodies_are_malformed_not_crashes() -> None:
    assert isinstance(SPOT.parse_error(200, {}, "<html>proxy login</html>"), MalformedMessageError)
    assert isinstance(SPOT.parse_error(200, {}, "[1,2]"), MalformedMessageError)
    error = SPOT.parse_error(404, {}, "Not Found")
    assert type(error) is ExchangeError and "--rest-url" in str(error)


# --- encoders: the simulator's side --------------------------------------------------------

def test_encode_kline_matches_fixture_keys_and_types() -> None:
    fixture = load_fixture("bybit_kline_ws.json")
    [parsed] = SPOT.parse_ws_message(json.dumps(fixture))
    assert isinstance(parsed, KlineMessage)
    encoded = json.loads(SPOT.encode_kline("BTCUSDT", "5m", parsed.candle, fixture["ts"]))
    assert_same_shape(encoded, fixture)
    data, expected = encoded["data"][0], fixture["data"][0]
    for key in ("start", "end", "interval", "confirm", "timestamp"):
        assert data[key] == expected[key]
    for key in ("open", "close", "high", "low", "volume"):
        assert float(data[key]) == float(expected[key])
    assert (encoded["topic"], encoded["ts"], encoded["type"]) == (fixture["topic"], fixture["ts"], "snapshot")


def test_encode_parse_kline_round_trip_on_real_candles(btc_1h: list[Candle]) -> None:
    for index, candle in enumerate(btc_1h[:200]):
        candle = Candle(candle.open_time, candle.open, candle.high, candle.low, candle.close,
                        candle.volume, candle.close_time, closed=index % 3 == 0)
        frame = LINEAR.encode_kline("BTCUSDT", "1h", candle, candle.open_time + 9)
        assert LINEAR.parse_ws_message(frame) == [KlineMessage("BTCUSDT", "1h", candle, candle.open_time + 9)]


def test_encode_klines_newest_first_all_strings_and_round_trip(btc_1h: list[Candle]) -> None:
    fixture = load_fixture("bybit_kline_rest.json")
    encoded = json.loads(json.dumps(LINEAR.encode_klines(btc_1h[:5], "BTCUSDT", "1h", server_time=fixture["time"])))
    assert_same_shape(encoded, fixture)
    rows = encoded["result"]["list"]
    assert [int(r[0]) for r in rows] == sorted((c.open_time for c in btc_1h[:5]), reverse=True)
    assert all(type(value) is str for row in rows for value in row)
    assert encoded["result"]["category"] == "linear" and encoded["time"] == fixture["time"]
    assert LINEAR.parse_klines(encoded, "1h") == btc_1h[:5]


@pytest.mark.parametrize("proto,name", [
    (SPOT, "bybit_instruments_spot_min.json"), (LINEAR, "bybit_instruments_linear_min.json"),
])
def test_encode_symbols_matches_fixture_and_round_trips(proto: BybitSpot, name: str) -> None:
    fixture = load_fixture(name)
    expected, _ = proto.parse_symbols(fixture)
    encoded = json.loads(json.dumps(proto.encode_symbols(expected, fixture["time"])))
    assert_same_shape(encoded, fixture)
    assert encoded["time"] == fixture["time"]
    assert proto.parse_symbols(encoded) == (expected, None)


def test_encode_symbols_spells_binance_statuses_the_bybit_way() -> None:
    encoded = SPOT.encode_symbols([Symbol("BTCUSDT", "BTC", "USDT", "TRADING"),
                                   Symbol("OLDUSDT", "OLD", "USDT", "BREAK")], 0)
    assert [e["status"] for e in encoded["result"]["list"]] == ["Trading", "Closed"]


def test_encode_server_time_matches_fixture() -> None:
    fixture = load_fixture("bybit_time.json")
    encoded = SPOT.encode_server_time(fixture["time"])
    assert_same_shape(encoded, fixture)
    assert encoded["result"]["timeSecond"] == fixture["result"]["timeSecond"]
    assert SPOT.parse_server_time(encoded) == fixture["time"]


@pytest.mark.parametrize("proto,name", [
    (SPOT, "bybit_ws_pong_spot.json"), (LINEAR, "bybit_ws_pong_linear.json"),
    (SPOT, "bybit_ws_subscribe_response_spot.json"), (LINEAR, "bybit_ws_subscribe_response_linear.json"),
    (LINEAR, "bybit_ws_subscribe_error_observed.json"),
])
def test_encode_control_reproduces_reply_fixtures(proto: BybitSpot, name: str) -> None:
    fixture = load_fixture(name)
    [message] = proto.parse_ws_message(json.dumps(fixture))
    assert isinstance(message, ControlMessage)
    assert json.loads(proto.encode_control(message, conn_id=fixture["conn_id"])) == fixture


def test_encode_control_defaults_per_category() -> None:
    ok = ControlMessage(ControlKind.SUBSCRIBE, request_id=3)
    assert json.loads(SPOT.encode_control(ok))["ret_msg"] == "subscribe"
    assert json.loads(LINEAR.encode_control(ok))["ret_msg"] == ""
    assert "req_id" not in json.loads(SPOT.encode_control(ControlMessage(ControlKind.PONG)))
    assert json.loads(LINEAR.encode_control(ControlMessage(ControlKind.PONG, request_id="ping")))["req_id"] == "ping"


@pytest.mark.parametrize("error,status,expected", [
    (RateLimitedError(4), 200, RateLimitedError),
    (IpBannedError(600), 403, RateLimitedError),
    (RegionBlockedError("Bybit", ""), 403, RegionBlockedError),
    (InvalidSymbolError("BTCUSDX"), 200, InvalidSymbolError),
    (InvalidIntervalError("7m"), 200, InvalidIntervalError),
    (ExchangeUnavailableError("down"), 503, ExchangeUnavailableError),
    (ValueError("params error: limit"), 200, ExchangeError),
])
def test_encode_rest_error_round_trips_through_parse_error(
        error: Exception, status: int, expected: type[Exception]) -> None:
    reply = SPOT.encode_rest_error(error, server_time=1_700_000_000_000)
    assert reply.status == status
    assert type(SPOT.parse_error(reply.status, reply.headers, reply.body, REQ)) is expected


def test_encoded_10006_carries_the_reset_header_and_matches_the_error_fixture_shape() -> None:
    reply = SPOT.encode_rest_error(RateLimitedError(4), server_time=1_700_000_000_000)
    assert reply.headers["X-Bapi-Limit-Reset-Timestamp"] == "1700000004000"
    assert_same_shape(json.loads(reply.body), load_fixture("bybit_error_invalid_symbol_observed.json"))
    parsed = SPOT.parse_error(reply.status, reply.headers, reply.body)
    assert isinstance(parsed, RateLimitedError) and parsed.retry_after == 4.0
    symbol_reply = SPOT.encode_rest_error(InvalidSymbolError("X"), server_time=1726147060461)
    assert json.loads(symbol_reply.body) == load_fixture("bybit_error_invalid_symbol_observed.json")
