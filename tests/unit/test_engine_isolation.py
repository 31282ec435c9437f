"""One strategy failing or overrunning is shown as an error for that update; the rest go on."""

from __future__ import annotations

import asyncio
import gc

from cryptoai_tui.engine import EngineOptions, EngineTiming, RealtimeStrategyEngine
from cryptoai_tui.strategies.signal import Action
from tests.unit.engine_doubles import (
    CollectedWhileEvaluating, FakeTimer, NotASignal, Raiser, Recorder, Sleeper, Watch, bar, event, paced,
)


def budget(ms: float, wall: FakeTimer, cpu: FakeTimer, slice_ms: float = 5.0) -> EngineOptions:
    return EngineOptions(timing=EngineTiming(strategy_budget_ms=ms, slice_ms=slice_ms, timer=wall, cpu_timer=cpu))


async def test_raising_strategy_is_an_error_row_and_the_others_still_vote() -> None:
    recorder = Recorder()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Raiser(), recorder, NotASignal()], "any")
    watch = Watch(engine)
    await engine.run(paced([[event(bar(i))] for i in range(4)]))

    rows = {row.name: row for row in engine.snapshot.rows}
    assert rows["raiser"].signal.action is Action.ERROR
    assert rows["raiser"].error is not None and "ZeroDivisionError" in rows["raiser"].error
    assert "division by zero in the test double" in rows["raiser"].signal.reason
    assert rows["not_a_signal"].signal.action is Action.ERROR
    assert "instead of a Signal" in (rows["not_a_signal"].error or "")
    assert rows["recorder"].signal.action is Action.BUY and rows["recorder"].error is None
    assert len(recorder.confirmed_bars) == 4
    assert [s.confluence.action for s in watch.confirmed] == [Action.HOLD, Action.BUY, Action.BUY, Action.BUY]
    assert engine.snapshot.confluence is not None and engine.snapshot.confluence.agree == ("recorder",)
    assert engine.snapshot.metrics.strategy_errors == 2 * 4


async def test_strategy_over_its_time_budget_is_an_error_for_that_update_only() -> None:
    timer = FakeTimer()
    sleeper = Sleeper(timer, schedule=[80.0, 10.0])
    recorder = Recorder()
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [sleeper, recorder], "majority", options=budget(50.0, timer, timer))
    watch = Watch(engine)
    await engine.run(paced([[event(bar(0))], [event(bar(1))]]))
    first, second = watch.confirmed
    late, on_time = first.rows[0], second.rows[0]
    assert late.signal.action is Action.ERROR
    assert "80.0 ms, over its 50 ms budget" in (late.error or "")
    assert late.elapsed_us == 80_000.0
    assert first.rows[1].signal.action is Action.WARMUP and first.rows[1].error is None
    assert on_time.signal.action is Action.BUY and on_time.error is None
    assert second.rows[1].signal.action is Action.BUY
    assert engine.snapshot.metrics.strategy_errors == 1


async def test_strategy_parked_by_the_os_is_not_an_overrun() -> None:
    wall, cpu = FakeTimer(), FakeTimer()
    parked = Sleeper(wall, ms=80.0)  # 80 ms pass on the wall clock, none on the CPU clock
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [parked], "majority", options=budget(50.0, wall, cpu))
    await engine.run(paced([[event(bar(0))]]))
    row = engine.snapshot.rows[0]
    assert row.signal.action is Action.BUY and row.error is None
    assert row.elapsed_us == 80_000.0


async def test_a_garbage_collection_inside_a_strategy_is_not_its_overrun() -> None:
    timer = FakeTimer()
    collected = CollectedWhileEvaluating(timer, ms=80.0)  # the collector takes 80 ms of CPU
    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [collected], "majority", options=budget(50.0, timer, timer))
    callbacks = list(gc.callbacks)
    await engine.run(paced([[event(bar(0))]]))
    row = engine.snapshot.rows[0]
    assert row.signal.action is Action.BUY and row.error is None
    assert row.elapsed_us == 80_000.0
    assert engine.snapshot.metrics.strategy_errors == 0
    assert gc.callbacks == callbacks  # a stopped engine leaves the collector as it found it


async def test_long_steps_yield_to_the_event_loop_between_strategies() -> None:
    timer = FakeTimer()
    ticks: list[int] = []
    engine = RealtimeStrategyEngine(
        "BTCUSDT", "1m", [Sleeper(timer, ms=3.0) for _ in range(4)], "majority",
        options=budget(50.0, timer, timer, slice_ms=5.0),
    )

    async def other_work() -> None:
        while engine.running or not ticks:
            ticks.append(timer.now)
            await asyncio.sleep(0)

    # the three closes come as one flood (the source never suspends between them)
    await asyncio.gather(engine.run(paced([[event(bar(i)) for i in range(3)]])), other_work())
    # 3 closes x 4 strategies x 3 ms = 36 ms of "work" in slices of about 6 ms
    assert len(set(ticks)) >= 36 // 6


async def test_a_backlog_of_quick_candles_still_yields_once_per_slice() -> None:
    # Each candle is well under a slice; the slice must carry across the backlog's items,
    # or a bootstrap of hundreds of quick candles would hold the loop until it is done.
    timer = FakeTimer()
    ticks: list[int] = []
    engine = RealtimeStrategyEngine(
        "BTCUSDT", "1m", [Sleeper(timer, ms=1.0)], "majority", options=budget(50.0, timer, timer, slice_ms=5.0),
    )

    async def other_work() -> None:
        while engine.running or not ticks:
            ticks.append(timer.now)
            await asyncio.sleep(0)

    await asyncio.gather(engine.run(paced([[event(bar(i)) for i in range(30)]])), other_work())
    # 30 ms of work: the other task gets a turn about every 6 ms, not only at the end
    assert len(set(ticks)) >= 30 // 6
