"""Strategies: classic indicators (TA-Lib) and causal Smart Money Concepts, plus confluence.

No I/O and no asyncio here: the engine and backtests feed windows of candles in
(`engine.history.evaluate_history` runs a whole history through the engine's evaluator).
"""

from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.confluence import confluence
from cryptoai_tui.strategies.registry import (
    STRATEGIES,
    STRATEGY_NAMES,
    check_fits,
    create_strategy,
    parse_strategy_spec,
)
from cryptoai_tui.strategies.signal import (
    Action,
    ConfluenceMode,
    ConfluenceResult,
    ConfluenceRule,
    Signal,
    Stance,
)

__all__ = [
    "Action",
    "ConfluenceMode",
    "ConfluenceResult",
    "ConfluenceRule",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Signal",
    "Stance",
    "Strategy",
    "check_fits",
    "confluence",
    "create_strategy",
    "parse_strategy_spec",
]
