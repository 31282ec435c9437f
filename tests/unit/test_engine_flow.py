"""The engine's ordering guarantees: every close evaluated in order, forming updates coalesced."""

from __future__ import annotations

import asyncio

import pytest

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from cryptoai_tui.strategies.signal import Action, ConfluenceMode
from tests.unit.engine_doubles import Gate, Recorder, bar, burst, event, paced


def forming_burst(i: int, updates: int) -> list:
    return [event(bar(i, close=100.0 + i + k / 100, closed=False)) for k in range(updates)]


async def test_flood_coalesces_forming_updates_but_evaluates_every_close_in_order() -> None:
    recorder = Recorder()
    items = []
    for i in range(12):
        items += forming_burst(i, 20)
        items.append(event(bar(i)))
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [recorder], "majority", source=burst(items))
    await engine.start()

    assert recorder.confirmed_bars == [bar(i).open_time for i in range(12)]
    assert recorder.provisional_calls == []  # each close arrived before the engine caught up
    metrics = engine.snapshot.metrics
    assert metrics.messages_received == 12 * 21
    assert metrics.messages_processed == 12
    assert metrics.messages_coalesced == 12 * 20
    assert metrics.messages_received == metrics.messages_processed + metrics.messages_coalesced


async def test_engine_catching_up_evaluates_only_the_newest_forming_update() -> None:
    recorder = Recorder()
    groups = [forming_burst(i, 5) + [event(bar(i))] + forming_burst(i + 1, 7) for i in range(0, 6, 2)]
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [recorder], "any", source=paced(groups))
    await engine.start()

    assert recorder.confirmed_bars == [bar(i).open_time for i in (0, 2, 4)]
    # per group: the close, then one provisional run on the newest of the 7 updates of bar i+1
    assert recorder.provisional_calls == [(bar(i + 1).open_time, 100.0 + i + 1 + 6 / 100) for i in (0, 2, 4)]
    assert engine.snapshot.metrics.messages_coalesced == 3 * (5 + 6)


async def test_stale_and_foreign_events_are_not_evaluated() -> None:
    recorder = Recorder()
    items = [
        event(bar(1)),
        event(bar(1, close=999.0)),  # duplicate close
        event(bar(0)),  # older than what the series holds
        event(bar(2), symbol="ETHUSDT"),
        event(bar(2), interval="5m"),
        event(bar(2)),
    ]
    engine = RealtimeStrategyEngine("btc/usdt", "1m", [recorder], "all", source=paced([[item] for item in items]))
    await engine.start()
    assert recorder.confirmed_bars == [bar(1).open_time, bar(2).open_time]
    assert engine.snapshot.metrics.messages_received == 4
    assert engine.snapshot.metrics.duplicates_dropped == 2


async def test_stop_ends_a_running_engine_and_closes_confirmed_iterators() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], ConfluenceMode.ANY, source=gate)
    stream = engine.confirmed()
    run = asyncio.create_task(engine.start())
    gate.push(event(bar(0)), event(bar(1)))
    received = [await anext(stream), await anext(stream)]
    assert [signal.open_time for signal in received] == [bar(0).open_time, bar(1).open_time]
    await engine.stop()
    await run
    assert engine.snapshot.state is ConnectionState.STOPPED
    assert [signal async for signal in stream] == []
    assert not engine.running


async def test_a_fatal_source_error_surfaces_from_start_and_in_the_snapshot() -> None:
    async def failing():
        yield event(bar(0))
        raise LookupError("Unknown symbol 'BTCUSDX' on the test exchange.")

    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any", source=failing())
    with pytest.raises(LookupError, match="BTCUSDX"):
        await engine.start()
    assert engine.snapshot.state is ConnectionState.ERROR
    assert "BTCUSDX" in engine.snapshot.state_message


async def test_status_updates_reach_the_snapshot_without_candles() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any", source=gate)
    run = asyncio.create_task(engine.start())
    first = engine.snapshot.sequence
    gate.push(FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading history: 200/500 candles.", progress=200, total=500))
    snapshot = await engine.next_snapshot(first)
    assert (snapshot.state, snapshot.bootstrap_progress, snapshot.bootstrap_total) == (
        ConnectionState.BOOTSTRAPPING, 200, 500)
    gate.push(FeedStatus(ConnectionState.RECONNECTING, "Connection lost; retrying in 2 s.", retry_in=2.0))
    snapshot = await engine.next_snapshot(snapshot.sequence)
    assert snapshot.state is ConnectionState.RECONNECTING and snapshot.retry_in == 2.0
    assert snapshot.metrics.reconnects == 1
    gate.push(FeedStatus(ConnectionState.LIVE, "Live.", symbol="ETHUSDT"))  # about another stream
    gate.close()
    await run
    assert engine.snapshot.state is ConnectionState.STOPPED
    assert engine.snapshot.rows[0].signal.action is Action.WARMUP
