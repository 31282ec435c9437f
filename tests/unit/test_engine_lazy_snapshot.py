"""A Snapshot nobody listens to is captured at publish and built when read (issue 11): what
`engine.snapshot` returns must be exactly what an eager build would have published, at
every point of a stream, over real candles with forming updates, refused candles (which
change counters but publish nothing) and confirmed-signal listeners reading it mid-update.
"""

from __future__ import annotations

from dataclasses import replace
from typing import AsyncIterator

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.market import Interval
from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot, StrategyRow
from tests.conftest import load_candles
from tests.unit.engine_doubles import ScriptedSource

HOUR = Interval.parse("1h")
STRATEGIES = "all"
CANDLES = 180


def stream(candles: list[Candle]) -> list[CandleEvent]:
    """Each candle as three forming updates then its close; every 7th close is sent twice
    (refused as stale) and followed by a late update of it (superseded). received_at 0:
    nothing is timed, so the two runs' snapshots can be compared field by field."""
    events: list[CandleEvent] = []

    def send(candle: Candle) -> None:
        events.append(CandleEvent("replay", "BTCUSDT", "1h", candle, 0.0, candle.close_time, False))

    for index, candle in enumerate(candles):
        for step in (0.25, 0.5, 0.75):
            price = candle.open + (candle.close - candle.open) * step
            send(replace(candle, high=max(candle.open, price), low=min(candle.open, price), close=price,
                         closed=False))
        send(candle)
        if index % 7 == 3:
            send(candle)
            send(replace(candle, closed=False))
    return events


def untimed(snapshot: Snapshot) -> Snapshot:
    """`snapshot` with each strategy's measured time zeroed: the one field two runs of the
    same stream cannot share."""

    def rows(items: tuple[StrategyRow, ...]) -> tuple[StrategyRow, ...]:
        return tuple(replace(row, elapsed_us=0.0) for row in items)

    def signal(item: ConfirmedSignal | None) -> ConfirmedSignal | None:
        return None if item is None else replace(item, rows=rows(item.rows))

    return replace(
        snapshot, rows=rows(snapshot.rows), last_confirmed=signal(snapshot.last_confirmed),
        last_signal=signal(snapshot.last_signal),
        recent_signals=tuple(signal(item) for item in snapshot.recent_signals),  # type: ignore[misc]
    )


async def run(events: list[CandleEvent], pull: frozenset[int], *, push: bool) -> tuple[list[Snapshot], list[Snapshot], list[Snapshot]]:
    """(pulled before some events and at the end, pulled by some confirmed listener calls,
    pushed) for one engine."""
    engine = RealtimeStrategyEngine("BTCUSDT", HOUR, STRATEGIES, "majority", "replay")
    pulled: list[Snapshot] = []
    at_confirm: list[Snapshot] = []
    pushed: list[Snapshot] = []

    confirms = 0

    def confirmed(_: ConfirmedSignal) -> None:
        # read on some confirms only: a snapshot left unread since its publish is the case
        # where the Publisher's own state has moved on (a confirm runs before the publish)
        nonlocal confirms
        confirms += 1
        if confirms % 3 == 0:
            at_confirm.append(engine.snapshot)

    engine.add_listener(on_snapshot=pushed.append if push else None, on_confirmed=confirmed)

    async def items() -> AsyncIterator[CandleEvent]:
        for index, item in enumerate(events):
            if index in pull:  # not every time: most publishes are never read
                pulled.append(engine.snapshot)
            yield item
        pulled.append(engine.snapshot)

    await engine.run(ScriptedSource(items()))
    pulled.append(engine.snapshot)
    return pulled, at_confirm, pushed


async def test_a_snapshot_built_when_read_equals_the_one_a_listener_is_handed() -> None:
    events = stream(load_candles("BTCUSDT-1h.csv", limit=CANDLES))
    stale = [index for index, event in enumerate(events)
             if index and event.candle.closed and event.candle == events[index - 1].candle]
    # read before every 5th event, and on both sides of every refused close
    pull = frozenset(range(0, len(events), 5)) | {index for s in stale for index in (s, s + 1)}
    eager_pulled, eager_at_confirm, pushed = await run(events, pull, push=True)
    lazy_pulled, lazy_at_confirm, nothing = await run(events, pull, push=False)
    assert nothing == []
    assert len(lazy_pulled) == len(eager_pulled) == len(pull) + 2
    for index, (lazy, eager) in enumerate(zip(lazy_pulled, eager_pulled)):
        assert untimed(lazy) == untimed(eager), f"snapshot pulled at {index} differs"
    assert [untimed(item) for item in lazy_at_confirm] == [untimed(item) for item in eager_at_confirm]
    # what a listener is handed is what a pull returns right after that publish
    assert pushed[-1] == eager_pulled[-1]
    sequences = [snapshot.sequence for snapshot in pushed]
    assert sequences == sorted(set(sequences))
    # the refused candles were counted but published nothing: the snapshot pulled after a
    # refused close still shows the counts of the publish before it
    final = lazy_pulled[-1]
    refused = sum(1 for index in range(CANDLES) if index % 7 == 3)
    assert final.metrics.duplicates_dropped == refused
    assert final.metrics.messages_coalesced == refused
    assert final.metrics.messages_received == len(events)
    # a refused close publishes nothing: the snapshot read right after it is the one before
    assert len(stale) == refused
    order = sorted(pull)
    for index in stale:
        before, after = lazy_pulled[order.index(index)], lazy_pulled[order.index(index + 1)]
        assert after.sequence == before.sequence
        assert after.metrics == before.metrics
    assert final.rows and final.last_confirmed is not None and final.last_triggers
