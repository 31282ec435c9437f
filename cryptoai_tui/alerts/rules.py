"""Alert rules as values, and the one grammar users write them in.

`price above 120000`, `price crosses below 2,950.5`, `move 2% in 5 candles`, `signal BUY`,
`trigger rsi any`, `rsi < 25`, `macd.hist crosses above 0`. A rule that does not read gets
one sentence showing the grammar, never a traceback or a silent default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Union


class Comparison(str, Enum):
    ABOVE = "above"
    BELOW = "below"
    CROSSES_ABOVE = "crosses above"
    CROSSES_BELOW = "crosses below"

    @property
    def is_crossing(self) -> bool:
        return self in (Comparison.CROSSES_ABOVE, Comparison.CROSSES_BELOW)

    @property
    def upward(self) -> bool:
        return self in (Comparison.ABOVE, Comparison.CROSSES_ABOVE)


class Frequency(str, Enum):
    """How often a rule may fire: once ever, at most once per candle, or every time it is
    re-armed (TradingView's "only once / once per bar / every time")."""

    ONCE = "once"
    PER_CANDLE = "per-candle"
    EVERY = "every"


@dataclass(frozen=True, slots=True)
class PriceCondition:
    comparison: Comparison
    level: float

    def describe(self) -> str:
        return f"price {self.comparison.value} {_number(self.level)}"


@dataclass(frozen=True, slots=True)
class MoveCondition:
    """The price moved `percent` (signed: + up only, - down only; unsigned: either way)
    against the close `candles` candles ago."""

    percent: float
    candles: int
    direction: int = 0  # +1 up only, -1 down only, 0 either

    def describe(self) -> str:
        sign = {1: "+", -1: "-", 0: ""}[self.direction]
        return f"move {sign}{_number(self.percent)}% in {self.candles} candles"


@dataclass(frozen=True, slots=True)
class SignalCondition:
    """A confirmed confluence signal; `action` BUY, SELL or any; `mode` None matches every mode."""

    action: str
    mode: str | None = None

    def describe(self) -> str:
        return f"signal {self.action}" + (f" mode {self.mode}" if self.mode else "")


@dataclass(frozen=True, slots=True)
class TriggerCondition:
    """A strategy's own trigger on a confirmed candle, whatever the confluence said."""

    strategy: str
    action: str

    def describe(self) -> str:
        return f"trigger {self.strategy} {self.action}"


@dataclass(frozen=True, slots=True)
class IndicatorCondition:
    """A strategy's key value (`rsi`, or `strategy.key` like `macd.hist`) against a level, on
    confirmed candles."""

    indicator: str
    comparison: Comparison
    level: float

    def describe(self) -> str:
        op = {Comparison.ABOVE: ">", Comparison.BELOW: "<"}.get(self.comparison, self.comparison.value)
        return f"{self.indicator} {op} {_number(self.level)}"


Condition = Union[PriceCondition, MoveCondition, SignalCondition, TriggerCondition, IndicatorCondition]

GRAMMAR = (
    "price above|below|crosses above|crosses below N; move N% in K candles; "
    "signal BUY|SELL|any [mode M]; trigger STRATEGY BUY|SELL|any; "
    "INDICATOR <|>|crosses above|crosses below N (e.g. rsi < 25, macd.hist crosses above 0)"
)


class RuleError(ValueError):
    """A rule, frequency, duration or level that does not read; the message says the grammar."""


_NUMBER = r"([-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+)"
_COMPARISON = r"(above|below|crosses\s+above|crosses\s+below|>|<|>=|<=)"
_PRICE = re.compile(rf"^price\s+{_COMPARISON}\s+{_NUMBER}$", re.IGNORECASE)
_MOVE = re.compile(rf"^move\s+([-+]?)(\d+(?:\.\d+)?)\s*%\s+in\s+(\d+)\s+candles?$", re.IGNORECASE)
_SIGNAL = re.compile(r"^signal\s+(buy|sell|any)(?:\s+mode\s+(\S+))?$", re.IGNORECASE)
_TRIGGER = re.compile(r"^trigger\s+([a-z_]+)\s+(buy|sell|any)$", re.IGNORECASE)
_INDICATOR = re.compile(rf"^([a-z_]+(?:\.[a-z_0-9]+)?)\s*{_COMPARISON}\s*{_NUMBER}$", re.IGNORECASE)


def parse_condition(text: str) -> Condition:
    """The condition `text` describes, or a RuleError that shows the grammar."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise RuleError(f"An alert needs a rule: {GRAMMAR}.")
    if match := _PRICE.match(cleaned):
        return PriceCondition(_comparison(match.group(1)), _level(match.group(2)))
    if match := _MOVE.match(cleaned):
        percent, candles = float(match.group(2)), int(match.group(3))
        if percent <= 0 or candles <= 0:
            raise RuleError(f"A move rule needs a positive percentage and candle count, got {text!r}.")
        direction = {"+": 1, "-": -1, "": 0}[match.group(1)]
        return MoveCondition(percent, candles, direction)
    if match := _SIGNAL.match(cleaned):
        return SignalCondition(_action(match.group(1)), match.group(2).lower() if match.group(2) else None)
    if match := _TRIGGER.match(cleaned):
        return TriggerCondition(match.group(1).lower(), _action(match.group(2)))
    if (match := _INDICATOR.match(cleaned)) and not cleaned.lower().startswith(("price", "move", "signal", "trigger")):
        return IndicatorCondition(match.group(1).lower(), _comparison(match.group(2)), _level(match.group(3)))
    raise RuleError(f"{text!r} is not a rule cryptoai-tui reads. Rules: {GRAMMAR}.")


def _comparison(text: str) -> Comparison:
    word = " ".join(text.lower().split())
    return {">": Comparison.ABOVE, ">=": Comparison.ABOVE, "<": Comparison.BELOW,
            "<=": Comparison.BELOW}.get(word) or Comparison(word)


def _level(text: str) -> float:
    return float(text.replace(",", ""))


def _action(text: str) -> str:
    upper = text.upper()
    return "any" if upper == "ANY" else upper


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str) -> float:
    """Seconds in `90s`, `15m`, `4h`, `1d` (a bare number is seconds)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise RuleError(f"{text!r} is not a duration: use a number with s, m, h or d, e.g. 15m.")
    return float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]


