"""The armed rules and their state: which fire on this update, and which must wait.

Pure and clock-free: every input carries the market's time, so a replay fires exactly what a
live run over the same candles would, and `alert preview` is the same code run over history.
Price and move rules are judged on every update (the forming candle included); signal,
trigger and indicator rules on confirmed candles only. A crossing is judged against the
previous evaluated price. After firing, a level rule is disarmed until the price moves back
beyond its re-arm band, so a price hovering on the level does not flap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from cryptoai_tui.alerts.rules import (
    AlertRule,
    Comparison,
    Frequency,
    IndicatorCondition,
    MoveCondition,
    PriceCondition,
    SignalCondition,
    TriggerCondition,
)


@dataclass(frozen=True, slots=True)
class PriceTick:
    """One price update of a stream; `closed` when it is a candle's final price."""

    symbol: str
    interval: str
    price: float
    candle_open_time: int
    at_ms: int
    closed: bool = False


@dataclass(frozen=True, slots=True)
class ConfirmedCandle:
    """What the engine confirmed at a candle's close: the verdict, every trigger, every value."""

    symbol: str
    interval: str
    open_time: int
    close: float
    at_ms: int
    action: str  # the confluence verdict: BUY / SELL / HOLD
    mode: str
    triggers: Mapping[str, str] = field(default_factory=dict)  # strategy -> BUY/SELL/HOLD...
    values: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # strategy -> key values


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired: what to tell the trader and when it happened."""

    rule_id: str
    symbol: str
    interval: str
    text: str
    at_ms: int
    candle_open_time: int
    price: float


@dataclass(slots=True)
class _State:
    armed: bool = True
    previous: float | None = None  # price (or indicator value) at the previous evaluation
    fired: int = 0
    last_fired_at: int | None = None
    last_fired_candle: int | None = None
    suppressed: int = 0  # fires held back by the cooldown or the frequency
    closes: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class AlertBook:
    """Judges `rules` against updates; `use_cooldown=False` shows what a rule would do without it."""

    def __init__(self, rules: Iterable[AlertRule], *, use_cooldown: bool = True) -> None:
        self.rules = {rule.id: rule for rule in rules}
        self._states = {rule_id: _State() for rule_id in self.rules}
        self._use_cooldown = use_cooldown

    def suppressed(self, rule_id: str) -> int:
        return self._states[rule_id].suppressed

    def fired(self, rule_id: str) -> int:
        return self._states[rule_id].fired

    def prime(self, tick: PriceTick) -> None:
        """Learn a price without judging it (start-up history of a live session): a crossing
        after it is judged against it, a move rule counts its close, and nothing fires, so
        opening a session never notifies anyone about the past."""
        for rule in self._rules_for(tick.symbol, tick.interval, tick.at_ms):
            state = self._states[rule.id]
            if isinstance(rule.condition, PriceCondition):
                state.previous = tick.price
            elif isinstance(rule.condition, MoveCondition) and tick.closed:
                state.closes.append(tick.price)

    def on_price(self, tick: PriceTick) -> list[Alert]:
        alerts = []
        for rule in self._rules_for(tick.symbol, tick.interval, tick.at_ms):
            condition, state = rule.condition, self._states[rule.id]
            if isinstance(condition, PriceCondition):
                hit = self._level(rule, state, condition.comparison, condition.level, tick.price)
                text = f"{tick.symbol} {condition.describe()}: {_price(tick.price)}"
            elif isinstance(condition, MoveCondition):
                hit, text = self._move(rule, state, condition, tick)
            else:
                continue
            if hit and self._may_fire(rule, state, tick.at_ms, tick.candle_open_time):
                alerts.append(self._fire(rule, state, tick.interval, text, tick.at_ms, tick.candle_open_time, tick.price))
        return alerts

    def on_confirmed(self, candle: ConfirmedCandle) -> list[Alert]:
        alerts = []
        for rule in self._rules_for(candle.symbol, candle.interval, candle.at_ms):
            condition, state = rule.condition, self._states[rule.id]
            if isinstance(condition, SignalCondition):
                hit = candle.action in ("BUY", "SELL") and condition.action in ("any", candle.action) \
                    and condition.mode in (None, candle.mode)
                text = f"{candle.symbol} {candle.interval} confirmed {candle.action} ({candle.mode}) at {_price(candle.close)}"
            elif isinstance(condition, TriggerCondition):
                trigger = candle.triggers.get(condition.strategy, "HOLD")
                hit = trigger in ("BUY", "SELL") and condition.action in ("any", trigger)
                text = f"{candle.symbol} {candle.interval} {condition.strategy} triggered {trigger} at {_price(candle.close)}"
            elif isinstance(condition, IndicatorCondition):
                value = _indicator(candle.values, condition.indicator)
                if value is None:
                    continue
                hit = self._level(rule, state, condition.comparison, condition.level, value)
                text = f"{candle.symbol} {candle.interval} {condition.describe()}: {condition.indicator} {value:,.2f}"
            else:
                continue
            if hit and self._may_fire(rule, state, candle.at_ms, candle.open_time):
                alerts.append(self._fire(rule, state, candle.interval, text, candle.at_ms, candle.open_time, candle.close))
        return alerts

    def _rules_for(self, symbol: str, interval: str, at_ms: int) -> list[AlertRule]:
        return [
            rule for rule in self.rules.values()
            if rule.symbol == symbol and rule.interval in (None, interval)
            and (rule.expires_at is None or at_ms < rule.expires_at)
            and not (rule.frequency is Frequency.ONCE and self._states[rule.id].fired)
        ]

    @staticmethod
    def _level(rule: AlertRule, state: _State, comparison: Comparison, level: float, value: float) -> bool:
        """Whether `value` meets the level now (a crossing: since the previous value), keeping
        the rule disarmed until the value has moved back beyond the re-arm band."""
        previous, state.previous = state.previous, value
        band = rule.rearm * max(abs(level), 1e-12)
        if not state.armed:
            if (comparison.upward and value < level - band) or (not comparison.upward and value > level + band):
                state.armed = True
            return False
        if comparison is Comparison.ABOVE:
            return value > level
        if comparison is Comparison.BELOW:
            return value < level
        if previous is None:
            return False  # a crossing needs a fresh cross, not a price already past the level
        if comparison is Comparison.CROSSES_ABOVE:
            return previous < level <= value
        return previous > level >= value

    @staticmethod
    def _move(rule: AlertRule, state: _State, condition: MoveCondition, tick: PriceTick) -> tuple[bool, str]:
        hit, text = False, ""
        if len(state.closes) >= condition.candles:
            reference = state.closes[-condition.candles]
            change = tick.price / reference - 1.0
            size = change * condition.direction if condition.direction else abs(change)
            threshold = condition.percent / 100
            # the band is at most half the move itself: a 0.05% rule with the default 0.1%
            # band would otherwise need a negative move to re-arm, and fire only once ever
            band = min(rule.rearm, threshold / 2)
            if not state.armed and size < threshold - band:
                state.armed = True
            elif state.armed and size >= threshold:
                hit = True
                text = (f"{tick.symbol} moved {change * 100:+.2f}% in {condition.candles} candles "
                        f"({_price(reference)} -> {_price(tick.price)})")
        if tick.closed:
            state.closes.append(tick.price)
        return hit, text

    def _may_fire(self, rule: AlertRule, state: _State, at_ms: int, candle: int) -> bool:
        if rule.frequency is Frequency.PER_CANDLE and state.last_fired_candle == candle:
            state.suppressed += 1
            return False
        if self._use_cooldown and state.last_fired_at is not None and at_ms - state.last_fired_at < rule.cooldown_s * 1000:
            state.suppressed += 1
            return False
        return True

    @staticmethod
    def _fire(rule: AlertRule, state: _State, interval: str, text: str, at_ms: int, candle: int, price: float) -> Alert:
        state.fired += 1
        state.last_fired_at, state.last_fired_candle = at_ms, candle
        if isinstance(rule.condition, (PriceCondition, IndicatorCondition, MoveCondition)):
            state.armed = False
        return Alert(rule.id, rule.symbol, interval, text, at_ms, candle, price)


def _indicator(values: Mapping[str, Mapping[str, float]], name: str) -> float | None:
    """`rsi` -> the first strategy value called rsi; `macd.hist` -> macd's value hist."""
    if "." in name:
        strategy, key = name.split(".", 1)
        return values.get(strategy, {}).get(key)
    own = values.get(name, {})
    if name in own:
        return own[name]
    for strategy_values in values.values():
        if name in strategy_values:
            return strategy_values[name]
    return None


def _price(value: float) -> str:
    return f"{value:,.8f}".rstrip("0").rstrip(".")
