"""Throwaway strategies and sources for the engine's unit tests (not production code)."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import AsyncIterator, Iterable

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import FeedCounters, FeedStatus
from cryptoai_tui.market import Candle, CandleEvent, OHLCV
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.signal import Action, Signal

MINUTE = 60_000


def bar(i: int, close: float | None = None, closed: bool = True) -> Candle:
    price = 100.0 + i if close is None else close
    return Candle(i * MINUTE, price, price + 1, price - 1, price, 10.0, i * MINUTE + MINUTE - 1, closed)


def event(candle: Candle, received_at: float | None = None, symbol: str = "BTCUSDT", interval: str = "1m",
          backfilled: bool = False) -> CandleEvent:
    arrived = time.time() * 1000.0 if received_at is None else received_at
    return CandleEvent("test", symbol, interval, candle, arrived, candle.open_time + 1, backfilled)


class Recorder(Strategy):
    """Says BUY when the last close rose, SELL when it fell; remembers every call."""

    name = "recorder"
    title = "Recorder"
    group = "Test"
    description = "records calls"
    defaults = {"lookback": 1}

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.calls: list[tuple[bool, int, float]] = []

    @property
    def lookback(self) -> int:
        return int(self.params["lookback"])

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        self.calls.append((confirmed, int(data.open_time[-1]), float(data.close[-1])))
        if len(data) <= self.lookback:
            return Signal.warmup(len(data), self.lookback + 1)
        change = float(data.close[-1] - data.close[-2])
        if change > 0:
            return Signal(Action.BUY, 0.8, "rose", {"change": change})
        if change < 0:
            return Signal(Action.SELL, 0.6, "fell", {"change": change})
        return Signal.hold("flat")

    @property
    def confirmed_bars(self) -> list[int]:
        return [open_time for confirmed, open_time, _ in self.calls if confirmed]

    @property
    def provisional_calls(self) -> list[tuple[int, float]]:
        return [(open_time, close) for confirmed, open_time, close in self.calls if not confirmed]


class Raiser(Strategy):
    name = "raiser"
    title = "Raiser"
    group = "Test"
    description = "always raises"
    defaults: dict[str, object] = {}

    @property
    def lookback(self) -> int:
        return 0

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        raise ZeroDivisionError("division by zero in the test double")


class NotASignal(Raiser):
    name = "not_a_signal"

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        return "BUY"  # type: ignore[return-value]


class FakeTimer:
    """A nanosecond clock only the Sleeper moves, so budget tests need no real waiting."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class Sleeper(Strategy):
    """Pretends to take `ms` milliseconds by advancing the engine's fake clocks."""

    name = "sleeper"
    title = "Sleeper"
    group = "Test"
    description = "overruns"
    defaults = {"ms": 80.0}

    def __init__(self, *timers: FakeTimer, schedule: list[float] | None = None, **params: object) -> None:
        super().__init__(**params)
        self.timers = timers  # the clocks that see the time pass (wall, and CPU unless parked)
        self.schedule = list(schedule or [])  # per-call durations (ms) before falling back to `ms`

    @property
    def lookback(self) -> int:
        return 0

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        ms = self.schedule.pop(0) if self.schedule else float(self.params["ms"])
        for timer in self.timers:
            timer.now += int(ms * 1_000_000)
        return Signal(Action.BUY, 1.0, "late")



class CollectedWhileEvaluating(Strategy):
    """Trips a garbage collection whose finalizer spends `ms` on the engine's fake clocks.

    Stands for a full collection of a large process landing inside a quick strategy: the
    time passes on the wall and CPU clocks, but inside the collector, not the strategy.
    """

    name = "collected"
    title = "Collected while evaluating"
    group = "Test"
    description = "a garbage collection runs inside it"
    defaults = {"ms": 80.0}

    def __init__(self, *timers: FakeTimer, **params: object) -> None:
        super().__init__(**params)
        self.timers = timers

    @property
    def lookback(self) -> int:
        return 0

    def evaluate(self, data: OHLCV, *, confirmed: bool) -> Signal:
        _SlowToFinalize(self.timers, float(self.params["ms"]))
        gc.collect()
        return Signal(Action.BUY, 1.0, "collected")


class _SlowToFinalize:
    """A reference cycle whose finalizer, run by the collector, advances the fake clocks."""

    def __init__(self, timers: tuple[FakeTimer, ...], ms: float) -> None:
        self.timers = timers
        self.ms = ms
        self.cycle = self

    def __del__(self) -> None:
        for timer in self.timers:
            timer.now += int(self.ms * 1_000_000)

class ScriptedSource:
    """A CandleSource over scripted items: `counters` and `clock_offset_ms` are what the
    test sets, so metrics that come from the source can be checked to pass through."""

    def __init__(self, items: AsyncIterator[CandleEvent | FeedStatus], counters: FeedCounters = FeedCounters(),
                 clock_offset_ms: float | None = None) -> None:
        self._items = items
        self.counters = counters
        self.clock_offset_ms = clock_offset_ms

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._items


def burst(items: Iterable[CandleEvent | FeedStatus]) -> ScriptedSource:
    """Yields everything without ever suspending: the engine sees a flood."""
    async def flood() -> AsyncIterator[CandleEvent | FeedStatus]:
        for item in items:
            yield item

    return ScriptedSource(flood())


def paced(groups: Iterable[Iterable[CandleEvent | FeedStatus]]) -> ScriptedSource:
    """Yields each group as a flood, then lets the event loop run (the engine catches up)."""
    async def in_groups() -> AsyncIterator[CandleEvent | FeedStatus]:
        for group in groups:
            for item in group:
                yield item
            await asyncio.sleep(0)

    return ScriptedSource(in_groups())


class Gate:
    """A source that yields what the test pushes and ends only when closed."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[CandleEvent | FeedStatus | None] = asyncio.Queue()
        self.counters = FeedCounters()
        self.clock_offset_ms: float | None = None

    def push(self, *items: CandleEvent | FeedStatus) -> None:
        for item in items:
            self._queue.put_nowait(item)

    def close(self) -> None:
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._items()

    async def _items(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        while (item := await self._queue.get()) is not None:
            yield item


class Watch:
    """What a test hears through the engine's one push API, `add_listener`, made awaitable.

    Registered on creation, so nothing published between building it and the first await
    is lost.
    """

    def __init__(self, engine: RealtimeStrategyEngine) -> None:
        self.engine = engine
        self.snapshots: list[Snapshot] = []
        self.confirmed: list[ConfirmedSignal] = []
        self._heard = asyncio.Event()
        engine.add_listener(on_snapshot=self._on_snapshot, on_confirmed=self._on_confirmed)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)
        self._heard.set()

    def _on_confirmed(self, signal: ConfirmedSignal) -> None:
        self.confirmed.append(signal)
        self._heard.set()

    async def _until_heard(self) -> None:
        self._heard.clear()
        await self._heard.wait()

    async def snapshot_after(self, sequence: int | None = None) -> Snapshot:
        """The newest Snapshot once its sequence is above `sequence` (default: the current one)."""
        threshold = self.engine.snapshot.sequence if sequence is None else sequence
        while self.engine.snapshot.sequence <= threshold:
            await self._until_heard()
        return self.engine.snapshot

    async def confirmed_signals(self, count: int) -> list[ConfirmedSignal]:
        """The first `count` confirmed signals heard, waiting for them as needed."""
        while len(self.confirmed) < count:
            await self._until_heard()
        return self.confirmed[:count]
