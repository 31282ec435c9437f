"""RealtimeStrategyEngine: source -> series -> StrategyRunner -> Snapshot, in one consumer task.

The engine reads a `CandleSource` (the live `KlineFeed`, the CSV `ReplaySource`, a test
double) that the caller built and owns; it never opens a protocol, a feed or a simulator.
`run(source)` is the whole loop: it takes each item as the source hands it over, applies a
closed candle (its confirmed evaluation, then the confirmed-signal fan-out) or a forming
update (one provisional evaluation) to the series, and publishes one immutable Snapshot.
There is no reader task and no second queue: the feed coalesces forming updates per stream
at the source, so whatever the engine reads is worth evaluating.

The loop is never held for long: evaluation (engine/evaluator.py) yields to the event loop
whenever one slice has used more than `slice_ms`, and a slice spans consecutive items when
the source hands them over without suspending (a bootstrap backlog), so keys and frames
keep flowing while hundreds of history candles are evaluated.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

from cryptoai_tui.engine.evaluator import EngineTiming, StrategyRunner
from cryptoai_tui.engine.exchange_clock import ExchangeLag
from cryptoai_tui.engine.publisher import (
    ConfirmedListener,
    EngineCounts,
    FeedState,
    Publisher,
    MetricValues,
    SnapshotListener,
    metric_values,
)
from cryptoai_tui.engine.source import CandleSource
from cryptoai_tui.engine.strategy_choice import StrategyChoice, row_labels
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.interval import Interval
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.market.symbol import parse_symbol
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import ConfluenceMode

_NO_COUNTERS = FeedCounters()


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How much the engine keeps and how it is timed; defaults suit the live screen.

    `venue` names the exchange in the first status sentence ("Connecting to Binance for
    ..."); the composition root knows the display name, the engine only the key.
    """

    window: int = 1000
    recent_candles: int = 120
    recent_signals: int = 50
    latency_samples: int = 1000
    timing: EngineTiming = EngineTiming()
    venue: str | None = None

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"The window must hold at least one candle, not {self.window}.")


