"""Fault knobs of the simulated exchange, and the seeded dice that decide when they fire.

Every misbehaviour a client must survive (exchanges.md §5-§6) is a field here, so a test
can switch on exactly the fault it is about, alone or with others, and get the same faults
on every run with the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Sequence


class FaultKind(str, Enum):
    """The names `--fault NAME[=VALUE]` accepts (the CLI spelling)."""

    DROP = "drop"  # abort the TCP connection without a close frame (client sees 1006)
    DROP_1008 = "drop-1008"  # close with 1008 "Too many requests", as Binance does
    STALL = "stall"  # keep the socket open but send (and read) nothing for a while
    MALFORMED = "malformed"  # an extra frame that is not the protocol
    DUPLICATE = "duplicate"  # a kline message sent twice
    REORDER = "reorder"  # a kline message held back and sent after the next one
    MISSING_FINAL = "missing-final"  # a candle's final (x:true / confirm:true) never sent
    REST_429 = "rest-429"  # HTTP 429 + Retry-After
    REST_418 = "rest-418"  # IP ban: HTTP 418 + Retry-After, -1003 "IP banned until <ms>"
    REST_5XX = "rest-5xx"  # HTTP 503
    RESTART = "restart"  # all connections dropped, port closed briefly, then back


#: Faults whose value is seconds between events; the others take a probability per
#: message (WebSocket) or per request (REST).
PERIODIC = (FaultKind.DROP, FaultKind.DROP_1008, FaultKind.STALL, FaultKind.RESTART)
DEFAULT_RATE = 0.01
DEFAULT_PERIOD_S = 30.0


class FaultConfigError(ValueError):
    """A `--fault` the simulator does not understand; the message lists what it accepts."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults are on and how often. Periods are real seconds; rates are
    probabilities in [0, 1]. The defaults are a well-behaved exchange."""

    drop_every_s: float | None = None
    drop_1008_every_s: float | None = None
    stall_every_s: float | None = None
    stall_s: float = 5.0
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    missing_final_rate: float = 0.0
    rest_429_rate: float = 0.0
    rest_418_rate: float = 0.0
    rest_5xx_rate: float = 0.0
    #: Retry-After of a 429 (fractional seconds allowed so tests stay fast)
    retry_after_s: float = 1.0
    #: how long a 418 ban lasts; every request during it gets 418 with the time left
    ban_s: float = 2.0
    restart_every_s: float | None = None
    restart_down_s: float = 0.5

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if item.name.endswith("_rate"):
                if not 0.0 <= value <= 1.0:
                    raise FaultConfigError(
                        f"Fault {item.name} is a probability and must be between 0 and 1, got {value!r}."
                    )
            elif not value > 0 and item.name.endswith("_every_s"):
                raise FaultConfigError(f"Fault {item.name} is seconds between events and must be above 0, got {value!r}.")
            elif value < 0:
                raise FaultConfigError(f"Fault setting {item.name} cannot be negative, got {value!r}.")

    @property
    def active(self) -> tuple[FaultKind, ...]:
        """The faults switched on, in FaultKind order (for the start-up banner and logs)."""
        on = []
        for kind in FaultKind:
            value = getattr(self, _FIELD[kind])
            if value is not None and value > 0:
                on.append(kind)
        return tuple(on)

    def describe(self) -> str:
        parts = []
        for kind in self.active:
            value = getattr(self, _FIELD[kind])
            unit = f"every {value:g} s" if kind in PERIODIC else f"p={value:g}"
            parts.append(f"{kind.value} ({unit})")
        return ", ".join(parts) if parts else "none"


_FIELD: dict[FaultKind, str] = {
    FaultKind.DROP: "drop_every_s",
    FaultKind.DROP_1008: "drop_1008_every_s",
    FaultKind.STALL: "stall_every_s",
    FaultKind.MALFORMED: "malformed_rate",
    FaultKind.DUPLICATE: "duplicate_rate",
    FaultKind.REORDER: "reorder_rate",
    FaultKind.MISSING_FINAL: "missing_final_rate",
    FaultKind.REST_429: "rest_429_rate",
    FaultKind.REST_418: "rest_418_rate",
    FaultKind.REST_5XX: "rest_5xx_rate",
    FaultKind.RESTART: "restart_every_s",
}

#: settings that tune a fault rather than switch one on: `--fault retry-after=0.05`
_SETTINGS: dict[str, str] = {
    "stall-for": "stall_s",
    "retry-after": "retry_after_s",
    "ban-for": "ban_s",
    "down-for": "restart_down_s",
}


def valid_fault_names() -> tuple[str, ...]:
    return tuple(kind.value for kind in FaultKind) + tuple(_SETTINGS)


def parse_faults(texts: Sequence[str], base: FaultConfig | None = None) -> FaultConfig:
    """Read `--fault NAME[=VALUE]` strings (also comma-separated) into a FaultConfig.

    VALUE is a probability for per-message/per-request faults (default 0.01), seconds
    between events for drop, drop-1008, stall and restart (default 30), and seconds for
    the settings stall-for, retry-after, ban-for and down-for.
    """
    changes: dict[str, float] = {}
    for text in texts:
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            name, sep, raw = item.partition("=")
            name = name.strip().lower()
            field_name, default = _field_for(name)
            if sep:
                try:
                    value = float(raw)
                except ValueError:
                    raise FaultConfigError(
                        f"Fault {name!r} needs a number after '=', got {raw!r} (e.g. {name}={default:g})."
                    ) from None
            else:
                if name in _SETTINGS:
                    raise FaultConfigError(f"Fault setting {name!r} needs a value, e.g. {name}=0.5.")
                value = default
            changes[field_name] = value
    return replace(base or FaultConfig(), **changes)


def _field_for(name: str) -> tuple[str, float]:
    if name in _SETTINGS:
        return _SETTINGS[name], 1.0
    try:
        kind = FaultKind(name)
    except ValueError:
        raise FaultConfigError(
            f"Unknown fault {name!r}. Valid faults: {', '.join(k.value for k in FaultKind)}; "
            f"settings: {', '.join(_SETTINGS)} (seconds)."
        ) from None
    return _FIELD[kind], DEFAULT_PERIOD_S if kind in PERIODIC else DEFAULT_RATE


class FaultDice:
    """Seeded coin flips for one connection (or the REST endpoint). Each fault kind has
    its own sequence, so the same seed gives the same faults run after run, and
    switching on a second fault does not move when the first one fires."""

    def __init__(self, seed: int, stream: str) -> None:
        self._prefix = f"{seed}/{stream}"
        self._sequences: dict[FaultKind, random.Random] = {}

    def _sequence(self, kind: FaultKind) -> random.Random:
        sequence = self._sequences.get(kind)
        if sequence is None:
            sequence = self._sequences[kind] = random.Random(f"{self._prefix}/{kind.value}")
        return sequence

    def roll(self, kind: FaultKind, probability: float) -> bool:
        if probability <= 0.0:
            return False
        return self._sequence(kind).random() < probability

    def choice(self, kind: FaultKind, count: int) -> int:
        return self._sequence(kind).randrange(count)