def parse_percent(text: str) -> float:
    """A fraction from `0.1%` (or a bare `0.1`, read as percent)."""
    cleaned = text.strip().rstrip("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise RuleError(f"{text!r} is not a percentage: write it like 0.1%.") from None
    if not 0 <= value < 100:
        raise RuleError(f"A re-arm band must be between 0% and 100%, got {text!r}.")
    return value / 100


APP_CHANNELS = ("toast", "bell", "desktop")


def parse_app_notify(text: str) -> tuple[str, ...]:
    """`toast,bell` -> ("toast", "bell"); `none` -> ()."""
    words = [w.strip().lower() for w in text.replace(" ", ",").split(",") if w.strip()]
    if words == ["none"]:
        return ()
    unknown = [w for w in words if w not in APP_CHANNELS]
    if unknown or not words:
        raise RuleError(f"{text!r} is not a list of in-app notifications: use any of "
                        f"{', '.join(APP_CHANNELS)} separated by commas, or none.")
    return tuple(dict.fromkeys(words))


def parse_frequency(text: str) -> Frequency:
    try:
        return Frequency(text.strip().lower())
    except ValueError:
        raise RuleError(
            f"{text!r} is not a frequency: use {', '.join(f.value for f in Frequency)}."
        ) from None


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One armed alert: what to watch, when to fire, where to send it.

    `cooldown_s` is the least time between two fires, judged on the market's clock (the
    candle's time on a replay) so a replay and a live run agree; `rearm` is the fraction the
    price must move back past a level before the rule may fire on it again (no flapping when
    the price hovers on the level); `expires_at` (ms UTC) ends the rule.
    """

    id: str
    symbol: str
    condition: Condition
    notify: tuple[str, ...] = ()
    interval: str | None = None
    frequency: Frequency = Frequency.PER_CANDLE
    cooldown_s: float = 0.0
    rearm: float = 0.001
    expires_at: int | None = None
    in_app: bool = True
    #: how it shows in the app when it fires: any of toast, bell, desktop (the terminal's
    #: OSC 9/777 notification where the terminal supports one)
    app_notify: tuple[str, ...] = ("toast", "bell", "desktop")

    def describe(self) -> str:
        where = f"{self.symbol}" + (f" {self.interval}" if self.interval else "")
        return f"{where}: {self.condition.describe()}"


def _number(value: float) -> str:
    return f"{value:,.8f}".rstrip("0").rstrip(".")
