"""What a published Snapshot holds, and the live confluence-mode switch."""

from __future__ import annotations

import asyncio

import pytest

from cryptoai_tui.engine import EngineOptions, EngineTiming, RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.market import OHLCV
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, Signal
from tests.unit.engine_doubles import Gate, Recorder, Watch, bar, event


class Fixed(Recorder):
    """Always says the same thing (after its lookback)."""

    name = "fixed"
    defaults = {"lookback": 0, "sell": False}

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        return Signal(Action.SELL if self.params["sell"] else Action.HOLD, 0.7 if self.params["sell"] else 0.0)


async def test_snapshot_carries_prices_candles_signals_and_metrics() -> None:
    gate = Gate()
    published: list[Snapshot] = []
    engine = RealtimeStrategyEngine(
        "BTCUSDT", "1m", [Recorder(), Fixed()], "any", exchange="binance",
        options=EngineOptions(recent_candles=5, recent_signals=3),
    )
    engine.add_listener(on_snapshot=published.append)
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    gate.push(FeedStatus(ConnectionState.LIVE, "Live."))
    gate.push(*[event(bar(i)) for i in range(8)])
    snapshot = await watch.snapshot_after(engine.snapshot.sequence)
    while snapshot.last_confirmed is None or snapshot.last_confirmed.open_time != bar(7).open_time:
        snapshot = await watch.snapshot_after(snapshot.sequence)

    assert (snapshot.exchange, snapshot.symbol, snapshot.interval) == ("binance", "BTCUSDT", "1m")
    assert snapshot.state is ConnectionState.LIVE and snapshot.state_message == "Live."
    assert snapshot.provisional is False
    assert (snapshot.price, snapshot.previous_price) == (107.0, 106.0)
    assert (snapshot.candle_open, snapshot.candle_open_time, snapshot.candle_close_time) == (
        107.0, bar(7).open_time, bar(7).close_time)
    assert snapshot.exchange_time == bar(7).open_time + 1
    assert [c.open_time for c in snapshot.recent_candles] == [bar(i).open_time for i in range(3, 8)]
    assert [s.open_time for s in snapshot.recent_signals] == [bar(i).open_time for i in range(5, 8)]
    assert snapshot.last_confirmed is snapshot.recent_signals[-1]
    assert [row.name for row in snapshot.rows] == ["recorder", "fixed"]
    assert snapshot.rows[0].signal.action is Action.BUY
    assert snapshot.rows[0].changed_at == bar(1).open_time  # WARMUP at bar 0, BUY from bar 1 on
    assert snapshot.rows[1].changed_at == bar(0).open_time
    assert snapshot.confluence is not None and snapshot.confluence.action is Action.BUY
    assert snapshot.last_confirmed.confluence == snapshot.confluence
    assert snapshot.last_confirmed.rows == snapshot.rows
    assert snapshot.metrics.messages_processed >= 8
    first_close = next(s for s in published if s.last_confirmed is not None)
    assert first_close.metrics.latency_p50_us is None  # its own sample lands after it is built
    assert snapshot.metrics.latency_p50_us is not None  # each close since was timed
    assert snapshot.metrics.exchange_lag_ms is None  # event times are not a real-time clock here
    assert [s.sequence for s in published] == sorted({s.sequence for s in published})

    gate.push(event(bar(8, close=105.5, closed=False)))
    forming = await watch.snapshot_after(snapshot.sequence)
    assert forming.provisional is True
    assert (forming.price, forming.previous_price) == (105.5, 107.0)
    assert forming.candle_open_time == bar(8).open_time
    assert forming.recent_candles[-1].closed is False and len(forming.recent_candles) == 6
    assert forming.rows[0].signal.action is Action.SELL
    assert forming.rows[0].changed_at == bar(8).open_time
    assert forming.confluence is not None and forming.confluence.action is Action.SELL
    assert forming.last_confirmed == snapshot.last_confirmed  # provisional never confirms
    p50, p99 = forming.metrics.latency_p50_us, forming.metrics.latency_p99_us
    assert p50 is not None and p99 is not None and 0 < p50 <= p99
    gate.close()
    await run


