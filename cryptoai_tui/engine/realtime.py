"""RealtimeStrategyEngine: feed -> series -> strategies -> confluence -> Snapshot.

Two tasks share the state, and only one of them writes the series:

- the *reader* pulls CandleEvents and FeedStatuses from the source and only queues them:
  closed candles go into a FIFO (every one will be evaluated, in order), a forming update
  replaces any forming update still waiting (newest wins, the older one is counted as
  coalesced). It never evaluates, so a flood costs queue appends, not strategy runs;
- the *processor* wakes when something is queued, applies the closed candles one by one
  (each gets its confirmed evaluation), then the newest forming update (one provisional
  evaluation), and publishes one immutable Snapshot.

How "concurrently" the strategies run: sequentially, in the event loop, each timed and
isolated by its own try/except. A strategy costs ~10 µs; handing it to a thread or a
process costs 50-100 µs of scheduling and locking each way, and TA-Lib and pure Python
hold the GIL anyway, so threads would make every update slower without running anything
in parallel. Isolation is about failure, not parallelism: a strategy that raises, returns
something that is not a Signal, or takes longer than its budget is shown as ERROR for that
update and the others' results stand. The loop is never held for long: the processor
yields to it whenever one step has used more than `slice_ms` (between strategies and
between closed candles of a backlog), so keys and frames keep flowing while a bootstrap
of hundreds of candles is evaluated. Python cannot pre-empt a strategy mid-call; one that
hangs forever would hang the loop, which is why strategies are plain numeric code with a
budget that is enforced by reporting, not by killing.

An overrun is judged by CPU time, not wall time alone: on a busy machine the OS may park
the process for tens of milliseconds in the middle of a 10 µs strategy, and a wall clock
would then brand a healthy strategy as overrunning (and turn a confirmed signal into an
ERROR no backtest would show). Reading the thread's CPU clock costs a system call, so
strategies are timed with the cheap wall clock and the CPU clock is read once per slice,
then again only when a wall time is over budget: the CPU used since the slice began
exceeds the strategy's own by at most `slice_ms`. The garbage collector's CPU time in that
span is not the strategy's either (a full collection costs 50-150 ms and runs wherever an
allocation trips it), so it is subtracted (see collector_time.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Callable, Mapping

from cryptoai_tui.engine.collector_time import CollectorTime
from cryptoai_tui.engine.exchange_clock import ExchangeLag
from cryptoai_tui.engine.latency import LatencyWindow
from cryptoai_tui.engine.strategy_choice import StrategyChoice, resolve_strategies, row_names
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market.candle import Candle, CandleEvent
from cryptoai_tui.market.interval import Interval
from cryptoai_tui.market.series import CandleSeries
from cryptoai_tui.market.symbol import parse_symbol
from cryptoai_tui.snapshot import ConfirmedSignal, Metrics, Snapshot, StrategyRow
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Signal

if TYPE_CHECKING:
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.strategies.base import Strategy

SourceItem = CandleEvent | FeedStatus
SnapshotListener = Callable[[Snapshot], None]
ConfirmedListener = Callable[[ConfirmedSignal], None]
Combiner = Callable[[Mapping[str, Signal], ConfluenceMode], ConfluenceResult]

_END = object()  # closes confirmed() iterators when the engine stops


def parse_mode(mode: ConfluenceMode | str) -> ConfluenceMode:
    """Accept the enum or its spelling ("all", "any", "majority"), any case."""
    if isinstance(mode, ConfluenceMode):
        return mode
    try:
        return ConfluenceMode(str(mode).strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in ConfluenceMode)
        raise ValueError(f"Unknown confluence mode {mode!r}: use one of {choices}.") from None


@dataclass(frozen=True, slots=True)
class EngineTiming:
    """How long strategies may take, how long the engine may hold the event loop, and how
    much local time the exchange-clock check needs before it trusts (or rejects) lag."""

    strategy_budget_ms: float = 50.0
    slice_ms: float = 5.0
    lag_check_span_ms: float = 5_000.0


class ConfirmedSignals:
    """An async iterator over confirmed signals from the moment it was created.

    Registered on creation (not on first `__anext__`) so nothing published between
    `engine.confirmed()` and the first await is lost; ends when the engine stops.
    """

    def __init__(self, engine: RealtimeStrategyEngine) -> None:
        self._engine = engine
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False
        engine._confirmed_queues.append(self._queue)

    def __aiter__(self) -> ConfirmedSignals:
        return self

    async def __anext__(self) -> ConfirmedSignal:
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            self.close()
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(ValueError):
                self._engine._confirmed_queues.remove(self._queue)


class RealtimeStrategyEngine:
    """Runs chosen strategies on every kline update of one symbol/interval and publishes Snapshots.

    Usage: `asyncio.run(engine.start())` (runs until `stop()` or until an injected source
    ends). `source` replaces the live KlineFeed with any async iterable of CandleEvent |
    FeedStatus (the `--replay` CSV source, test doubles); the caller owns its lifetime.
    Without it the engine opens the exchange's protocol and a KlineFeed itself.
    """

    def __init__(
        self,
        symbol: str,
        interval: Interval | str,
        strategies: StrategyChoice,
        confluence_mode: ConfluenceMode | str = ConfluenceMode.MAJORITY,
        exchange: str = "binance",
        *,
        ws_url: str | None = None,
        rest_url: str | None = None,
        history: int = 500,
        window: int = 1000,
        source: AsyncIterable[SourceItem] | None = None,
        timing: EngineTiming = EngineTiming(),
        recent_candles: int = 120,
        recent_signals: int = 50,
        latency_samples: int = 1000,
        on_snapshot: SnapshotListener | None = None,
        on_confirmed: ConfirmedListener | None = None,
        feed_config: FeedConfig | None = None,
        combine: Combiner | None = None,
        timer: Callable[[], int] = time.perf_counter_ns,
        cpu_timer: Callable[[], int] = time.thread_time_ns,
    ) -> None:
        if window < 1:
            raise ValueError(f"The window must hold at least one candle, not {window}.")
        if not 0 <= history <= window:
            raise ValueError(
                f"history={history} must be between 0 and the window ({window}); "
                "candles beyond the window would be fetched only to be dropped."
            )
        if timing.strategy_budget_ms <= 0 or timing.slice_ms <= 0:
            raise ValueError("The strategy budget and the loop slice must be positive milliseconds.")
        self.exchange = exchange
        self.symbol = parse_symbol(symbol).name
        self.interval = interval if isinstance(interval, Interval) else Interval.parse(interval)
        self.strategies: tuple[Strategy, ...] = resolve_strategies(strategies)
        self.names: tuple[str, ...] = row_names(self.strategies)
        self._named = tuple(zip(self.names, self.strategies))
        self._mode = parse_mode(confluence_mode)
        if combine is None:
            from cryptoai_tui.strategies.confluence import confluence as combine
        self._combine: Combiner = combine
        self.ws_url = ws_url
        self.rest_url = rest_url
        self.history = history
        self.window = window
        self.feed_config = feed_config
        self._given_source = source
        self._source: Any = None
        self._budget_ns = int(timing.strategy_budget_ms * 1_000_000)
        self._budget_ms = timing.strategy_budget_ms
        self._slice_ns = int(timing.slice_ms * 1_000_000)
        self._timer = timer
        self._cpu_timer = cpu_timer
        self._collector = CollectorTime(cpu_timer)

        self.series = CandleSeries(window)
        self._snapshot_listeners: list[SnapshotListener] = [on_snapshot] if on_snapshot else []
        self._confirmed_listeners: list[ConfirmedListener] = [on_confirmed] if on_confirmed else []
        self._confirmed_queues: list[asyncio.Queue[Any]] = []
        self._snapshot_waiters: list[asyncio.Future[Snapshot]] = []

        # queued by the reader, drained by the processor
        # each with "timed": whether its wait counts as message latency (not history)
        self._pending_closed: deque[tuple[CandleEvent, bool]] = deque()
        self._pending_forming: CandleEvent | None = None
        self._pending_forming_timed = False
        self._status_changed = False
        self._wake = asyncio.Event()
        self._source_done = False
        self._source_error: BaseException | None = None
        self._stop_requested = False
        self._running = False
        self._finished: asyncio.Event | None = None

        # feed state as last reported
        self._state = ConnectionState.CONNECTING
        from cryptoai_tui.wiring import exchange_display_name

        self._state_message = (
            f"Connecting to {exchange_display_name(exchange)} for {self.symbol} {self.interval.name}."
        )
        self._retry_in: float | None = None
        self._retry_at: float | None = None
        self._bootstrap_progress = 0
        self._bootstrap_total = 0
        self._reconnects_seen = 0
        self._backfilled_seen = 0

        # engine counters
        self._received = 0
        self._processed = 0
        self._coalesced = 0
        self._history_pending = 0  # untimed closed candles (history) still queued
        self._stale = 0
        self._strategy_errors = 0
        self._latency = LatencyWindow(latency_samples)
        self._lag = ExchangeLag(min_span_ms=timing.lag_check_span_ms)

        # what the next snapshot shows
        self._rows: tuple[StrategyRow, ...] = tuple(
            StrategyRow(name, Signal.warmup(0, strategy.lookback)) for name, strategy in zip(self.names, self.strategies)
        )
        self._last_actions: list[Action | None] = [None] * len(self.strategies)
        self._changed_at: list[int | None] = [None] * len(self.strategies)
        self._confluence: ConfluenceResult | None = None
        self._last_votes: tuple[ConfluenceMode, list[tuple[Action, float]]] | None = None
        self._provisional = True
        self._last_closed: Candle | None = None
        self._exchange_time: int | None = None
        self._price: float | None = None
        self._previous_price: float | None = None
        self._recent_closed: deque[Candle] = deque(maxlen=recent_candles)
        self._recent_closed_tuple: tuple[Candle, ...] = ()
        self._recent_signals: deque[ConfirmedSignal] = deque(maxlen=recent_signals)
        self._recent_signals_tuple: tuple[ConfirmedSignal, ...] = ()
        self._last_confirmed: ConfirmedSignal | None = None
        self._sequence = 0
        self._snapshot = self._build_snapshot()

    # --- public surface ------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The newest published Snapshot (never None: an initial one exists before start)."""
        return self._snapshot

    @property
    def mode(self) -> ConfluenceMode:
        return self._mode

    @property
    def running(self) -> bool:
        return self._running

    @property
    def source(self) -> Any:
        """What the engine reads while running: the KlineFeed it opened, or the injected source."""
        return self._source

    @property
    def exchange_clock_real_time(self) -> bool | None:
        """Whether the exchange's clock was seen to run at our pace (None: not known yet).

        Lets a screen say why lag is missing: still measuring, or a sped-up/replayed clock.
        """
        return self._lag.real_time

    @property
    def exchange_clock_rate(self) -> float | None:
        """Exchange seconds per local second while the exchange clock is seen not to run at
        our pace (a sped-up simulator); None while it does or is not measured yet.

        Lets a screen turn "closes in 47s" of exchange time into the seconds a user waits.
        """
        return self._lag.rate if self._lag.real_time is False else None

    def add_snapshot_listener(self, listener: SnapshotListener) -> None:
        self._snapshot_listeners.append(listener)

    def add_confirmed_listener(self, listener: ConfirmedListener) -> None:
        self._confirmed_listeners.append(listener)

    def confirmed(self) -> ConfirmedSignals:
        """Iterate confirmed signals published from now on; ends when the engine stops."""
        return ConfirmedSignals(self)

    async def next_snapshot(self, after: int | None = None) -> Snapshot:
        """The first Snapshot whose sequence is greater than `after` (default: the current one)."""
        threshold = self._snapshot.sequence if after is None else after
        if self._snapshot.sequence > threshold:
            return self._snapshot
        while True:
            future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
            self._snapshot_waiters.append(future)
            snapshot = await future
            if snapshot.sequence > threshold:
                return snapshot

    def set_mode(self, mode: ConfluenceMode | str) -> Snapshot:
        """Switch the confluence mode live: the current rows are recombined and republished.

        Confirmed signals already published keep the mode they were confirmed under.
        """
        self._mode = parse_mode(mode)
        if self._confluence is not None:
            self._confluence = self._combine({row.name: row.signal for row in self._rows}, self._mode)
        return self._publish(None)

    async def start(self) -> None:
        """Run until `stop()` is called or the source ends; re-raises a fatal source error."""
        if self._running:
            raise RuntimeError("This engine is already running; create another engine or stop this one first.")
        self._running = True
        self._finished = asyncio.Event()
        self._stop_requested = False
        self._source_done = False
        self._source_error = None
        self._wake = asyncio.Event()
        self._collector.install()
        try:
            async with self._open_source() as source:
                self._source = source
                reader = asyncio.create_task(self._read(source), name=f"engine-reader-{self.symbol}")
                try:
                    await self._process()
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
            if self._source_error is not None:
                raise self._source_error
        except BaseException as error:
            if not isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
                self._state = ConnectionState.ERROR
                self._state_message = str(error) or type(error).__name__
            raise
        finally:
            self._collector.remove()
            if self._state is not ConnectionState.ERROR:
                self._state = ConnectionState.STOPPED
                self._state_message = "Stopped."
            self._retry_in = self._retry_at = None
            self._running = False
            self._publish(None)
            for queue in list(self._confirmed_queues):
                queue.put_nowait(_END)
            self._finished.set()

    async def stop(self) -> None:
        """Ask the engine to stop and wait until it has (queued candles are dropped)."""
        self._stop_requested = True
        self._wake.set()
        if self._running and self._finished is not None:
            await self._finished.wait()

    # --- source ----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _open_source(self) -> AsyncIterator[AsyncIterable[SourceItem]]:
        if self._given_source is not None:
            yield self._given_source
            return
        from cryptoai_tui.wiring import open_protocol
        from cryptoai_tui.feed import KlineFeed

        async with open_protocol(self.exchange, self.ws_url, self.rest_url) as protocol:
            options: dict[str, Any] = {"streams": [(self.symbol, self.interval.name)], "history": self.history}
            if self.feed_config is not None:
                options["config"] = self.feed_config
            feed = KlineFeed(protocol, **options)
            async with feed:
                yield feed

    async def _read(self, source: AsyncIterable[SourceItem]) -> None:
        """Queue what the source yields; never evaluates (see the module docstring)."""
        try:
            async for item in source:
                if self._stop_requested:
                    break
                if isinstance(item, CandleEvent):
                    self._queue_event(item)
                elif isinstance(item, FeedStatus):
                    self._apply_status(item)
                self._wake.set()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a fatal feed error ends the run; start() re-raises it
            self._source_error = error
        finally:
            self._source_done = True
            self._wake.set()

    def _queue_event(self, event: CandleEvent) -> None:
        if event.symbol != self.symbol or event.interval != self.interval.name:
            return
        self._received += 1
        # History (a bootstrap burst, a gap repair) is not a message the user waits for:
        # its time in the queue is not reported as latency, its event time not as lag.
        # A live message queued behind history still being applied waits for start-up, not
        # for processing: it is not timed either (else p99 reads 100+ ms after every start).
        timed = (not event.backfilled and self._state is not ConnectionState.BOOTSTRAPPING
                 and self._history_pending == 0)
        if event.backfilled:
            self._backfilled_seen += 1
        elif self._state is ConnectionState.LIVE:
            self._lag.observe(event.received_at, event.event_time, getattr(self._source, "clock_offset_ms", None))
        waiting = self._pending_forming
        if event.candle.closed:
            if waiting is not None and waiting.candle.open_time <= event.candle.open_time:
                self._pending_forming = None
                self._coalesced += 1
            self._pending_closed.append((event, timed))
            if not timed:
                self._history_pending += 1
        else:
            if waiting is not None:
                self._coalesced += 1
            self._pending_forming = event
            self._pending_forming_timed = timed

    def _apply_status(self, status: FeedStatus) -> None:
        if status.symbol is not None and status.symbol != self.symbol:
            return
        if status.interval is not None and status.interval != self.interval.name:
            return
        if status.state is ConnectionState.RECONNECTING and self._state is not ConnectionState.RECONNECTING:
            self._reconnects_seen += 1
        if status.state is not self._state:
            self._lag.reset()
        self._state = status.state
        self._state_message = status.message
        self._retry_in = status.retry_in
        self._retry_at = status.retry_at
        if status.total:
            self._bootstrap_progress = status.progress
            self._bootstrap_total = status.total
        self._backfilled_seen += status.backfilled
        self._status_changed = True

    # --- processing ------------------------------------------------------------------------
    async def _process(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._stop_requested:
                return
            await self._step()
            if self._stop_requested:
                return
            if self._source_done and not self._pending_closed and self._pending_forming is None:
                return

    async def _step(self) -> None:
        """Apply every queued closed candle (confirmed), then the newest forming one, then publish."""
        shown: CandleEvent | None = None
        timed = False
        slice_start = self._timer()
        while self._pending_closed:
            if self._stop_requested:
                return
            event, event_timed = self._pending_closed.popleft()
            if not event_timed:
                self._history_pending -= 1
            candle = event.candle
            if not self.series.append(candle):
                self._stale += 1
                continue
            self._last_closed = candle
            self._recent_closed.append(candle)
            self._recent_closed_tuple = tuple(self._recent_closed)
            slice_start = await self._evaluate(True, candle.open_time, slice_start)
            self._processed += 1
            self._previous_price, self._price = self._price, candle.close
            self._exchange_time = event.event_time
            confirmed = ConfirmedSignal(candle.open_time, candle.close, self._confluence, self._rows)  # type: ignore[arg-type]
            self._last_confirmed = confirmed
            self._recent_signals.append(confirmed)
            self._recent_signals_tuple = tuple(self._recent_signals)
            for listener in self._confirmed_listeners:
                listener(confirmed)
            for queue in self._confirmed_queues:
                queue.put_nowait(confirmed)
            shown, timed = event, event_timed
        forming = self._pending_forming
        if forming is not None and not self._stop_requested:
            self._pending_forming = None
            if self.series.set_forming(forming.candle):
                await self._evaluate(False, forming.candle.open_time, slice_start)
                self._processed += 1
                self._previous_price, self._price = self._price, forming.candle.close
                self._exchange_time = forming.event_time
                shown, timed = forming, self._pending_forming_timed
            else:
                # An update of a candle the series already holds closed (it raced the
                # history download): superseded, like a coalesced update, not a fault.
                self._coalesced += 1
        if shown is not None or self._status_changed:
            self._status_changed = False
            self._publish(shown if timed else None)

    async def _evaluate(self, confirmed: bool, bar_open_time: int, slice_start: int) -> int:
        """Run every strategy on the current window, isolated and timed; returns the slice start.

        This is the hot path (once per update): locals instead of attribute lookups, one
        timer read per strategy boundary, and confluence recomputed only when some verdict
        changed, since on most ticks every strategy repeats itself.
        """
        data = self.series.view(include_forming=not confirmed)
        timer = self._timer
        collector = self._collector
        cpu_at_slice = self._cpu_timer() - collector.total_ns
        budget = self._budget_ns
        slice_ns = self._slice_ns
        last_actions = self._last_actions
        changed_at = self._changed_at
        rows: list[StrategyRow] = []
        votes: list[tuple[Action, float]] = []
        index = 0
        for name, strategy in self._named:
            error: str | None = None
            started = timer()
            try:
                signal = strategy.evaluate(data, confirmed=confirmed)
            except Exception as exc:  # isolation: one strategy's bug must not stop the others
                error = f"{name} failed: {type(exc).__name__}: {exc}"
            ended = timer()
            elapsed = ended - started
            if error is None:
                if type(signal) is not Signal and not isinstance(signal, Signal):
                    error = f"{name} returned {type(signal).__name__} instead of a Signal."
                elif elapsed > budget and self._cpu_timer() - collector.total_ns - cpu_at_slice > budget:
                    error = (
                        f"{name} took {elapsed / 1e6:.1f} ms, over its {self._budget_ms:g} ms budget; "
                        "its signal for this update was dropped."
                    )
            if error is not None:
                signal = Signal.error(error)
                self._strategy_errors += 1
            action = signal.action
            if action is not last_actions[index]:
                last_actions[index] = action
                changed_at[index] = bar_open_time
            rows.append(StrategyRow(name, signal, changed_at[index], error, elapsed / 1000.0))
            votes.append((action, signal.confidence))
            index += 1
            if ended - slice_start > slice_ns:
                await asyncio.sleep(0)
                slice_start = timer()
                cpu_at_slice = self._cpu_timer() - collector.total_ns
        self._rows = tuple(rows)
        self._confluence = self._combined(votes)
        self._provisional = not confirmed
        return slice_start

    def _combined(self, votes: list[tuple[Action, float]]) -> ConfluenceResult:
        """Confluence of the current rows, reusing the last result when no vote changed.

        Confluence reads only each strategy's action and confidence (strategies.md §2.3),
        so equal votes under the same mode give an equal result.
        """
        key = (self._mode, votes)
        if key == self._last_votes and self._confluence is not None:
            return self._confluence
        self._last_votes = key
        return self._combine({row.name: row.signal for row in self._rows}, self._mode)

    # --- publishing ------------------------------------------------------------------------
    def _publish(self, timed: CandleEvent | None) -> Snapshot:
        """Build and hand out the next Snapshot; `timed` is the event whose receive-to-publish
        time is recorded as latency (None: nothing to time, e.g. a mode switch)."""
        snapshot = self._build_snapshot()
        self._snapshot = snapshot
        if timed is not None:
            self._latency.add((time.time() * 1000.0 - timed.received_at) * 1000.0)
        for listener in self._snapshot_listeners:
            listener(snapshot)
        if self._snapshot_waiters:
            waiters, self._snapshot_waiters = self._snapshot_waiters, []
            for future in waiters:
                if not future.done():
                    future.set_result(snapshot)
        return snapshot

    def _build_snapshot(self) -> Snapshot:
        self._sequence += 1
        forming = self.series.forming
        latest = forming or self._last_closed
        recent = self._recent_closed_tuple + (forming,) if forming is not None else self._recent_closed_tuple
        p50, p99 = self._latency.percentiles()
        return Snapshot(
            exchange=self.exchange,
            symbol=self.symbol,
            interval=self.interval.name,
            mode=self._mode,
            state=self._state,
            state_message=self._state_message,
            retry_in=self._retry_in,
            retry_at=self._retry_at,
            bootstrap_progress=self._bootstrap_progress,
            bootstrap_total=self._bootstrap_total,
            price=self._price,
            previous_price=self._previous_price,
            candle_open=latest.open if latest is not None else None,
            candle_open_time=latest.open_time if latest is not None else None,
            candle_close_time=latest.close_time if latest is not None else None,
            exchange_time=self._exchange_time,
            provisional=self._provisional,
            rows=self._rows,
            confluence=self._confluence,
            last_confirmed=self._last_confirmed,
            recent_candles=recent,
            recent_signals=self._recent_signals_tuple,
            metrics=self._metrics(p50, p99),
            sequence=self._sequence,
        )

    def _metrics(self, p50: float | None, p99: float | None) -> Metrics:
        counters: FeedCounters | None = getattr(self._source, "counters", None)
        lag = self._lag.lag_ms if self._lag.real_time else None
        if lag is not None and not math.isfinite(lag):
            lag = None
        if isinstance(counters, FeedCounters):
            return Metrics(
                latency_p50_us=p50,
                latency_p99_us=p99,
                exchange_lag_ms=lag,
                messages_received=self._received,
                messages_processed=self._processed,
                messages_coalesced=self._coalesced,
                messages_malformed=counters.messages_malformed,
                reconnects=counters.reconnects,
                candles_backfilled=counters.candles_backfilled,
                duplicates_dropped=counters.duplicates_dropped + counters.out_of_order_dropped + self._stale,
                strategy_errors=self._strategy_errors,
            )
        return Metrics(
            latency_p50_us=p50,
            latency_p99_us=p99,
            exchange_lag_ms=lag,
            messages_received=self._received,
            messages_processed=self._processed,
            messages_coalesced=self._coalesced,
            reconnects=self._reconnects_seen,
            candles_backfilled=self._backfilled_seen,
            duplicates_dropped=self._stale,
            strategy_errors=self._strategy_errors,
        )
