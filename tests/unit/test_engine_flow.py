"""The engine's ordering guarantees: one consumer, every item evaluated as read, closes in order."""

from __future__ import annotations

import asyncio

import pytest

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.strategies.signal import Action, ConfluenceMode
from tests.unit.engine_doubles import Gate, Recorder, ScriptedSource, Watch, bar, burst, event, paced


def forming_burst(i: int, updates: int) -> list:
    return [event(bar(i, close=100.0 + i + k / 100, closed=False)) for k in range(updates)]


async def test_flood_evaluates_every_item_read_and_every_close_in_order() -> None:
    # The feed coalesces forming updates at the source; what reaches the engine is worth
    # evaluating, so the engine runs each item once, in the order read.
    recorder = Recorder()
    items = []
    for i in range(12):
        items += forming_burst(i, 3)
        items.append(event(bar(i)))
    source = burst(items)
    source.counters = FeedCounters(forming_coalesced=17)
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [recorder], "majority")
    await engine.run(source)

    assert recorder.confirmed_bars == [bar(i).open_time for i in range(12)]
    assert recorder.provisional_calls == [
        (bar(i).open_time, 100.0 + i + k / 100) for i in range(12) for k in range(3)
    ]
    metrics = engine.snapshot.metrics
    assert metrics.messages_received == metrics.messages_processed == 12 * 4
    assert metrics.messages_coalesced == 17  # counted where it happened: at the source


async def test_forming_update_of_a_candle_already_closed_is_superseded_not_evaluated() -> None:
    recorder = Recorder()
    # the forming update of bar 1 raced the history download that already closed bar 1
    items = [event(bar(0)), event(bar(1)), event(bar(1, close=150.0, closed=False)), event(bar(2, closed=False))]
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [recorder], "any")
    await engine.run(paced([[item] for item in items]))

    assert recorder.confirmed_bars == [bar(0).open_time, bar(1).open_time]
    assert recorder.provisional_calls == [(bar(2).open_time, 102.0)]
    metrics = engine.snapshot.metrics
    assert (metrics.messages_received, metrics.messages_processed, metrics.messages_coalesced) == (4, 3, 1)


async def test_stale_closes_are_counted_and_not_evaluated() -> None:
    recorder = Recorder()
    items = [
        event(bar(1)),
        event(bar(1, close=999.0)),  # duplicate close
        event(bar(0)),  # older than what the series holds
        event(bar(2)),
    ]
    engine = RealtimeStrategyEngine("btc/usdt", "1m", [recorder], "all")
    await engine.run(paced([[item] for item in items]))
    assert recorder.confirmed_bars == [bar(1).open_time, bar(2).open_time]
    assert engine.snapshot.metrics.messages_received == 4
    assert engine.snapshot.metrics.duplicates_dropped == 2


async def test_stop_ends_a_running_engine_waiting_on_a_quiet_source() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], ConfluenceMode.ANY)
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    gate.push(event(bar(0)), event(bar(1)))
    received = await watch.confirmed_signals(2)
    assert [signal.open_time for signal in received] == [bar(0).open_time, bar(1).open_time]
    await engine.stop()  # the source has nothing more: the engine is waiting on it
    await run
    assert engine.snapshot.state is ConnectionState.STOPPED
    assert watch.snapshots[-1] is engine.snapshot
    assert not engine.running
    gate.push(event(bar(2)))
    await asyncio.sleep(0)
    assert len(watch.confirmed) == 2  # nothing is read after stop


async def test_a_removed_listener_hears_nothing_more() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], ConfluenceMode.ANY)
    heard: list[int] = []
    remove = engine.add_listener(on_confirmed=lambda signal: heard.append(signal.open_time))
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    gate.push(event(bar(0)))
    await watch.confirmed_signals(1)
    remove()
    gate.push(event(bar(1)))
    await watch.confirmed_signals(2)
    gate.close()
    await run
    assert heard == [bar(0).open_time]
    with pytest.raises(ValueError, match="on_snapshot, on_confirmed or both"):
        engine.add_listener()


async def test_a_fatal_source_error_surfaces_from_run_and_in_the_snapshot() -> None:
    async def failing():
        yield event(bar(0))
        raise LookupError("Unknown symbol 'BTCUSDX' on the test exchange.")

    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    with pytest.raises(LookupError, match="BTCUSDX"):
        await engine.run(ScriptedSource(failing()))
    assert engine.snapshot.state is ConnectionState.ERROR
    assert "BTCUSDX" in engine.snapshot.state_message


async def test_cancelling_the_run_from_outside_is_not_swallowed_as_a_stop() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    run = asyncio.create_task(engine.run(gate))
    await asyncio.sleep(0)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert not engine.running


async def test_status_updates_reach_the_snapshot_without_candles() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    first = engine.snapshot.sequence
    gate.push(FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading history: 200/500 candles.", progress=200, total=500))
    snapshot = await watch.snapshot_after(first)
    assert (snapshot.state, snapshot.bootstrap_progress, snapshot.bootstrap_total) == (
        ConnectionState.BOOTSTRAPPING, 200, 500)
    gate.counters = FeedCounters(reconnects=1)  # the feed counts its own reconnects
    gate.push(FeedStatus(ConnectionState.RECONNECTING, "Connection lost; retrying in 2 s.", retry_in=2.0))
    snapshot = await watch.snapshot_after(snapshot.sequence)
    assert snapshot.state is ConnectionState.RECONNECTING and snapshot.retry_in == 2.0
    assert snapshot.metrics.reconnects == 1
    gate.close()
    await run
    assert engine.snapshot.state is ConnectionState.STOPPED
    assert engine.snapshot.rows[0].signal.action is Action.WARMUP
