"""The history path is the engine's evaluator without an event loop: same signals, same verdicts."""

from __future__ import annotations

from cryptoai_tui.engine import RealtimeStrategyEngine, evaluate_history, history_signals
from cryptoai_tui.market import Interval
from cryptoai_tui.replay import ReplaySource
from cryptoai_tui.strategies.signal import Action, ConfluenceMode
from tests.conftest import load_candles
from tests.unit.engine_doubles import Raiser, Recorder, Watch


async def test_history_gives_the_confirmed_signals_the_engine_publishes_over_a_replay() -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=300)
    engine = RealtimeStrategyEngine("BTCUSDT", "1h", "all", "any", "replay")
    watch = Watch(engine)
    await engine.run(ReplaySource(candles, "BTCUSDT", Interval.parse("1h")))

    history = evaluate_history("all", candles, mode=ConfluenceMode.ANY)
    assert len(history) == len(watch.confirmed) == len(candles)
    for live, replayed in zip(watch.confirmed, history):
        assert (live.open_time, live.close, live.confluence) == (replayed.open_time, replayed.close, replayed.confluence)
        assert [(r.name, r.signal, r.changed_at) for r in live.rows] == [
            (r.name, r.signal, r.changed_at) for r in replayed.rows
        ]
    assert any(signal.confluence.action is not Action.HOLD for signal in history)


def test_history_isolates_a_failing_strategy_as_the_engine_does() -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=5)
    rows = history_signals([Raiser(), Recorder()], candles)
    assert [row["raiser"].action for row in rows] == [Action.ERROR] * 5
    assert rows[-1]["recorder"].action in {Action.BUY, Action.SELL, Action.HOLD}


def test_history_skips_candles_the_series_refuses() -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=5)
    signals = evaluate_history([Recorder()], [*candles, candles[2]])
    assert [s.open_time for s in signals] == [c.open_time for c in candles]
