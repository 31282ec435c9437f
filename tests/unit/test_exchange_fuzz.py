"""Issue 9 §8: a seeded fuzz of the protocol parsers with 100k+ mutated kline frames and
REST replies, built from the documented payloads and from the simulator's encoders.

The property: nothing but MalformedMessageError ever escapes a parser, every refusal
carries one of the stable labels (refusals.REASONS), and every candle that is accepted
satisfies the invariants of §1 (finite non-negative floats, low <= open/close <= high, an
aligned open time, the interval's close time, a sane symbol and a served interval).

A seeded generator rather than hypothesis: the mutations are specific to the wire formats
(flip a documented string to a number, duplicate a JSON key, truncate the text, reorder
rows), a fixed seed replays a failure exactly, and no test dependency is added.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from typing import Any, Callable

from cryptoai_tui.exchanges import refusals
from cryptoai_tui.exchanges.base import ExchangeProtocol, KlineMessage
from cryptoai_tui.exchanges.binance import BinanceProtocol, BinanceSpot, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.exchanges.errors import MalformedMessageError
from cryptoai_tui.market import Candle, Interval
from cryptoai_tui.market.interval import COMMON_INTERVALS
from tests.conftest import load_candles, load_fixture

SEED = 20_261_202
WS_FRAMES = 70_000
REST_REPLIES = 35_000
COMPACT = (",", ":")

BINANCE, USDM, BYBIT, LINEAR = BinanceSpot(), BinanceUsdm(), BybitSpot(), BybitLinear()
SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")

#: what a broken or hostile server puts where a value belongs
HOSTILE: list[Any] = [
    True, False, None, float("nan"), float("inf"), float("-inf"), -1.0, 0.5, 17055.5, 10**20, -5, 2**63,
    "NaN", "nan", "Infinity", "-Infinity", "inf", "-1", "-0.5", "1_000", "1e5", "1E-3", " 1", "1 ", "",
    "9" * 400, "0x1f", "\u0661\u0662", "+1", "true", "null", "1.2.3", ".", "٣", "²", [], {}, [1], {"a": 1},
    "BTCUSDT", "1m", "5", "D", "btcusdt@kline_1m",
]
#: plausible values: they may make a candle inconsistent, or keep it valid
PLAUSIBLE_PRICES = ["0", "0.0001", "1", "99.5", "100", "101.25", "17071", "250000", "0.00000001"]


def _hostile(rng: random.Random) -> Any:
    return rng.choice(HOSTILE) if rng.random() < 0.75 else rng.choice(PLAUSIBLE_PRICES)


def _shift(rng: random.Random, value: Any) -> Any:
    if type(value) is not int:
        return value
    return rng.choice([value + 1, value - 1, value + 1000, value - 60_000, value + 60_000, value + 3_600_000,
                       value + 10**12, value * 1000, -value, value // 2])


# --- genuine bases -------------------------------------------------------------------------

def _possible(fixture: dict[str, Any]) -> dict[str, Any]:
    """The Binance docs' example has its low above its open (refused, rightly): fix the low."""
    k = fixture["data"]["k"] if "data" in fixture else fixture["k"]
    k["l"] = "0.0010"
    return fixture


def ws_bases() -> list[tuple[ExchangeProtocol, dict[str, Any]]]:
    """Genuine kline frames: the documented payloads and the simulator's encoding of real
    BTCUSDT hourly candles (forming and closed, raw and combined)."""
    bases: list[tuple[ExchangeProtocol, dict[str, Any]]] = [
        (BINANCE, _possible(load_fixture("binance_kline_ws.json"))),
        (BINANCE, _possible(load_fixture("binance_kline_ws_combined.json"))),
        (USDM, _possible(load_fixture("binance_usdm_kline_ws.json"))),
        (BYBIT, load_fixture("bybit_kline_ws.json")),
    ]
    for index, candle in enumerate(load_candles(limit=24)):
        if index % 2:
            candle = Candle(candle.open_time, candle.open, candle.high, candle.low, candle.close,
                            candle.volume, candle.close_time, False)
        event_time = candle.close_time + 1
        bases.append((BINANCE, json.loads(BINANCE.encode_kline("BTCUSDT", "1h", candle, event_time))))
        bases.append((BINANCE, json.loads(BINANCE.encode_kline("BTCUSDT", "1h", candle, event_time, combined=True))))
        bases.append((LINEAR, json.loads(LINEAR.encode_kline("BTCUSDT", "1h", candle, event_time))))
    return bases


def rest_bases() -> list[tuple[ExchangeProtocol, Any, str]]:
    """Genuine REST replies with their interval: the documented ones and encoded real candles."""
    candles = load_candles(limit=12)
    bybit_body = BYBIT.encode_klines(candles, "BTCUSDT", "1h")
    return [
        (BINANCE, load_fixture("binance_klines_rest.json"), "1w"),
        (USDM, load_fixture("binance_usdm_klines_rest.json"), "1w"),
        (BYBIT, load_fixture("bybit_kline_rest.json"), "1h"),
        (BINANCE, json.loads(json.dumps(BINANCE.encode_klines(candles, "BTCUSDT", "1h"))), "1h"),
        (LINEAR, json.loads(json.dumps(bybit_body)), "1h"),
    ]


