"""Strategies: classic indicators (TA-Lib) and causal Smart Money Concepts, plus confluence.

No I/O and no asyncio here: the engine and backtests feed windows of candles in
(`engine.history.evaluate_history` runs a whole history through the engine's evaluator).

The registry's and the base class's names load on first use: the app's start-up reads
`strategies.confluence` and `strategies.signal` (plain Python) and must not pay for numpy
and TA-Lib, which the registry and the strategies themselves import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# plain Python, no numpy: loaded now, and `confluence` bound to the function (a lazy lookup
# would find the submodule of the same name once anything has imported it)
from cryptoai_tui.strategies.confluence import confluence
from cryptoai_tui.strategies.signal import (
    Action,
    ConfluenceMode,
    ConfluenceResult,
    ConfluenceRule,
    Signal,
    Stance,
)

if TYPE_CHECKING:
    from cryptoai_tui.strategies.base import Strategy
    from cryptoai_tui.strategies.registry import (
        STRATEGIES,
        STRATEGY_NAMES,
        check_fits,
        create_strategy,
        parse_strategy_spec,
    )

_HOMES = {
    "Strategy": "base",
    **dict.fromkeys(("STRATEGIES", "STRATEGY_NAMES", "check_fits", "create_strategy", "parse_strategy_spec"),
                    "registry"),
}

__all__ = sorted([*_HOMES, "confluence", "Action", "ConfluenceMode", "ConfluenceResult", "ConfluenceRule",
                  "Signal", "Stance"])


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cryptoai_tui.strategies' has no attribute {name!r}")
    return getattr(import_module(f"cryptoai_tui.strategies.{home}"), name)
