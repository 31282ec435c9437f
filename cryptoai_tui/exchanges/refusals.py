"""Why a frame or row from the wire was refused, and the checks that decide it.

Every value an exchange sends is checked where it is parsed, so a broken or hostile server
(or a proxy, or a captive portal) cannot put a NaN, a negative price, a high below the low
or a close time that does not match the interval into the series, the output or a strategy.
A refusal is a `MalformedMessageError` whose `reason` is one of the labels below: short,
stable strings the feed counts refusals by and summarises ("skipped 528 malformed frames in
the last minute: 510 non-finite price, 18 bad JSON"). Change a label and the summaries and
the tests that count by it change with it, so treat them as an interface.

The checks are written for the hot path (a kline parse is a few microseconds): the common
case is one type test, one length test and one precompiled regex match per value; the
work of naming what exactly is wrong is done only once a value has already failed.
"""

from __future__ import annotations

import math
import re
from typing import Final

from cryptoai_tui.market import Candle, Interval

# --- reason labels (the feed counts refusals by these) ----------------------------------
BAD_JSON: Final = "bad JSON"
NOT_AN_OBJECT: Final = "not a JSON object"
UNKNOWN_FRAME: Final = "unknown frame"
UNKNOWN_STREAM: Final = "unknown stream"
MISSING_FIELD: Final = "missing field"
WRONG_FIELD_TYPE: Final = "wrong field type"
NOT_A_DECIMAL: Final = "not a decimal string"
TOO_LONG: Final = "too long"
NON_FINITE_PRICE: Final = "non-finite price"
NON_FINITE_VOLUME: Final = "non-finite volume"
NEGATIVE_PRICE: Final = "negative price"
NEGATIVE_VOLUME: Final = "negative volume"
HIGH_BELOW_LOW: Final = "high below low"
HIGH_BELOW_OPEN_CLOSE: Final = "high below open/close"
LOW_ABOVE_OPEN_CLOSE: Final = "low above open/close"
BAD_CLOSE_TIME: Final = "bad close time"
MISALIGNED_OPEN_TIME: Final = "misaligned open time"
TIME_OUT_OF_RANGE: Final = "time out of range"
WRONG_INTERVAL: Final = "wrong interval"
BAD_SYMBOL: Final = "bad symbol"
BAD_ROW: Final = "bad row"
BAD_REPLY: Final = "bad reply"
ROWS_OUT_OF_ORDER: Final = "rows out of order"
TOO_MANY_ROWS: Final = "too many rows"

#: every label a protocol parser may refuse a frame or a REST reply with
REASONS: Final[frozenset[str]] = frozenset({
    BAD_JSON, NOT_AN_OBJECT, UNKNOWN_FRAME, UNKNOWN_STREAM, MISSING_FIELD, WRONG_FIELD_TYPE,
    NOT_A_DECIMAL, TOO_LONG, NON_FINITE_PRICE, NON_FINITE_VOLUME, NEGATIVE_PRICE, NEGATIVE_VOLUME,
    HIGH_BELOW_LOW, HIGH_BELOW_OPEN_CLOSE, LOW_ABOVE_OPEN_CLOSE, BAD_CLOSE_TIME,
    MISALIGNED_OPEN_TIME, TIME_OUT_OF_RANGE, WRONG_INTERVAL, BAD_SYMBOL, BAD_ROW, BAD_REPLY,
    ROWS_OUT_OF_ORDER, TOO_MANY_ROWS,
})

# --- bounds -----------------------------------------------------------------------------
#: Longest decimal string accepted. Exchanges send at most ~25 characters ("148976.11427815",
#: 8 decimals); 40 digits stay far inside a float's range, so no accepted string is Infinity.
MAX_DECIMAL_CHARS: Final = 40
#: Latest time accepted, 3000-01-01 UTC: far beyond any kline, and inside the range where
#: the calendar arithmetic (months, via datetime) cannot overflow. How far ahead of the
#: exchange's clock a kline may be is the feed's check, since only it knows that clock.
MAX_TIME_MS: Final = 32_503_680_000_000
#: Longest symbol accepted; Binance allows 20 characters, Bybit names stay under 32.
MAX_SYMBOL_CHARS: Final = 32

_DIGITS = re.compile(r"[0-9]{1,16}").fullmatch
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,%d}" % (MAX_SYMBOL_CHARS - 1)).fullmatch
_NON_FINITE_WORDS = frozenset({"nan", "inf", "infinity"})


