"""What a strategy says about one bar, and what the confluence of several says.

A strategy reports two things on every bar (docs/strategies.md): a *trigger* (`Signal.action`:
BUY or SELL on the bar its event happens, HOLD otherwise, WARMUP/ERROR when it cannot say)
and a *stance* (`Signal.stance`: what its indicator says now, persisting between events).
Confluence needs a trigger for timing and reads the stances for confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Callable, Mapping, Union


class Action(str, Enum):
    """A strategy's verdict. WARMUP: not enough history yet; ERROR: it raised or overran."""

    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    WARMUP = "WARMUP"
    ERROR = "ERROR"

    @property
    def votes(self) -> Action:
        """How this verdict counts in confluence: only BUY and SELL take a side."""
        return self if self in (Action.BUY, Action.SELL) else Action.HOLD


class Stance(str, Enum):
    """Which side a strategy's indicator leans to now, whether or not it triggered.

    Computed from bars <= t only, like a trigger, so it never repaints. WARMUP and ERROR
    signals are NEUTRAL: a strategy that cannot read the market leans nowhere.
    """

    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"

    @property
    def side(self) -> Action | None:
        """The trigger this stance confirms: BUY for bullish, SELL for bearish, None."""
        return _STANCE_SIDE[self]

    @classmethod
    def of(cls, value: float) -> Stance:
        """Bullish above zero, bearish below, neutral at exactly zero (or NaN)."""
        if value > 0.0:
            return cls.BULLISH
        if value < 0.0:
            return cls.BEARISH
        return cls.NEUTRAL


_STANCE_SIDE = {Stance.BULLISH: Action.BUY, Stance.BEARISH: Action.SELL, Stance.NEUTRAL: None}

# The members as module constants: `Stance.BULLISH` is a class attribute lookup through the
# enum's metaclass (~100 ns on Python 3.11), a global read is a dict hit. Hot paths use these.
BUY, SELL, HOLD, WARMUP, ERROR = Action.BUY, Action.SELL, Action.HOLD, Action.WARMUP, Action.ERROR
BULLISH, BEARISH, NEUTRAL = Stance.BULLISH, Stance.BEARISH, Stance.NEUTRAL


def stance_of(value: float) -> Stance:
    """`Stance.of` without the classmethod call and member lookups (every update calls it):
    bullish above zero, bearish below, neutral at exactly zero (or NaN)."""
    if value > 0.0:
        return BULLISH
    if value < 0.0:
        return BEARISH
    return NEUTRAL

_EMPTY: Mapping[str, float] = MappingProxyType({})


# A reason, or how to build it: a zero-argument function, or (function, *arguments) which
# retains fewer objects than a closure when signals are kept by the thousand (a backtest).
Reason = Union[str, Callable[[], str], tuple]


