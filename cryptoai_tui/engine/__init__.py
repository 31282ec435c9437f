"""The real-time strategy engine (source -> series -> evaluator -> confluence -> Snapshot).

Never imports textual, pandas, the wiring or the simulator: the TUI, scripts and `signals`
all sit on top of it and hand it a `CandleSource`.
"""

from cryptoai_tui.engine.evaluator import EngineTiming, StrategyRunner
from cryptoai_tui.engine.history import evaluate_history, history_signals
from cryptoai_tui.engine.realtime import EngineOptions, RealtimeStrategyEngine
from cryptoai_tui.engine.source import CandleSource
from cryptoai_tui.engine.strategy_choice import (
    StrategySpec,
    parse_strategy_choice,
    resolve_strategies,
    row_labels,
    row_names,
)
from cryptoai_tui.strategies.confluence import Mode, parse_mode

__all__ = [
    "CandleSource",
    "EngineOptions",
    "EngineTiming",
    "RealtimeStrategyEngine",
    "StrategyRunner",
    "StrategySpec",
    "evaluate_history",
    "history_signals",
    "parse_strategy_choice",
    "resolve_strategies",
    "Mode",
    "parse_mode",
    "row_labels",
    "row_names",
]