class Refusal(Exception):
    """A value failed a check. Raised inside a parser and turned by it into a
    `MalformedMessageError` whose sentence names the exchange and quotes the frame."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decimal(value: object, field: str, *, volume: bool = False) -> float:
    """A price or volume given, as both exchanges document, as a plain decimal string
    ("0.01634790"): finite, non-negative, no exponent, underscore, sign, space or bool."""
    # isascii + isdigit is exactly [0-9] (str.isdigit alone takes "²" and Arabic-Indic digits,
    # which float() reads); it is cheaper than the regex and lets "1." and ".5" through,
    # which are finite, non-negative decimals all the same.
    if (type(value) is str and len(value) <= MAX_DECIMAL_CHARS and value.isascii()
            and value.replace(".", "", 1).isdigit()):
        return float(value)
    raise _decimal_refusal(value, field, volume)


def _decimal_refusal(value: object, field: str, volume: bool) -> Refusal:
    kind = "volume" if volume else "price"
    shown = _show(value)
    if type(value) is float and not math.isfinite(value):
        return Refusal(NON_FINITE_VOLUME if volume else NON_FINITE_PRICE, f"a non-finite {kind} {field}={shown}")
    if type(value) in (int, float):
        return Refusal(NOT_A_DECIMAL, f"{kind} {field}={shown} as a JSON number, not the decimal string it sends")
    if type(value) is not str:
        return Refusal(WRONG_FIELD_TYPE, f"{kind} {field}={shown}, which is not a decimal string")
    if len(value) > MAX_DECIMAL_CHARS:
        return Refusal(TOO_LONG, f"a {len(value)}-character {kind} {field}")
    word = value.strip().lower().lstrip("+-")
    if word in _NON_FINITE_WORDS:
        return Refusal(NON_FINITE_VOLUME if volume else NON_FINITE_PRICE, f"a non-finite {kind} {field}={shown}")
    rest = value[1:]
    if value.startswith("-") and rest.isascii() and rest.replace(".", "", 1).isdigit():
        return Refusal(NEGATIVE_VOLUME if volume else NEGATIVE_PRICE, f"a negative {kind} {field}={shown}")
    return Refusal(NOT_A_DECIMAL, f"{kind} {field}={shown}, which is not a plain decimal string")


def time_ms(value: object, field: str) -> int:
    """An epoch-millisecond time given as a JSON integer (not a bool, float or string)."""
    if type(value) is int and 0 <= value <= MAX_TIME_MS:
        return value
    if type(value) is int:
        raise Refusal(TIME_OUT_OF_RANGE, f"time {field}={_show(value)} outside 1970-3000")
    raise Refusal(WRONG_FIELD_TYPE, f"time {field}={_show(value)}, which is not an integer of milliseconds")


def time_string(value: object, field: str) -> int:
    """An epoch-millisecond time given as a string of digits (Bybit REST rows)."""
    if type(value) is str and _DIGITS(value) is not None:
        number = int(value)
        if number <= MAX_TIME_MS:
            return number
        raise Refusal(TIME_OUT_OF_RANGE, f"time {field}={_show(value)} outside 1970-3000")
    if type(value) is str and len(value) > MAX_DECIMAL_CHARS:
        raise Refusal(TOO_LONG, f"a {len(value)}-character time {field}")
    if type(value) is str or type(value) in (int, float):
        raise Refusal(NOT_A_DECIMAL, f"time {field}={_show(value)}, which is not a string of digits")
    raise Refusal(WRONG_FIELD_TYPE, f"time {field}={_show(value)}, which is not a string of digits")


def flag(value: object, field: str) -> bool:
    """A JSON boolean (Binance `x`, Bybit `confirm`): 1, "true" or null are not one."""
    if type(value) is bool:
        return value
    raise Refusal(WRONG_FIELD_TYPE, f"{field}={_show(value)}, which is not true or false")


def symbol(value: object, field: str = "symbol") -> str:
    """An exchange symbol spelled as both exchanges spell them on the wire: upper-case ASCII
    letters and digits, with `-`, `_` or `.`, at most MAX_SYMBOL_CHARS long."""
    if type(value) is str and _SYMBOL(value) is not None:
        return value
    if type(value) is not str:
        raise Refusal(WRONG_FIELD_TYPE, f"{field}={_show(value)}, which is not a string")
    if len(value) > MAX_SYMBOL_CHARS:
        raise Refusal(TOO_LONG, f"a {len(value)}-character {field}")
    raise Refusal(BAD_SYMBOL, f"{field}={_show(value)}, which is not a symbol")


def candle(open_time: int, open_: float, high: float, low: float, close: float, volume: float,
           close_time: int, closed: bool, interval: Interval) -> Candle:
    """A Candle whose prices are consistent (low <= open, close <= high) and whose times are
    the interval's: open time on a boundary, close time the last millisecond before the next
    one (calendar months included, via Interval)."""
    if high < low:
        raise Refusal(HIGH_BELOW_LOW, f"high {high:g} below its low {low:g}")
    if high < open_ or high < close:
        raise Refusal(HIGH_BELOW_OPEN_CLOSE, f"high {high:g} below its open {open_:g} or close {close:g}")
    if low > open_ or low > close:
        raise Refusal(LOW_ABOVE_OPEN_CLOSE, f"low {low:g} above its open {open_:g} or close {close:g}")
    if not interval.is_aligned(open_time):
        raise Refusal(MISALIGNED_OPEN_TIME, f"open time {open_time} that does not start a {interval.name} candle")
    if close_time != interval.close_time(open_time):
        raise Refusal(BAD_CLOSE_TIME, f"close time {close_time} that does not end the {interval.name} candle "
                                      f"opening at {open_time}")
    return Candle(open_time, open_, high, low, close, volume, close_time, closed)


def _show(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
