"""Every value from the wire is checked where it is parsed (issue 9 §1): each hostile value
the fault run found printed as a candle is refused with its stable reason label, on Binance
and Bybit, over WebSocket and REST; the genuine values next to it still parse."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from cryptoai_tui.exchanges import refusals
from cryptoai_tui.exchanges.base import ExchangeProtocol, KlineMessage
from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.exchanges.errors import InvalidIntervalError, MalformedMessageError
from cryptoai_tui.market import Candle, Interval
from cryptoai_tui.market.interval import InvalidIntervalError as MarketInvalidIntervalError

BINANCE, USDM, BYBIT, LINEAR = BinanceSpot(), BinanceUsdm(), BybitSpot(), BybitLinear()

# 2024-01-01 00:00 UTC, a Monday and the first of a month: a boundary of every interval
T0 = 1_704_067_200_000
MINUTE = 60_000


def binance_kline(**changes: Any) -> dict[str, Any]:
    """A genuine 1m Binance kline event; `changes` set `k` fields (None deletes one)."""
    k: dict[str, Any] = {
        "t": T0, "T": T0 + MINUTE - 1, "s": "BTCUSDT", "i": "1m", "f": 1, "L": 2,
        "o": "100.5", "c": "101", "h": "102.25", "l": "99", "v": "12.5", "n": 2, "x": True,
        "q": "1262.5", "V": "6", "Q": "600", "B": "0",
    }
    for key, value in changes.items():
        if value is None:
            del k[key]
        else:
            k[key] = value
    return {"e": "kline", "E": T0 + MINUTE, "s": "BTCUSDT", "k": k}


def bybit_kline(**changes: Any) -> dict[str, Any]:
    """A genuine 1m Bybit kline frame; `changes` set fields of its one candle."""
    item: dict[str, Any] = {
        "start": T0, "end": T0 + MINUTE - 1, "interval": "1", "open": "100.5", "close": "101",
        "high": "102.25", "low": "99", "volume": "12.5", "turnover": "1262.5", "confirm": True,
        "timestamp": T0 + MINUTE,
    }
    for key, value in changes.items():
        if value is None:
            del item[key]
        else:
            item[key] = value
    return {"topic": "kline.1.BTCUSDT", "data": [item], "ts": T0 + MINUTE, "type": "snapshot"}


GENUINE = Candle(T0, 100.5, 102.25, 99.0, 101.0, 12.5, T0 + MINUTE - 1, True)

#: (Binance k field, Bybit field, value, reason): the values the hostile-input run found
#: printed as candles, and their neighbours
HOSTILE_VALUES: list[tuple[str, str, Any, str]] = [
    ("o", "open", True, refusals.WRONG_FIELD_TYPE),
    ("o", "open", None, refusals.MISSING_FIELD),
    ("h", "high", [], refusals.WRONG_FIELD_TYPE),
    ("o", "open", "1_000", refusals.NOT_A_DECIMAL),
    ("c", "close", "1e2", refusals.NOT_A_DECIMAL),
    ("c", "close", " 101", refusals.NOT_A_DECIMAL),
    ("c", "close", "+101", refusals.NOT_A_DECIMAL),
    ("c", "close", "\u0661\u0660\u0661", refusals.NOT_A_DECIMAL),  # Arabic-Indic 101: float() reads it
    ("c", "close", "", refusals.NOT_A_DECIMAL),
    ("o", "open", 100.5, refusals.NOT_A_DECIMAL),  # a number where the docs say a string
    ("h", "high", "9" * 400, refusals.TOO_LONG),
    ("h", "high", "NaN", refusals.NON_FINITE_PRICE),
    ("h", "high", "Infinity", refusals.NON_FINITE_PRICE),
    ("l", "low", "-inf", refusals.NON_FINITE_PRICE),
    ("v", "volume", "nan", refusals.NON_FINITE_VOLUME),
    ("l", "low", "-1", refusals.NEGATIVE_PRICE),
    ("v", "volume", "-0.5", refusals.NEGATIVE_VOLUME),
    ("h", "high", "98", refusals.HIGH_BELOW_LOW),
    ("h", "high", "100.75", refusals.HIGH_BELOW_OPEN_CLOSE),
    ("l", "low", "101", refusals.LOW_ABOVE_OPEN_CLOSE),
    ("t", "start", T0 + 1000, refusals.MISALIGNED_OPEN_TIME),
    ("T", "end", T0 - 1, refusals.BAD_CLOSE_TIME),
    ("T", "end", T0 + 2 * MINUTE - 1, refusals.BAD_CLOSE_TIME),
    ("t", "start", 10**20, refusals.TIME_OUT_OF_RANGE),  # crashed `stream` in the UTC conversion
    ("t", "start", -MINUTE, refusals.TIME_OUT_OF_RANGE),
    ("t", "start", float(T0), refusals.WRONG_FIELD_TYPE),
    ("t", "start", str(T0), refusals.WRONG_FIELD_TYPE),
    ("x", "confirm", 1, refusals.WRONG_FIELD_TYPE),
    ("x", "confirm", "true", refusals.WRONG_FIELD_TYPE),
]


@pytest.mark.parametrize("field,_bybit,value,reason", HOSTILE_VALUES)
def test_binance_kline_with_a_hostile_value_is_refused_by_reason(field: str, _bybit: str, value: Any,
                                                                 reason: str) -> None:
    frame = json.dumps(binance_kline(**{field: value}))
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(frame)
    assert info.value.reason == reason
    assert str(info.value).startswith("Binance sent ") and "skipped" in str(info.value)


@pytest.mark.parametrize("_binance,field,value,reason", HOSTILE_VALUES)
def test_bybit_kline_with_a_hostile_value_is_refused_by_reason(_binance: str, field: str, value: Any,
                                                               reason: str) -> None:
    frame = json.dumps(bybit_kline(**{field: value}))
    with pytest.raises(MalformedMessageError) as info:
        BYBIT.parse_ws_message(frame)
    assert info.value.reason == reason
    assert str(info.value).startswith("Bybit spot sent ")


def test_genuine_klines_parse_to_the_same_candle_on_both_exchanges() -> None:
    assert BINANCE.parse_ws_message(json.dumps(binance_kline())) == [
        KlineMessage("BTCUSDT", "1m", GENUINE, T0 + MINUTE)]
    assert BYBIT.parse_ws_message(json.dumps(bybit_kline())) == [KlineMessage("BTCUSDT", "1m", GENUINE, T0 + MINUTE)]
    flat = binance_kline(o="101", h="101", l="101", c="101", v="0")  # nothing traded: still a candle
    [message] = BINANCE.parse_ws_message(json.dumps(flat))
    assert isinstance(message, KlineMessage) and message.candle.volume == 0.0


def test_json_nan_and_infinity_literals_are_refused_as_non_finite() -> None:
    """Python's json reads the non-standard NaN / Infinity literals as floats."""
    text = json.dumps(binance_kline()).replace('"h": "102.25"', '"h": Infinity')
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(text)
    assert info.value.reason == refusals.NON_FINITE_PRICE
    text = json.dumps(bybit_kline()).replace('"low": "99"', '"low": NaN')
    with pytest.raises(MalformedMessageError) as info:
        BYBIT.parse_ws_message(text)
    assert info.value.reason == refusals.NON_FINITE_PRICE


