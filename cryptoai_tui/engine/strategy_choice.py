"""Turning what a caller chose (names, a spec string, instances) into named strategies."""

from __future__ import annotations

from typing import Sequence

from cryptoai_tui.strategies.base import Strategy

StrategyChoice = str | Strategy | Sequence["str | Strategy"]


def resolve_strategies(choice: StrategyChoice) -> tuple[Strategy, ...]:
    """Instances pass through; names and specs ("rsi:period=10;macd", "all") go to the registry.

    The registry is imported only when a name needs it, so callers that bring their own
    Strategy objects (tests, scripts) do not depend on it.
    """
    items: Sequence[str | Strategy]
    if isinstance(choice, (str, Strategy)):
        items = [choice]
    else:
        items = list(choice)
    strategies: list[Strategy] = []
    for item in items:
        if isinstance(item, Strategy):
            strategies.append(item)
        elif isinstance(item, str):
            from cryptoai_tui.strategies.registry import parse_strategy_spec

            strategies.extend(parse_strategy_spec(item))
        else:
            raise TypeError(
                f"Cannot use {item!r} as a strategy: pass a registry name, a spec string "
                "or a Strategy instance."
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
