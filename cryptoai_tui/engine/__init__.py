"""The real-time strategy engine (source -> series -> evaluator -> confluence -> Snapshot).

Never imports textual, pandas, the wiring or the simulator: the TUI, scripts and `signals`
all sit on top of it and hand it a `CandleSource`.

The names below load with the submodule that defines them, on first use, so the app's
start-up (which reads `engine.strategy_choice`) does not load the evaluator, numpy or TA-Lib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    **dict.fromkeys(("EngineTiming", "StrategyRunner"), "cryptoai_tui.engine.evaluator"),
    **dict.fromkeys(("evaluate_history", "history_signals"), "cryptoai_tui.engine.history"),
    **dict.fromkeys(("EngineOptions", "RealtimeStrategyEngine"), "cryptoai_tui.engine.realtime"),
    "CandleSource": "cryptoai_tui.engine.source",
    **dict.fromkeys(("StrategySpec", "parse_strategy_choice", "resolve_strategies", "row_labels", "row_names"),
                    "cryptoai_tui.engine.strategy_choice"),
    **dict.fromkeys(("Mode", "parse_mode"), "cryptoai_tui.strategies.confluence"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cryptoai_tui.engine' has no attribute {name!r}")
    return getattr(import_module(home), name)