@dataclass(frozen=True, slots=True, eq=False)
class Signal:
    """One strategy's output for one bar.

    `values` are the key numbers shown to the user (e.g. {"rsi": 28.4}); `reason` is one
    short line a trader can read ("RSI crossed above 30 from 24.1"). `action` is the
    trigger (kept under its old name so every consumer keeps working); `stance` is the
    strategy's standing view, reported on every bar, trigger or not.

    The reason is lazy: a strategy may pass a zero-argument function, or a tuple
    (function, *arguments), instead of the text (the third argument, `text`), and it is
    called the first time `reason` is read (a
    frame, a JSON line, a journal row), then kept. Formatting prices costs more than the
    indicator arithmetic of a quiet tick, and most signals are replaced by the next update
    before anyone reads them. The function must capture plain numbers only, never the
    window's arrays (those alias a buffer that the next candle overwrites).

    Equality and hashing read the built reason, so two signals are equal exactly when
    every public attribute is.
    """

    action: Action
    confidence: float = 0.0
    text: Reason = ""
    values: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    stance: Stance = Stance.NEUTRAL

    def __init__(
        self,
        action: Action,
        confidence: float = 0.0,
        text: Reason = "",
        values: Mapping[str, float] = _EMPTY,
        stance: Stance = Stance.NEUTRAL,
    ) -> None:
        # Every strategy builds one per update, eleven a tick: the frozen dataclass's own
        # __init__ (object.__setattr__ per field) costs ~1.5 µs, the slots' setters ~0.5.
        _set_action(self, action)
        _set_confidence(self, confidence)
        _set_text(self, text)
        _set_values(self, values)
        _set_stance(self, stance)

    @property
    def reason(self) -> str:
        """The one-line explanation, built on first read if the strategy deferred it."""
        text = self.text
        if type(text) is str:
            return text
        built = text[0](*text[1:]) if type(text) is tuple else text()  # type: ignore[operator]
        object.__setattr__(self, "text", built)
        return built

    def _key(self) -> tuple[object, ...]:
        return (self.action, self.confidence, self.reason, dict(self.values), self.stance)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Signal:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.action, self.confidence, self.reason, tuple(self.values.items()),
                     self.stance))

    def __repr__(self) -> str:
        return (f"Signal(action={self.action!r}, confidence={self.confidence!r}, "
                f"reason={self.reason!r}, values={dict(self.values)!r}, stance={self.stance!r})")

    def __reduce__(self) -> tuple[Callable[..., Signal], tuple[object, ...]]:
        """Pickle the built reason and the values as a dict, rewrapped read-only on load.

        Why: strategies hand out `values` as a MappingProxyType (read-only for every
        consumer), which pickle refuses, and a deferred reason may be a closure; a copy in
        another process needs neither, only what equality reads.
        """
        values = self.values
        proxied = type(values) is MappingProxyType
        return (_unpickle, (self.action, self.confidence, self.reason, dict(values),
                            self.stance, proxied))

    @property
    def trigger(self) -> Action | None:
        """BUY or SELL on the bar the strategy's event happens, else None."""
        return self.action if self.action in (Action.BUY, Action.SELL) else None

    @property
    def side(self) -> Action | None:
        """How this signal counts in confluence: its trigger if it has one, else its stance.

        A strategy that triggers is on its trigger's side even if its stance lags (RSI
        crossing back above 30 is BUY while its oversold stance has just ended)."""
        return self.trigger or self.stance.side

    @classmethod
    def hold(
        cls,
        reason: Reason = "",
        values: Mapping[str, float] | None = None,
        stance: Stance = Stance.NEUTRAL,
    ) -> Signal:
        return cls(Action.HOLD, 0.0, reason, MappingProxyType(dict(values or {})), stance)

    @classmethod
    def warmup(cls, have: int, need: int) -> Signal:
        return cls(Action.WARMUP, 0.0, f"warming up: {have}/{need} candles")

    @classmethod
    def error(cls, message: str) -> Signal:
        return cls(Action.ERROR, 0.0, message)


_set_action, _set_confidence, _set_text, _set_values, _set_stance = (
    Signal.__dict__[name].__set__ for name in ("action", "confidence", "text", "values", "stance")
)
_new_object = object.__new__


def _unpickle(action: Action, confidence: float, reason: str, values: dict[str, float],
              stance: Stance, proxied: bool) -> Signal:
    """The inverse of `Signal.__reduce__`."""
    return Signal(action, confidence, reason, MappingProxyType(values) if proxied else values,
                  stance)


def make_signal(
    action: Action, confidence: float, text: Reason, values: Mapping[str, float], stance: Stance
) -> Signal:
    """A Signal, exactly as `Signal(action, confidence, text, values, stance)` makes it.

    Why: the classic strategies build one per update, six a tick, and calling the class
    goes through type.__call__, the keyword-capable __init__ and its default handling
    (~1.2 µs here); allocating the instance and filling its slots directly is a fraction
    of that. Every argument is positional and required, and nothing is checked, so this is
    for hot paths that already hold the right types; everyone else calls `Signal(...)`.
    """
    signal = _new_object(Signal)
    _set_action(signal, action)
    _set_confidence(signal, confidence)
    _set_text(signal, text)
    _set_values(signal, values)
    _set_stance(signal, stance)
    return signal


class ConfluenceMode(str, Enum):
    """How the chosen strategies' triggers and stances are combined (docs/strategies.md).

    "At least k" is not a member (it carries a number): see ConfluenceRule."""

    ALL = "all"
    ANY = "any"
    MAJORITY = "majority"

    @property
    def description(self) -> str:
        return _MODE_DESCRIPTIONS[self]

    @classmethod
    def parse(cls, mode: ConfluenceMode | str) -> ConfluenceMode:
        """Accept the enum or its spelling ("all", "any", "majority"), any case."""
        if isinstance(mode, ConfluenceMode):
            return mode
        try:
            return cls(str(mode).strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"Unknown confluence mode {mode!r}: use one of {choices}.") from None

    def next(self) -> ConfluenceMode:
        modes = list(ConfluenceMode)
        return modes[(modes.index(self) + 1) % len(modes)]


_MODE_DESCRIPTIONS = {
    ConfluenceMode.ALL: "A trigger and no strategy leaning against it; fewest, cleanest signals.",
    ConfluenceMode.ANY: "A trigger and no opposite trigger on the same candle.",
    ConfluenceMode.MAJORITY: "A trigger and more than half of the strategies on its side.",
}


