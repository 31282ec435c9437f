"""What a strategy says about one bar, and what the confluence of several says."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping


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


_EMPTY: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Signal:
    """One strategy's output for one bar.

    `values` are the key numbers shown to the user (e.g. {"rsi": 28.4}); `reason` is one
    short line a trader can read ("RSI crossed above 30 from 24.1").
    """

    action: Action
    confidence: float = 0.0
    reason: str = ""
    values: Mapping[str, float] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def hold(cls, reason: str = "", values: Mapping[str, float] | None = None) -> Signal:
        return cls(Action.HOLD, 0.0, reason, MappingProxyType(dict(values or {})))

    @classmethod
    def warmup(cls, have: int, need: int) -> Signal:
        return cls(Action.WARMUP, 0.0, f"warming up: {have}/{need} candles")

    @classmethod
    def error(cls, message: str) -> Signal:
        return cls(Action.ERROR, 0.0, message)


class ConfluenceMode(str, Enum):
    """How the chosen strategies' votes are combined (strategies.md §2.3)."""

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
    ConfluenceMode.ALL: "Every chosen strategy must agree; rare, strongest signals.",
    ConfluenceMode.ANY: "Any one strategy fires, unless another says the opposite.",
    ConfluenceMode.MAJORITY: "More than half of the chosen strategies agree.",
}


@dataclass(frozen=True, slots=True)
class ConfluenceResult:
    """The combined verdict and who agreed with it."""

    mode: ConfluenceMode
    action: Action
    confidence: float
    agree: tuple[str, ...]
    total: int
    reason: str = ""