def test_a_duplicated_key_is_judged_by_the_value_json_keeps() -> None:
    text = json.dumps(binance_kline()).replace('"o": "100.5"', '"o": "100.5", "o": "NaN"')
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(text)
    assert info.value.reason == refusals.NON_FINITE_PRICE


@pytest.mark.parametrize("changes,reason", [
    ({"i": "5m"}, refusals.BAD_CLOSE_TIME),  # a 5m label on a 1m candle's times
    ({"i": "7m"}, refusals.WRONG_INTERVAL),
    ({"i": 1}, refusals.WRONG_INTERVAL),
    ({"s": "btc usdt"}, refusals.BAD_SYMBOL),
    ({"s": "BTCUSDT" * 10}, refusals.TOO_LONG),
    ({"s": 5}, refusals.WRONG_FIELD_TYPE),
    ({"s": "ETHUSDT"}, refusals.BAD_SYMBOL),  # disagrees with the event's own "s"
])
def test_binance_interval_and_symbol_are_checked(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(json.dumps(binance_kline(**changes)))
    assert info.value.reason == reason


def test_usdm_refuses_the_one_second_interval_it_does_not_serve() -> None:
    frame = binance_kline(i="1s", T=T0 + 999)
    assert BINANCE.parse_ws_message(json.dumps(frame))[0].interval == "1s"  # type: ignore[union-attr]
    with pytest.raises(MalformedMessageError) as info:
        USDM.parse_ws_message(json.dumps(frame))
    assert info.value.reason == refusals.WRONG_INTERVAL


@pytest.mark.parametrize("stream,reason", [
    ("ethusdt@kline_1m", refusals.BAD_SYMBOL),
    ("btcusdt@kline_5m", refusals.WRONG_INTERVAL),
    (["btcusdt@kline_1m"], refusals.UNKNOWN_STREAM),
])
def test_a_combined_frame_must_carry_the_stream_it_names(stream: Any, reason: str) -> None:
    frame = {"stream": stream, "data": binance_kline()}
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(json.dumps(frame))
    assert info.value.reason == reason
    frame["stream"] = "btcusdt@kline_1m"
    assert BINANCE.parse_ws_message(json.dumps(frame))[0].candle == GENUINE  # type: ignore[union-attr]


@pytest.mark.parametrize("change,reason", [
    (lambda f: f["data"][0].update(interval="5"), refusals.WRONG_INTERVAL),
    (lambda f: f.update(topic="kline.7.BTCUSDT"), refusals.UNKNOWN_STREAM),
    (lambda f: f.update(topic="kline.1.btc/usdt"), refusals.BAD_SYMBOL),
    (lambda f: f.update(data={"start": T0}), refusals.WRONG_FIELD_TYPE),
    (lambda f: f.update(data=[1]), refusals.WRONG_FIELD_TYPE),
    (lambda f: f.update(ts=True), refusals.WRONG_FIELD_TYPE),
    (lambda f: f.pop("ts"), refusals.MISSING_FIELD),
    (lambda f: f["data"].append(dict(f["data"][0], high="1")), refusals.HIGH_BELOW_LOW),
])
def test_bybit_frame_level_checks(change: Callable[[dict[str, Any]], Any], reason: str) -> None:
    frame = bybit_kline()
    change(frame)
    with pytest.raises(MalformedMessageError) as info:
        BYBIT.parse_ws_message(json.dumps(frame))
    assert info.value.reason == reason


@pytest.mark.parametrize("text,reason", [
    ("{not json", refusals.BAD_JSON),
    ("[" * 100_000, refusals.BAD_JSON),  # nesting deep enough to exhaust the recursion limit
    (b"\xff\xfe\x00", refusals.BAD_JSON),
    ("[1, 2]", refusals.NOT_AN_OBJECT),
    ('{"hello": 1}', refusals.UNKNOWN_FRAME),
    ('{"e": "serverShutdown", "E": "soon"}', refusals.WRONG_FIELD_TYPE),
    ('{"stream": "btcusdt@kline_1m", "data": 1}', refusals.NOT_AN_OBJECT),
])
def test_frames_that_are_not_the_protocol_are_refused_by_reason(text: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_ws_message(text)
    assert info.value.reason == reason


# --- REST rows ---------------------------------------------------------------------------

def binance_row(start: int = T0, **changes: Any) -> list[Any]:
    """A genuine 1m Binance REST row; `changes` by name (open, high, low, close, volume, close_time)."""
    names = {"open_time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5, "close_time": 6}
    row: list[Any] = [start, "100.5", "102.25", "99", "101", "12.5", start + MINUTE - 1,
                      "1262.5", 2, "6", "600", "0"]
    for key, value in changes.items():
        row[names[key]] = value
    return row


def bybit_body(rows: list[list[Any]]) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": {"symbol": "BTCUSDT", "category": "spot", "list": rows},
            "retExtInfo": {}, "time": T0}


def bybit_row(opens: int = T0, **changes: Any) -> list[Any]:
    names = {"start": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5}
    row: list[Any] = [str(opens), "100.5", "102.25", "99", "101", "12.5", "1262.5"]
    for key, value in changes.items():
        row[names[key]] = value
    return row


def test_genuine_rest_rows_parse_on_both_exchanges() -> None:
    rows = [binance_row(T0), binance_row(T0 + MINUTE)]
    expected = [GENUINE, Candle(T0 + MINUTE, 100.5, 102.25, 99.0, 101.0, 12.5, T0 + 2 * MINUTE - 1, True)]
    assert BINANCE.parse_klines(rows) == expected  # the close time says 1m
    assert BINANCE.parse_klines(rows, "1m") == expected
    assert BYBIT.parse_klines(bybit_body([bybit_row(T0 + MINUTE), bybit_row(T0)]), "1m") == expected


@pytest.mark.parametrize("field,value,reason", [
    ("open", True, refusals.WRONG_FIELD_TYPE),
    ("open", 100.5, refusals.NOT_A_DECIMAL),
    ("high", "NaN", refusals.NON_FINITE_PRICE),
    ("high", "9" * 400, refusals.TOO_LONG),
    ("low", "1_000", refusals.NOT_A_DECIMAL),
    ("low", "-99", refusals.NEGATIVE_PRICE),
    ("volume", "-1", refusals.NEGATIVE_VOLUME),
    ("high", "98", refusals.HIGH_BELOW_LOW),
    ("low", "101", refusals.LOW_ABOVE_OPEN_CLOSE),
])
def test_rest_rows_with_a_hostile_value_refuse_the_reply(field: str, value: Any, reason: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_klines([binance_row(T0), binance_row(T0 + MINUTE, **{field: value})], "1m")
    assert info.value.reason == reason
    assert "kline row 2 of 2" in str(info.value) and "whole reply was refused" in str(info.value)
    with pytest.raises(MalformedMessageError) as info:
        BYBIT.parse_klines(bybit_body([bybit_row(T0 + MINUTE, **{field: value}), bybit_row(T0)]), "1m")
    assert info.value.reason == reason


@pytest.mark.parametrize("rows,interval,reason", [
    ([binance_row(T0, close_time=T0)], "1m", refusals.BAD_CLOSE_TIME),
    ([binance_row(T0, close_time=T0 + 7)], None, refusals.BAD_CLOSE_TIME),  # ends no interval
    ([binance_row(T0 + 1000, close_time=T0 + 1000 + MINUTE - 1)], "1m", refusals.MISALIGNED_OPEN_TIME),
    ([binance_row(T0, open_time=str(T0))], "1m", refusals.WRONG_FIELD_TYPE),
    ([binance_row(T0, open_time=10**20)], "1m", refusals.TIME_OUT_OF_RANGE),
    ([binance_row(T0 + MINUTE), binance_row(T0)], "1m", refusals.ROWS_OUT_OF_ORDER),  # descending
    ([binance_row(T0), binance_row(T0)], "1m", refusals.ROWS_OUT_OF_ORDER),  # doubled
    ([binance_row(T0)[:5]], "1m", refusals.BAD_ROW),
    ([{"0": T0}], "1m", refusals.BAD_ROW),
])
def test_binance_rest_times_and_order_are_checked(rows: list[Any], interval: str | None, reason: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        BINANCE.parse_klines(rows, interval)
    assert info.value.reason == reason


@pytest.mark.parametrize("rows,reason", [
    ([bybit_row(T0), bybit_row(T0 + MINUTE)], refusals.ROWS_OUT_OF_ORDER),  # ascending: not as documented
    ([bybit_row(T0 + 1000)], refusals.MISALIGNED_OPEN_TIME),
    ([bybit_row(T0, start=T0)], refusals.NOT_A_DECIMAL),  # a number where every element is a string
    ([bybit_row(T0, start="1e12")], refusals.NOT_A_DECIMAL),
    ([bybit_row(T0, start="9" * 400)], refusals.TOO_LONG),
    ([bybit_row(T0, start=None)], refusals.WRONG_FIELD_TYPE),
    ([bybit_row(T0)[:4]], refusals.BAD_ROW),
])
def test_bybit_rest_rows_are_checked(rows: list[Any], reason: str) -> None:
    with pytest.raises(MalformedMessageError) as info:
        BYBIT.parse_klines(bybit_body(rows), "1m")
    assert info.value.reason == reason


@pytest.mark.parametrize("protocol", [BINANCE, BYBIT])
def test_a_reply_longer_than_a_page_is_refused(protocol: ExchangeProtocol) -> None:
    count = protocol.rest_kline_limit_max + 1
    if protocol is BINANCE:
        body: Any = [binance_row(T0 + i * MINUTE) for i in range(count)]
    else:
        body = bybit_body([bybit_row(T0 + i * MINUTE) for i in reversed(range(count))])
    with pytest.raises(MalformedMessageError) as info:
        protocol.parse_klines(body, "1m")
    assert info.value.reason == refusals.TOO_MANY_ROWS
    body = body[:-1] if protocol is BINANCE else bybit_body(body["result"]["list"][1:])
    assert len(protocol.parse_klines(body, "1m")) == count - 1


def test_server_time_must_be_an_integer_of_milliseconds() -> None:
    assert BINANCE.parse_server_time({"serverTime": T0}) == T0
    assert LINEAR.parse_server_time({"retCode": 0, "result": {"timeNano": str(T0 * 1_000_000)}, "time": 1}) == T0
    assert LINEAR.parse_server_time({"retCode": 0, "result": {"timeNano": "NaN"}, "time": T0}) == T0
    for body in ({"serverTime": True}, {"serverTime": "1_000"}, {"serverTime": 1e20}, {"serverTime": 10**20}):
        with pytest.raises(MalformedMessageError) as info:
            BINANCE.parse_server_time(body)
        assert info.value.reason == refusals.BAD_REPLY
    with pytest.raises(MalformedMessageError):
        LINEAR.parse_server_time({"retCode": 0, "result": {"timeNano": "9" * 400}, "time": 10**20})


def test_every_label_is_short_and_listed() -> None:
    assert all(len(label) <= 24 and label == label.strip() for label in refusals.REASONS)
    for _, _, _, reason in HOSTILE_VALUES:
        assert reason in refusals.REASONS


# --- one InvalidIntervalError ------------------------------------------------------------

def test_the_exchange_interval_error_is_the_market_one() -> None:
    """An unreadable spelling and one the exchange does not serve are caught alike."""
    for protocol, text in ((BINANCE, "7m"), (BINANCE, "fortnight"), (BYBIT, "8h"), (USDM, "1s")):
        with pytest.raises(MarketInvalidIntervalError) as info:
            protocol.canonical_interval(text)
        error = info.value
        assert isinstance(error, InvalidIntervalError)
        assert error.interval == error.text == text and error.exchange == protocol.display_name
        assert protocol.intervals == error.valid and "Valid intervals" in str(error)
    assert BYBIT.canonical_interval(Interval.parse("60m")) == "1h"
    assert BINANCE.canonical_interval("1mo") == "1M"
