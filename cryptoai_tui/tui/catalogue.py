"""What the pickers offer: strategies, exchanges and each exchange's intervals.

The app receives a `Catalogue` instead of reaching into the registries itself, so tests
and the CLI build it in one place and the pickers stay plain views over values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from cryptoai_tui.market.interval import Interval

STRATEGY_GROUPS = ("Classic", "Smart Money")


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    name: str  # registry name: rsi, ema_cross, ...
    title: str
    group: str  # one of STRATEGY_GROUPS
    description: str


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    name: str  # registry name: binance, binanceus, ...
    title: str
    description: str
    prose_name: str = ""  # how a sentence names it, when not by its title

    @property
    def in_sentence(self) -> str:
        """"… is not listed on the simulated exchange", not "… on Simulated exchange"."""
        return self.prose_name or self.title


EXCHANGES: tuple[ExchangeInfo, ...] = (
    ExchangeInfo("binance", "Binance", "Binance spot (binance.com); refuses some regions, e.g. the US."),
    ExchangeInfo("binanceus", "Binance.US", "Binance.US spot, for US residents; no 1s candles."),
    ExchangeInfo("binance-futures", "Binance USD-M futures", "Binance USD-margined perpetuals; updates every 250 ms."),
    ExchangeInfo("bybit-spot", "Bybit spot", "Bybit v5 spot market."),
    ExchangeInfo("bybit-linear", "Bybit linear", "Bybit v5 USDT-margined perpetuals."),
    ExchangeInfo(
        "sim", "Simulated exchange", "Built in and offline: a seeded market whose 1m candles close every few seconds.",
        prose_name="the simulated exchange",
    ),
)

_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month"}


def describe_interval(name: str) -> str:
    """`15m` -> `15 minutes`, for the timeframe picker."""
    interval = Interval.parse(name)
    count, unit = int(interval.name[:-1]), interval.name[-1]
    word = _UNIT_WORDS[unit]
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True, slots=True)
class Catalogue:
    strategies: tuple[StrategyInfo, ...]
    intervals: Mapping[str, tuple[str, ...]]  # exchange name -> valid canonical intervals
    exchanges: tuple[ExchangeInfo, ...] = EXCHANGES
    _by_exchange: Mapping[str, ExchangeInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_by_exchange", MappingProxyType({info.name: info for info in self.exchanges})
        )

    def exchange(self, name: str) -> ExchangeInfo:
        return self._by_exchange.get(name) or ExchangeInfo(name, name, "")

    def intervals_for(self, exchange: str) -> tuple[str, ...]:
        return self.intervals.get(exchange, ())

    def strategy(self, name: str) -> StrategyInfo | None:
        for info in self.strategies:
            if info.name == name:
                return info
        return None

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(info.name for info in self.strategies)


def default_catalogue() -> Catalogue:
    """The catalogue built from the strategy listing and the exchange registry.

    The strategies come from `strategies.listing`, a static copy of what the classes declare,
    because importing the classes loads numpy and TA-Lib, which the Lab's first frame does
    not need. The simulated exchange speaks the Binance spot protocol, so it offers
    Binance's intervals.
    """
    from cryptoai_tui.exchanges.registry import get_protocol
    from cryptoai_tui.strategies.listing import LISTINGS
    from cryptoai_tui.wiring import protocol_name

    strategies = tuple(
        StrategyInfo(name=entry.name, title=entry.title, group=entry.group, description=entry.description)
        for entry in LISTINGS
    )
    intervals: dict[str, tuple[str, ...]] = {}
    for info in EXCHANGES:
        intervals[info.name] = tuple(get_protocol(protocol_name(info.name)).intervals)
    return Catalogue(strategies=strategies, intervals=MappingProxyType(intervals))
