"""The publisher tracks, per strategy, its last confirmed trigger and, for the session, the
last confirmed BUY/SELL, counted in closed candles (issue 10 §4), over real candles."""

from __future__ import annotations

from cryptoai_tui.engine import RealtimeStrategyEngine, row_labels
from cryptoai_tui.market import Interval
from cryptoai_tui.replay import ReplaySource
from cryptoai_tui.snapshot import ConfirmedSignal, LastTrigger, Snapshot
from cryptoai_tui.strategies.registry import parse_strategy_spec
from cryptoai_tui.strategies.signal import Action, ConfluenceRule
from tests.conftest import load_candles

HOUR = Interval.parse("1h")


def expected_last_triggers(confirmed: list[ConfirmedSignal]) -> tuple[LastTrigger | None, ...]:
    """Recomputed from every confirmed signal, newest first, independently of the publisher."""
    names = [row.name for row in confirmed[-1].rows]
    found: list[LastTrigger | None] = []
    for index, _ in enumerate(names):
        last = None
        for ago, signal in enumerate(reversed(confirmed)):
            trigger = signal.rows[index].signal.trigger
            if trigger is not None:
                last = LastTrigger(trigger, signal.open_time, ago)
                break
        found.append(last)
    return tuple(found)


async def test_last_triggers_and_last_signal_count_closed_candles_back_from_the_newest() -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=400)
    engine = RealtimeStrategyEngine("BTCUSDT", HOUR, "rsi:period=10;macd;bollinger;ema_cross", ConfluenceRule.at_least(2),
                                    "replay")
    confirmed: list[ConfirmedSignal] = []
    checked: list[Snapshot] = []

    def check(signal: ConfirmedSignal) -> None:
        confirmed.append(signal)

    def on_snapshot(snapshot: Snapshot) -> None:
        if confirmed and snapshot.last_confirmed is confirmed[-1] and len(checked) < len(confirmed):
            assert snapshot.last_triggers == expected_last_triggers(confirmed)
            checked.append(snapshot)

    engine.add_listener(on_snapshot=on_snapshot, on_confirmed=check)
    await engine.run(ReplaySource(candles, "BTCUSDT", HOUR))

    assert len(checked) == len(candles)
    snapshot = engine.snapshot
    assert snapshot.labels == ("rsi:period=10", "macd", "bollinger", "ema_cross")
    assert snapshot.last_triggers == expected_last_triggers(confirmed)
    assert any(last is not None and last.candles_ago > 0 for last in snapshot.last_triggers)
    actionable = [i for i, s in enumerate(confirmed) if s.confluence.action in (Action.BUY, Action.SELL)]
    assert actionable, "at least 2 of 4 fires on 400 real candles"
    assert snapshot.last_signal is confirmed[actionable[-1]]
    assert snapshot.last_signal_ago == len(confirmed) - 1 - actionable[-1]
    assert snapshot.mode == ConfluenceRule.at_least(2)
    assert snapshot.confluence is not None and snapshot.confluence.mode.value == "2"
    assert not any(signal.history for signal in confirmed)  # a replay has no start-up history


def test_row_labels_name_changed_parameters_and_repeats() -> None:
    strategies = parse_strategy_spec("rsi:period=10;macd") + parse_strategy_spec("rsi:period=21")
    assert row_labels(strategies) == ("rsi:period=10", "macd", "rsi#2:period=21")
