"""What a caller chose to run, as typed values, and turning that choice into strategies.

The choice travels from the registry (the command line, the Lab) to the engine as a tuple
of frozen `StrategySpec(name, params)`: parsed once, never joined into a string and split
again. Scripts and tests may also hand over Strategy instances, or a spec string that the
registry parses (the `--strategies` syntax).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from cryptoai_tui.strategies.base import Strategy


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """One chosen strategy: its registry name and the parameters that differ from its defaults.

    Frozen and hashable by value, so a session holding it can be compared and kept as a key.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StrategySpec):
            return NotImplemented
        return self.name == other.name and dict(self.params) == dict(other.params)

    @classmethod
    def of(cls, strategy: Strategy) -> StrategySpec:
        """The spec that rebuilds `strategy`: only parameters changed from the defaults."""
        changed = {key: value for key, value in strategy.params.items() if value != strategy.defaults[key]}
        return cls(strategy.name, changed)

    def create(self) -> Strategy:
        """A fresh instance from the registry (imported only here, when a name needs it)."""
        from cryptoai_tui.strategies.registry import create_strategy

        return create_strategy(self.name, **self.params)

    def __str__(self) -> str:
        """The `--strategies` spelling of this one strategy (`rsi:period=10`, `macd`)."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{key}={value}" for key, value in self.params.items())


def parse_strategy_choice(text: str) -> tuple[StrategySpec, ...]:
    """`--strategies` text as specs, in the order given; ValueError with the registry's
    sentence for an unknown name or parameter.

    Bare names (`rsi;macd`, what the Lab remembers) are read from the static listing, so
    the app's start-up does not import the strategy classes (numpy, TA-Lib) for them.
    """
    from cryptoai_tui.strategies.listing import plain_names

    names = plain_names(text)
    if names is not None:
        return tuple(StrategySpec(name) for name in names)
    from cryptoai_tui.strategies.registry import parse_strategy_spec

    return tuple(StrategySpec.of(strategy) for strategy in parse_strategy_spec(text))


StrategyItem = StrategySpec | Strategy | str
StrategyChoice = StrategyItem | Sequence[StrategyItem]


def resolve_strategies(choice: StrategyChoice) -> tuple[Strategy, ...]:
    """Specs are built by the registry, instances pass through, spec strings are parsed.

    The registry is imported only when a spec or a string needs it, so callers that bring
    their own Strategy objects (tests, scripts) do not depend on it.
    """
    items: Iterable[StrategyItem]
    if isinstance(choice, (str, Strategy, StrategySpec)):
        items = [choice]
    else:
        items = list(choice)
    strategies: list[Strategy] = []
    for item in items:
        if isinstance(item, Strategy):
            strategies.append(item)
        elif isinstance(item, StrategySpec):
            strategies.append(item.create())
        elif isinstance(item, str):
            from cryptoai_tui.strategies.registry import parse_strategy_spec

            strategies.extend(parse_strategy_spec(item))
        else:
            raise TypeError(
                f"Cannot use {item!r} as a strategy: pass a StrategySpec, a registry name, a "
                "spec string or a Strategy instance."
            )
    if not strategies:
        raise ValueError("No strategy was chosen; pick at least one (for example 'rsi,macd' or 'all').")
    return tuple(strategies)


def row_names(strategies: Sequence[Strategy]) -> tuple[str, ...]:
    """One unique label per strategy: its registry name, suffixed #2, #3 ... when repeated
    (e.g. two RSIs with different periods), because confluence and the table key on it."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for strategy in strategies:
        base = strategy.name
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return tuple(names)


def row_labels(strategies: Sequence[Strategy]) -> tuple[str, ...]:
    """What a screen shows per row: the row name plus the parameters changed from the
    defaults (`rsi:period=10`, `rsi#2:period=21`, `macd`), so a tuned strategy is never
    mistaken for the stock one."""
    labels: list[str] = []
    for name, strategy in zip(row_names(strategies), strategies):
        changed = str(StrategySpec.of(strategy)).partition(":")[2]
        labels.append(f"{name}:{changed}" if changed else name)
    return tuple(labels)