# --- mutations -----------------------------------------------------------------------------

def _containers(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of the frame's nested objects, mutable in place (the frame is rebuilt around them)."""
    if "data" in frame and isinstance(frame["data"], dict):  # Binance combined
        frame["data"] = dict(frame["data"])
        frame["data"]["k"] = dict(frame["data"]["k"])
        return [frame, frame["data"], frame["data"]["k"]]
    if "k" in frame:
        frame["k"] = dict(frame["k"])
        return [frame, frame["k"]]
    frame["data"] = [dict(item) for item in frame["data"]]
    return [frame, *frame["data"]]


PRICE_KEYS = {"o": "c", "h": "l", "open": "close", "high": "low"}


def mutate_frame(rng: random.Random, base: dict[str, Any]) -> str | bytes:
    frame = dict(base)
    containers = _containers(frame)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(containers)
        keys = list(target)
        if not keys:
            continue
        key = rng.choice(keys)
        op = rng.randrange(8)
        if op == 0:
            target[key] = _hostile(rng)
        elif op == 1:
            del target[key]
        elif op == 2 and ("h" in target or "high" in target):  # swap high and low
            high, low = ("h", "l") if "h" in target else ("high", "low")
            target[high], target[low] = target.get(low), target.get(high)
        elif op == 3:
            target[key] = _shift(rng, target[key])
        elif op == 4:  # shuffle the fields: must change nothing
            items = list(target.items())
            rng.shuffle(items)
            target.clear()
            target.update(items)
        elif op == 5 and "data" in frame and isinstance(frame["data"], list):  # a second candle
            twin = rng.choice(frame["data"]) if frame["data"] else {}
            frame["data"].append(dict(twin) if isinstance(twin, dict) else twin)
        elif op == 6:
            target[key] = rng.choice(PLAUSIBLE_PRICES)
        else:
            target[rng.choice(["x", "i", "s", "interval", "confirm", "topic", "stream", "e"])] = _hostile(rng)
    text = json.dumps(frame, separators=COMPACT)
    roll = rng.random()
    if roll < 0.12:  # truncated in transit
        return text[: rng.randrange(len(text))]
    if roll < 0.22:  # a duplicated key: json keeps the last one
        key = rng.choice(["o", "h", "l", "c", "v", "t", "T", "open", "high", "low", "start", "end"])
        spot = text.find(f'"{key}":')
        if spot >= 0:
            extra = f'"{key}":{json.dumps(_hostile(rng), separators=COMPACT)},'
            if rng.random() < 0.5:
                return text[:spot] + extra + text[spot:]
            end = text.find(",", spot)
            return text[:end + 1] + extra + text[end + 1:] if end >= 0 else text
    if roll < 0.27:  # one character flipped
        at = rng.randrange(len(text))
        return text[:at] + rng.choice('"{}[],:0-9.eE-+ \\x') + text[at + 1:]
    if roll < 0.29:
        return text.encode("utf-8")[: rng.randrange(1, len(text) + 1)] + b"\xff"
    return text


def mutate_rows(rng: random.Random, body: Any, binance: bool) -> Any:
    if binance:
        rows = [list(row) for row in body]
    else:
        body = {**body, "result": {**body["result"]}}
        rows = [list(row) for row in body["result"]["list"]]
    for _ in range(rng.randint(1, 3)):
        if not rows:
            break
        row = rng.choice(rows)
        if type(row) is not list:
            continue
        op = rng.randrange(9)
        if op == 0 and row:
            row[rng.randrange(len(row))] = _hostile(rng)
        elif op == 1 and row:
            del row[rng.randrange(len(row))]
        elif op == 2 and len(row) > 3:
            row[2], row[3] = row[3], row[2]  # high <-> low
        elif op == 3 and row:
            index = rng.choice([0, 6]) if binance and len(row) > 6 else 0
            value = row[index]
            if type(value) is str and value.isascii() and value.isdigit():
                row[index] = str(_shift(rng, int(value)))
            else:
                row[index] = _shift(rng, value)
        elif op == 4:
            rows.reverse()  # the other order than documented
        elif op == 5:
            rows.append(list(row))  # a doubled row
        elif op == 6:
            rng.shuffle(rows)
        elif op == 7 and row:
            row[rng.randrange(1, 6) if len(row) > 5 else 0] = rng.choice(PLAUSIBLE_PRICES)
        else:
            rows[rows.index(row)] = _hostile(rng)  # a row that is not a row
    if binance:
        return rows if rng.random() > 0.02 else {"code": -1121, "msg": "Invalid symbol."}
    body["result"]["list"] = rows
    return body


# --- the invariants of §1 ------------------------------------------------------------------

def assert_sane(candle: Candle, interval: Interval) -> None:
    prices = (candle.open, candle.high, candle.low, candle.close, candle.volume)
    assert all(type(value) is float and math.isfinite(value) and value >= 0 for value in prices), candle
    assert candle.high >= max(candle.open, candle.close) and candle.low <= min(candle.open, candle.close), candle
    assert type(candle.open_time) is int and type(candle.close_time) is int and type(candle.closed) is bool
    assert 0 <= candle.open_time <= refusals.MAX_TIME_MS, candle
    assert interval.is_aligned(candle.open_time), candle
    assert candle.close_time == interval.close_time(candle.open_time), candle


def check_messages(protocol: ExchangeProtocol, messages: list[Any]) -> int:
    klines = 0
    for message in messages:
        if type(message) is KlineMessage:
            klines += 1
            assert message.interval in protocol.intervals
            assert type(message.symbol) is str and SYMBOL.fullmatch(message.symbol), message
            assert type(message.event_time) is int and 0 <= message.event_time <= refusals.MAX_TIME_MS
            assert_sane(message.candle, Interval.parse(message.interval))
    return klines


def run(count: int, attempt: Callable[[random.Random], tuple[int, str | None]], rng: random.Random,
        reasons: Counter[str]) -> int:
    """`count` attempts; returns how many candles were accepted, counts refusals by reason."""
    accepted = 0
    for _ in range(count):
        kept, reason = attempt(rng)
        accepted += kept
        reasons["(attempts)"] += 1
        if reason is not None:
            reasons[reason] += 1
    return accepted


# --- the tests -----------------------------------------------------------------------------

def test_genuine_frames_and_rows_all_parse() -> None:
    """The bases are valid (else the fuzz below would only ever see refusals)."""
    for protocol, frame in ws_bases():
        assert check_messages(protocol, protocol.parse_ws_message(json.dumps(frame))) >= 1
    for protocol, body, interval in rest_bases():
        for candle in protocol.parse_klines(body, interval):
            assert_sane(candle, Interval.parse(interval))
        assert protocol.parse_klines(body, interval) == protocol.parse_klines(body)  # spacing or close time


def test_mutated_kline_frames_and_rest_rows_never_escape_and_never_lie() -> None:
    rng = random.Random(SEED)
    frames = ws_bases()
    replies = rest_bases()
    reasons: Counter[str] = Counter()

    def frame_attempt(rng: random.Random) -> tuple[int, str | None]:
        protocol, base = rng.choice(frames)
        try:
            return check_messages(protocol, protocol.parse_ws_message(mutate_frame(rng, base))), None
        except MalformedMessageError as error:
            return 0, error.reason

    def rest_attempt(rng: random.Random) -> tuple[int, str | None]:
        protocol, base, interval = rng.choice(replies)
        body = mutate_rows(rng, base, isinstance(protocol, BinanceProtocol))
        given = interval if rng.random() < 0.7 else None
        try:
            candles = protocol.parse_klines(body, given)
        except MalformedMessageError as error:
            return 0, error.reason
        step = Interval.parse(interval)
        for candle in candles:
            assert_sane(candle, step if given else Interval.parse(_interval_of(candle)))
        opens = [candle.open_time for candle in candles]
        assert opens == sorted(set(opens)), "rows must come back oldest first, each once"
        return len(candles), None

    accepted_klines = run(WS_FRAMES, frame_attempt, rng, reasons)
    accepted_rows = run(REST_REPLIES, rest_attempt, rng, reasons)

    assert reasons.pop("(attempts)") >= 100_000
    assert set(reasons) <= refusals.REASONS, f"unlabelled refusals: {set(reasons) - refusals.REASONS}"
    # The mutations reach the checks, and valid mutants (shuffled, plausible) still pass.
    assert len(reasons) >= 18, sorted(reasons)
    assert accepted_klines >= WS_FRAMES // 20 and accepted_rows >= REST_REPLIES // 20
    for label in (refusals.NON_FINITE_PRICE, refusals.NOT_A_DECIMAL, refusals.HIGH_BELOW_LOW,
                  refusals.BAD_JSON, refusals.ROWS_OUT_OF_ORDER, refusals.BAD_CLOSE_TIME,
                  refusals.MISALIGNED_OPEN_TIME, refusals.TOO_LONG, refusals.WRONG_FIELD_TYPE):
        assert reasons[label] > 0, f"no mutant was refused for {label!r}: {sorted(reasons)}"


def _interval_of(candle: Candle) -> str:
    """Which interval a candle from an interval-less parse spans (its own close time says)."""
    for name in COMMON_INTERVALS:
        if Interval.parse(name).close_time(candle.open_time) == candle.close_time:
            return name
    raise AssertionError(f"accepted a candle that spans no interval: {candle}")
