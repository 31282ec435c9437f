"""The real-time strategy engine (feed -> series -> strategies -> confluence -> Snapshot).

Never imports textual or pandas: the TUI, scripts and `signals` all sit on top of it.
"""

from cryptoai_tui.engine.realtime import (
    ConfirmedSignals,
    EngineTiming,
    RealtimeStrategyEngine,
    parse_mode,
)
from cryptoai_tui.engine.strategy_choice import resolve_strategies, row_names

__all__ = [
    "ConfirmedSignals",
    "EngineTiming",
    "RealtimeStrategyEngine",
    "parse_mode",
    "resolve_strategies",
    "row_names",
]