async def test_set_mode_recombines_current_rows_and_republishes() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder(), Fixed(), Fixed()], "any")
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    gate.push(event(bar(0)), event(bar(1)))
    snapshot = await watch.snapshot_after()
    while snapshot.metrics.messages_processed < 2:
        snapshot = await watch.snapshot_after(snapshot.sequence)
    assert snapshot.confluence is not None and snapshot.confluence.action is Action.BUY  # ANY: one BUY, no SELL

    switched = engine.set_mode("majority")
    assert switched.sequence == snapshot.sequence + 1 and engine.snapshot is switched
    assert switched.mode is ConfluenceMode.MAJORITY and engine.mode is ConfluenceMode.MAJORITY
    assert switched.confluence is not None
    assert (switched.confluence.mode, switched.confluence.action) == (ConfluenceMode.MAJORITY, Action.HOLD)
    assert switched.rows == snapshot.rows
    assert switched.last_confirmed == snapshot.last_confirmed  # history keeps the mode it had
    assert switched.last_confirmed is not None and switched.last_confirmed.confluence.mode is ConfluenceMode.ANY

    gate.push(event(bar(2)))
    after = await watch.snapshot_after(switched.sequence)
    assert after.last_confirmed is not None and after.last_confirmed.confluence.mode is ConfluenceMode.MAJORITY
    with pytest.raises(ValueError, match="use all, any, majority, or a number"):
        engine.set_mode("most")
    gate.close()
    await run


def test_bad_arguments_are_refused_with_sentences() -> None:
    with pytest.raises(ValueError, match="Unknown confluence mode 'some'"):
        RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "some")
    with pytest.raises(ValueError, match="Unknown interval '7x'"):
        RealtimeStrategyEngine("BTCUSDT", "7x", [Recorder()], "any")
    with pytest.raises(ValueError, match="The window must hold at least one candle, not 0"):
        RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any", options=EngineOptions(window=0))
    with pytest.raises(ValueError, match="budget and the loop slice must be positive"):
        EngineTiming(slice_ms=0.0)
    with pytest.raises(ValueError, match="pick at least one"):
        RealtimeStrategyEngine("BTCUSDT", "1m", [], "any")


def test_repeated_strategies_get_unique_row_names() -> None:
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder(), Recorder(lookback=3)], "any")
    assert engine.names == ("recorder", "recorder#2")
    assert [row.name for row in engine.snapshot.rows] == ["recorder", "recorder#2"]


async def test_history_burst_is_not_counted_as_message_latency() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    watch = Watch(engine)
    run = asyncio.create_task(engine.run(gate))
    gate.push(FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading 5 candles.", progress=0, total=5))
    # received at the epoch: were any of these timed, p99 would be decades of µs
    gate.push(*[event(bar(i), received_at=0.0) for i in range(5)])
    snapshot = engine.snapshot
    while snapshot.metrics.messages_processed < 5:
        snapshot = await watch.snapshot_after(snapshot.sequence)
    gate.push(FeedStatus(ConnectionState.LIVE, "Loaded 5 candles.", progress=5, total=5))
    for item in (event(bar(5, closed=False)), event(bar(5)), event(bar(6), backfilled=True, received_at=0.0)):
        gate.push(item)
        processed = snapshot.metrics.messages_processed
        while snapshot.metrics.messages_processed == processed:
            snapshot = await watch.snapshot_after(snapshot.sequence)
    gate.counters = FeedCounters(candles_backfilled=1)  # the feed counts what it repaired
    gate.close()
    await run
    metrics = engine.snapshot.metrics
    assert metrics.messages_processed == 8 and metrics.candles_backfilled == 1
    assert metrics.latency_p99_us is not None and metrics.latency_p99_us < 1e12


async def test_a_live_message_that_waited_behind_history_is_not_timed() -> None:
    gate = Gate()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    watch = Watch(engine)
    waited = event(bar(5, closed=False))  # arrives now, but is queued behind the history below
    run = asyncio.create_task(engine.run(gate))
    gate.push(FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading 5 candles.", progress=0, total=5))
    gate.push(*[event(bar(i), received_at=0.0) for i in range(5)])
    gate.push(FeedStatus(ConnectionState.LIVE, "Loaded 5 candles.", progress=5, total=5), waited)
    snapshot = engine.snapshot
    while snapshot.metrics.messages_processed < 6:
        snapshot = await watch.snapshot_after(snapshot.sequence)
    fresh = event(bar(5, close=104.0, closed=False))
    gate.push(fresh)
    while snapshot.metrics.messages_processed < 7:
        snapshot = await watch.snapshot_after(snapshot.sequence)
    # a sample lands after its own publish: had `waited` been timed, this one would show it
    assert snapshot.metrics.latency_p50_us is None
    gate.close()
    await run
    assert engine.snapshot.metrics.latency_p50_us is not None  # `fresh` was timed
