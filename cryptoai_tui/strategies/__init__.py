"""Strategies: classic indicators (TA-Lib) and causal Smart Money Concepts, plus confluence.

No I/O and no asyncio here: the engine and backtests feed windows of candles in
(`engine.history.evaluate_history` runs a whole history through the engine's evaluator).
"""

from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.confluence import confluence
from cryptoai_tui.strategies.registry import (
    STRATEGIES,
    STRATEGY_NAMES,
    create_strategy,
    parse_strategy_spec,
)
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Signal

__all__ = [
    "Action",
    "ConfluenceMode",
    "ConfluenceResult",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Signal",
    "Strategy",
    "confluence",
    "create_strategy",
    "parse_strategy_spec",
]