@dataclass(frozen=True, slots=True)
class ConfluenceRule:
    """A confluence mode as a value: one of the three named modes, or "at least k of N".

    `--mode 3` means a trigger and at least 3 strategies on its side (the trigger's own
    strategy included). `mode` is None exactly when the rule is "at least k".
    `value`/`name` mirror ConfluenceMode's so code that prints `result.mode.value` works
    for either.
    """

    mode: ConfluenceMode | None = ConfluenceMode.MAJORITY
    k: int = 0

    def __post_init__(self) -> None:
        if self.mode is None and self.k < 1:
            raise ValueError(
                f"A confluence count must be at least 1, got {self.k}: use e.g. '3' for "
                "'at least 3 strategies on the trigger's side'."
            )
        if self.mode is not None and self.k != 0:
            raise ValueError(f"Mode {self.mode.value} takes no count; give either a mode or a count.")

    @classmethod
    def at_least(cls, k: int) -> ConfluenceRule:
        return cls(None, k)

    @classmethod
    def of(cls, mode: ConfluenceMode | ConfluenceRule | str | int) -> ConfluenceRule:
        """The rule for a mode, a rule, or the text a user typed."""
        if isinstance(mode, ConfluenceRule):
            return mode
        if isinstance(mode, ConfluenceMode):
            return cls(mode)
        return cls.parse(mode)

    @classmethod
    def parse(cls, text: str | int) -> ConfluenceRule:
        """"all", "ANY", "Majority" (any case) or a whole number such as "3"."""
        if isinstance(text, bool):
            raise ValueError(f"Unknown confluence mode {text!r}: {_MODE_CHOICES}.")
        if isinstance(text, int):
            return cls.at_least(text)
        word = str(text).strip().lower()
        for mode in ConfluenceMode:
            if word == mode.value:
                return cls(mode)
        if word.isdigit():
            return cls.at_least(int(word))
        raise ValueError(f"Unknown confluence mode {text!r}: {_MODE_CHOICES}.")

    @property
    def value(self) -> str:
        """What a user types for this rule: "all", "any", "majority" or "3"."""
        return self.mode.value if self.mode is not None else str(self.k)

    @property
    def name(self) -> str:
        """Short upper-case name for headers: "MAJORITY" or "3 OF N"."""
        return self.mode.name if self.mode is not None else f"{self.k} OF N"

    def label(self, total: int) -> str:
        """The rule for a screen: "MAJORITY", "ALL", "ANY" or "3 of 11"."""
        return self.mode.name if self.mode is not None else f"{self.k} of {total}"

    @property
    def description(self) -> str:
        if self.mode is not None:
            return self.mode.description
        if self.k == 1:
            return "A trigger on its own (no other strategy needs to confirm it)."
        return f"A trigger and at least {self.k} strategies (the trigger's included) on its side."

    def needed(self, total: int) -> int:
        """Strategies on the trigger's side (its own included) this rule needs out of `total`.

        ANY and ALL need only the trigger (ALL also needs no stance against it); MAJORITY
        more than half of all chosen strategies; "at least k" needs k.
        """
        if self.mode is ConfluenceMode.MAJORITY:
            return total // 2 + 1
        if self.mode is None:
            return self.k
        return 1

    def check(self, total: int) -> None:
        """Refuse a count that can never be met with `total` strategies chosen."""
        if self.mode is None and self.k > total:
            raise ValueError(
                f"Confluence mode {self.k} needs at least {self.k} strategies on a trigger's "
                f"side, but only {total} are chosen: choose more strategies or a count of at "
                f"most {total}."
            )


_MODE_CHOICES = "use all, any, majority, or a number such as 3 (at least 3 strategies agree)"


@dataclass(frozen=True, slots=True)
class ConfluenceResult:
    """The combined verdict, who triggered it, who confirmed it and who stood against it.

    `mode` is the ConfluenceMode for the three named modes and the ConfluenceRule for
    "at least k" (both have `.value` and `.name`); `rule` is always the ConfluenceRule.
    `agree` (kept for older consumers) names triggered_by + confirmed_by for a BUY or SELL
    and is empty for a HOLD, so "agree N of N" never decorates a HOLD. `needed` is how many
    strategies on the trigger's side the mode needs, the trigger's own included.
    """

    mode: ConfluenceMode | ConfluenceRule
    action: Action
    confidence: float
    agree: tuple[str, ...]
    total: int
    reason: str = ""
    triggered_by: tuple[str, ...] = ()
    confirmed_by: tuple[str, ...] = ()
    opposed_by: tuple[str, ...] = ()
    needed: int = 0

    @property
    def rule(self) -> ConfluenceRule:
        return ConfluenceRule.of(self.mode)

    @property
    def on_side(self) -> int:
        """Strategies on the verdict's (or, for a HOLD, the would-be verdict's) side."""
        return len(self.triggered_by) + len(self.confirmed_by)