class RealtimeStrategyEngine:
    """Runs chosen strategies on every kline update of one symbol/interval and publishes Snapshots.

    Usage: build it, `add_listener(...)` for pushes, then `await engine.run(source)` (until
    the source ends or `stop()`); `engine.snapshot` is the newest Snapshot at any time.
    """

    def __init__(
        self,
        symbol: str,
        interval: Interval | str,
        strategies: StrategyChoice,
        confluence_mode: Mode | str = ConfluenceMode.MAJORITY,
        exchange: str = "binance",
        *,
        options: EngineOptions = EngineOptions(),
    ) -> None:
        self.exchange = exchange
        self.symbol = parse_symbol(symbol).name
        self.interval = interval if isinstance(interval, Interval) else Interval.parse(interval)
        self.options = options
        self._runner = StrategyRunner(strategies, confluence_mode, timing=options.timing)
        self.strategies: tuple[Strategy, ...] = self._runner.strategies
        self.names: tuple[str, ...] = self._runner.names
        self.series = CandleSeries(options.window)
        self._publisher = Publisher(
            exchange, self.symbol, self.interval.name,
            recent_candles=options.recent_candles, recent_signals=options.recent_signals,
            latency_samples=options.latency_samples, labels=row_labels(self.strategies),
        )
        self._source: CandleSource | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._running = False
        self._finished: asyncio.Event | None = None
        self._loop_turned = True
        self._status_pending = False

        venue = options.venue or exchange
        self._feed = FeedState(
            ConnectionState.CONNECTING, f"Connecting to {venue} for {self.symbol} {self.interval.name}."
        )
        self._counts = EngineCounts()
        self._lag = ExchangeLag(min_span_ms=options.timing.lag_check_span_ms)
        # a live message that arrived before the engine finished applying history waited
        # for start-up, not for processing: it is not timed (else p99 reads 100+ ms after
        # every start)
        self._history_done_at = 0.0

        self._provisional = True
        self._last_closed: Candle | None = None
        self._exchange_time: int | None = None
        self._price: float | None = None
        self._previous_price: float | None = None
        self._publish(None)

    # --- public surface ------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The newest published Snapshot (never None: an initial one exists before `run`).

        Already the new one while listeners are being told about it."""
        return self._publisher.snapshot

    @property
    def mode(self) -> Mode:
        return self._runner.mode

    @property
    def running(self) -> bool:
        return self._running

    @property
    def exchange_clock_rate(self) -> float | None:
        """Exchange seconds per local second while the exchange clock is seen not to run at
        our pace (a sped-up simulator); None while it does or is not measured yet.

        Lets a screen turn "closes in 47s" of exchange time into the seconds a user waits.
        """
        return self._lag.rate if self._lag.real_time is False else None

    def add_listener(
        self,
        on_snapshot: SnapshotListener | None = None,
        on_confirmed: ConfirmedListener | None = None,
    ) -> Callable[[], None]:
        """Push delivery: `on_snapshot(snapshot)` for every publish, `on_confirmed(signal)`
        for every confirmed signal, from now on, in the engine's task (keep them quick).
        Returns a function that removes them again."""
        return self._publisher.add_listener(on_snapshot, on_confirmed)

    def set_mode(self, mode: Mode | str) -> Snapshot:
        """Switch the confluence mode live: the current rows are recombined and republished.

        Confirmed signals already published keep the mode they were confirmed under.
        """
        self._runner.set_mode(mode)
        self._publish(None)
        return self._publisher.snapshot

    async def run(self, source: CandleSource) -> None:
        """Consume `source` until it ends or `stop()` is called; re-raises a fatal source error.

        The caller owns the source's lifetime (`async with` a KlineFeed around this call).
        """
        if self._running:
            raise RuntimeError("This engine is already running; create another engine or stop this one first.")
        self._running = True
        self._stop_requested = False
        self._finished = asyncio.Event()
        self._task = asyncio.current_task()
        self._source = source
        self._loop_turned = True
        collector = self._runner.collector
        collector.install()
        try:
            await self._consume(source)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not (self._stop_requested and task is not None and task.uncancel() == 0):
                raise  # cancelled by someone else, not by our own stop()
        except BaseException as error:
            if not isinstance(error, KeyboardInterrupt):
                self._feed.state = ConnectionState.ERROR
                self._feed.message = str(error) or type(error).__name__
            raise
        finally:
            collector.remove()
            if self._feed.state is not ConnectionState.ERROR:
                self._feed.state = ConnectionState.STOPPED
                self._feed.message = "Stopped."
            self._feed.retry_in = self._feed.retry_at = None
            self._running = False
            self._task = None
            self._publish(None)
            self._finished.set()

    async def stop(self) -> None:
        """Ask the engine to stop and wait until it has (what the source still holds is dropped)."""
        self._stop_requested = True
        task = self._task
        if self._running and task is not None and task is not asyncio.current_task():
            task.cancel()
            if self._finished is not None:
                await self._finished.wait()

    # --- the consume loop ----------------------------------------------------------------
    async def _consume(self, source: CandleSource) -> None:
        loop = asyncio.get_running_loop()
        runner = self._runner
        async for item in source:
            if self._loop_turned:
                # The loop ran other work since the last slice began (the source suspended,
                # or we yielded): a new slice starts. While items come without suspending,
                # the slice carries on across them and evaluation yields when it is used up.
                self._loop_turned = False
                runner.begin_slice()
                loop.call_soon(self._mark_turn)
            if isinstance(item, CandleEvent):
                await self._apply_event(item)
            elif isinstance(item, FeedStatus):
                self._apply_status(item)
                if not self._status_pending:
                    self._status_pending = True
                    loop.call_soon(self._flush_status)
            if self._stop_requested:
                return

    def _mark_turn(self) -> None:
        self._loop_turned = True

    def _flush_status(self) -> None:
        """Publish a status change once the loop has a turn: statuses the source hands over
        in one burst ("Loading ...", then "Connecting ...") become one Snapshot showing the
        newest, as a screen would show them, and `signals` prints one line, not each."""
        if self._status_pending:
            self._publish(None)

    async def _apply_event(self, event: CandleEvent) -> None:
        counts = self._counts
        counts.received += 1
        state = self._feed.state
        # History (a bootstrap burst, a gap repair) is not a message the user waits for:
        # its time before publishing is not reported as latency, its event time not as lag.
        timed = (not event.backfilled and state is not ConnectionState.BOOTSTRAPPING
                 and event.received_at > self._history_done_at)
        if not event.backfilled and state is ConnectionState.LIVE:
            source = self._source
            self._lag.observe(event.received_at, event.event_time,
                              source.clock_offset_ms if source is not None else None)
        candle = event.candle
        if candle.closed:
            if not self.series.append(candle):
                counts.stale += 1
                return
            self._last_closed = candle
            self._publisher.closed(candle)
            await self._evaluate(True, candle)
        else:
            if not self.series.set_forming(candle):
                # An update of a candle the series already holds closed (it raced the
                # history download): superseded, like a coalesced update, not a fault.
                counts.superseded += 1
                return
            await self._evaluate(False, candle)
        counts.processed += 1
        self._previous_price, self._price = self._price, candle.close
        self._exchange_time = event.event_time
        if candle.closed:
            runner = self._runner
            assert runner.confluence is not None
            history = event.backfilled or state is ConnectionState.BOOTSTRAPPING
            self._publisher.confirm(
                ConfirmedSignal(candle.open_time, candle.close, runner.confluence, runner.rows, history)
            )
        if not timed:
            self._history_done_at = time.time() * 1000.0
        self._publish(event.received_at if timed else None)

    async def _evaluate(self, confirmed: bool, candle: Candle) -> None:
        view = self.series.view(include_forming=not confirmed)
        for _ in self._runner.steps(view, confirmed=confirmed, bar_open_time=candle.open_time):
            await asyncio.sleep(0)
        self._provisional = not confirmed

    def _apply_status(self, status: FeedStatus) -> None:
        if status.reset and status.symbol == self.symbol and status.interval == self.interval.name:
            self._restart_stream()
        if self._feed.apply(status):
            self._lag.reset()

    def _restart_stream(self) -> None:
        """The source restarts this stream (its history arrived late, FeedStatus.reset): the
        whole series follows again, so the series, the strategies' state and what the
        publisher remembers start from scratch; the replay then warms the strategies up."""
        self.series = CandleSeries(self.options.window)
        self._runner.reset()
        self._last_closed = None
        self._provisional = True
        self._publisher.restart()

    # --- publishing ----------------------------------------------------------------------
    def _publish(self, timed_received_at: float | None) -> None:
        self._status_pending = False
        runner = self._runner
        self._publisher.publish(
            mode=runner.mode,
            feed=self._feed,
            forming=self.series.forming,
            last_closed=self._last_closed,
            price=self._price,
            previous_price=self._previous_price,
            exchange_time=self._exchange_time,
            provisional=self._provisional,
            rows=runner.rows,
            confluence=runner.confluence,
            metrics=self._metrics,
            timed_received_at=timed_received_at,
        )

    def _metrics(self) -> MetricValues:
        source = self._source
        counters = source.counters if source is not None else _NO_COUNTERS
        lag = self._lag.lag_ms if self._lag.real_time else None
        return metric_values(counters, self._counts, self._runner.errors, lag)
