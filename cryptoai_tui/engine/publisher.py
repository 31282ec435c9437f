"""Publishing: immutable Snapshots and confirmed signals, by push (listeners) and by pull.

One way to receive each by push, `add_listener(on_snapshot=..., on_confirmed=...)`, and
`snapshot` for pull (a screen renders the newest one on its own timer). The journal,
alerts, `signals` and tests are all listeners; none of them reaches into the engine.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from cryptoai_tui.engine.latency import LatencyWindow
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.frozen import keyword_constructor
from cryptoai_tui.market.candle import Candle
from cryptoai_tui.snapshot import ConfirmedSignal, LastTrigger, Metrics, Snapshot, StrategyRow
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult

SnapshotListener = Callable[[Snapshot], None]
ConfirmedListener = Callable[[ConfirmedSignal], None]


@dataclass(slots=True)
class FeedState:
    """What the source last said about the connection (owned and written by the engine)."""

    state: ConnectionState
    message: str
    retry_in: float | None = None
    retry_at: float | None = None  # epoch seconds of the next attempt (FeedStatus.retry_at)
    bootstrap_progress: int = 0
    bootstrap_total: int = 0

    def apply(self, status: FeedStatus) -> bool:
        """Take what `status` says; True when the connection state changed."""
        changed = status.state is not self.state
        self.state = status.state
        self.message = status.message
        self.retry_in = status.retry_in
        self.retry_at = status.retry_at
        if status.total:
            self.bootstrap_progress = status.progress
            self.bootstrap_total = status.total
        return changed


@dataclass(slots=True)
class EngineCounts:
    """The engine's own counts (the source's are in its FeedCounters)."""

    received: int = 0  # candle events read from the source
    processed: int = 0  # evaluated
    superseded: int = 0  # forming updates of a candle the series already holds closed
    stale: int = 0  # closed candles the series refused (not newer than its last)


#: What a Metrics is built from, read at publish time (see `metric_values`): received,
#: processed, coalesced, malformed, reconnects, backfilled, dropped, strategy errors, lag.
MetricValues = tuple[int, int, int, int, int, int, int, int, "float | None"]


def metric_values(
    counters: FeedCounters, counts: EngineCounts, strategy_errors: int, lag_ms: float | None,
) -> MetricValues:
    """The numbers of a Metrics, read now: a tuple costs a fraction of the frozen Metrics,
    which is built only when someone reads the Snapshot (see Publisher.publish)."""
    return (
        counts.received,
        counts.processed,
        counters.forming_coalesced + counts.superseded,
        counters.messages_malformed,
        counters.reconnects,
        counters.candles_backfilled,
        counters.duplicates_dropped + counters.out_of_order_dropped + counts.stale,
        strategy_errors,
        lag_ms,
    )


def metrics(
    counters: FeedCounters, counts: EngineCounts, strategy_errors: int,
    latency: LatencyWindow, lag_ms: float | None,
) -> Metrics:
    """One Metrics from the source's counters and the engine's, with no guessing of types."""
    return _metrics_of(metric_values(counters, counts, strategy_errors, lag_ms), latency.percentiles())


# built on every published update: filled slot by slot (see cryptoai_tui.frozen); the
# type checker reads the classes, whose keywords the makers take
if TYPE_CHECKING:
    _new_snapshot, _new_metrics = Snapshot, Metrics
else:
    _new_snapshot, _new_metrics = keyword_constructor(Snapshot), keyword_constructor(Metrics)


def _metrics_of(values: MetricValues, percentiles: tuple[float | None, float | None]) -> Metrics:
    """The Metrics of captured `values` and latency `percentiles` (p50, p99)."""
    (received, processed, coalesced, malformed, reconnects, backfilled, dropped, errors,
     lag_ms) = values
    if lag_ms is not None and not math.isfinite(lag_ms):
        lag_ms = None
    return _new_metrics(
        latency_p50_us=percentiles[0],
        latency_p99_us=percentiles[1],
        exchange_lag_ms=lag_ms,
        messages_received=received,
        messages_processed=processed,
        messages_coalesced=coalesced,
        messages_malformed=malformed,
        reconnects=reconnects,
        candles_backfilled=backfilled,
        duplicates_dropped=dropped,
        strategy_errors=errors,
    )


class Publisher:
    """Assembles Snapshots, keeps the recent candles and signals they show, and fans out.

    Listeners are called synchronously, in the engine's task, in the order added: they must
    be quick (queue or store, not render). A listener's exception propagates to the engine
    run, like any bug in the caller.
    """

    def __init__(
        self, exchange: str, symbol: str, interval: str, *,
        recent_candles: int, recent_signals: int, latency_samples: int,
        labels: tuple[str, ...] = (),
    ) -> None:
        self.exchange = exchange
        self.labels = labels
        self.symbol = symbol
        self.interval = interval
        self.latency = LatencyWindow(latency_samples)
        self._snapshot_listeners: list[SnapshotListener] = []
        self._confirmed_listeners: list[ConfirmedListener] = []
        self._recent_closed: deque[Candle] = deque(maxlen=recent_candles)
        self._recent_closed_tuple: tuple[Candle, ...] = ()
        self._recent_signals: deque[ConfirmedSignal] = deque(maxlen=recent_signals)
        self._recent_signals_tuple: tuple[ConfirmedSignal, ...] = ()
        self.last_confirmed: ConfirmedSignal | None = None
        # Last triggers and the last BUY/SELL are counted in closed candles; kept here, not in
        # a widget, so every screen and script reads the same "BUY 3 candles ago".
        self._closed_count = 0
        # (action, open_time, closed count) per row; a new tuple only when some row triggers,
        # so a publish captures it by reference and LastTriggers are built when read
        self._trigger_at: tuple[tuple[Action, int, int] | None, ...] = ()
        self._triggers_cache: tuple[object, int, tuple[LastTrigger | None, ...]] = ((), 0, ())
        self.last_signal: ConfirmedSignal | None = None
        self._signal_at = 0
        self._sequence = 0
        # The newest Snapshot, or what it is built from: a publish nobody listens to (a
        # replay, a screen that pulls on its timer) captures plain values in a tuple and
        # the frozen Snapshot (~28 fields) is built when `snapshot` is read, if ever.
        self._snapshot = Snapshot(exchange, symbol, interval, ConfluenceMode.MAJORITY, ConnectionState.CONNECTING)
        self._pending: tuple[object, ...] | None = None

    def restart(self) -> None:
        """Forget what the series taught (recent candles and signals, last triggers): the
        source restarts the stream from its history. Listeners, the latency window, the
        snapshot sequence and the newest Snapshot stay, so a screen keeps drawing."""
        self._recent_closed.clear()
        self._recent_closed_tuple = ()
        self._recent_signals.clear()
        self._recent_signals_tuple = ()
        self.last_confirmed = None
        self._closed_count = 0
        self._trigger_at = ()
        self._triggers_cache = ((), 0, ())
        self.last_signal = None
        self._signal_at = 0

    @property
    def snapshot(self) -> Snapshot:
        """The newest Snapshot; already the new one while the listeners hear of it. The
        placeholder is replaced by the engine's first publish, in its constructor."""
        pending = self._pending
        if pending is not None:
            self._snapshot = self._build(pending)
            self._pending = None
        return self._snapshot

    @property
    def last_triggers(self) -> tuple[LastTrigger | None, ...]:
        """Each row's last confirmed trigger, counted back from the newest closed candle."""
        return self._last_triggers(self._trigger_at, self._closed_count)

    def _last_triggers(
        self, trigger_at: tuple[tuple[Action, int, int] | None, ...], count: int,
    ) -> tuple[LastTrigger | None, ...]:
        """LastTriggers of `trigger_at` at `count` closed candles, built once per pair: every
        forming update's Snapshot shows the same ones until the next close."""
        cached = self._triggers_cache
        if cached[0] is trigger_at and cached[1] == count:
            return cached[2]
        built = tuple(
            None if seen is None else LastTrigger(seen[0], seen[1], count - seen[2]) for seen in trigger_at
        )
        self._triggers_cache = (trigger_at, count, built)
        return built

    def add_listener(
        self,
        on_snapshot: SnapshotListener | None = None,
        on_confirmed: ConfirmedListener | None = None,
    ) -> Callable[[], None]:
        """Call `on_snapshot` with every Snapshot and `on_confirmed` with every confirmed
        signal from now on; returns a function that removes both again."""
        if on_snapshot is None and on_confirmed is None:
            raise ValueError("Give on_snapshot, on_confirmed or both: a listener with neither hears nothing.")
        if on_snapshot is not None:
            self._snapshot_listeners = [*self._snapshot_listeners, on_snapshot]
        if on_confirmed is not None:
            self._confirmed_listeners = [*self._confirmed_listeners, on_confirmed]

        def remove() -> None:
            # new lists rather than in-place removal: a listener may remove itself while
            # the fan-out is iterating over the old list
            self._snapshot_listeners = [item for item in self._snapshot_listeners if item is not on_snapshot]
            self._confirmed_listeners = [item for item in self._confirmed_listeners if item is not on_confirmed]

        return remove

    def closed(self, candle: Candle) -> None:
        """A closed candle joined the series: it shows among the recent candles."""
        self._recent_closed.append(candle)
        self._recent_closed_tuple = tuple(self._recent_closed)

    def confirm(self, signal: ConfirmedSignal) -> None:
        """Record a confirmed signal and hand it to every confirmed listener.

        Once per closed candle: also where each strategy's last trigger and the last
        BUY/SELL verdict are tracked (the per-update path never touches them)."""
        self.last_confirmed = signal
        self._closed_count += 1
        count = self._closed_count
        trigger_at = self._trigger_at
        rows = signal.rows
        if len(trigger_at) != len(rows):
            trigger_at = self._trigger_at = (None,) * len(rows)
        buy, sell = Action.BUY, Action.SELL
        updated: list[tuple[Action, int, int] | None] | None = None
        for index, row in enumerate(rows):
            action = row.signal.action
            if action is buy or action is sell:
                if updated is None:
                    updated = list(trigger_at)
                updated[index] = (action, signal.open_time, count)
        if updated is not None:
            self._trigger_at = tuple(updated)
        if signal.confluence.action in (Action.BUY, Action.SELL):
            self.last_signal = signal
            self._signal_at = count
        self._recent_signals.append(signal)
        self._recent_signals_tuple = tuple(self._recent_signals)
        for listener in self._confirmed_listeners:
            listener(signal)

    def publish(
        self,
        *,
        mode: Mode,
        feed: FeedState,
        forming: Candle | None,
        last_closed: Candle | None,
        price: float | None,
        previous_price: float | None,
        exchange_time: int | None,
        provisional: bool,
        rows: tuple[StrategyRow, ...],
        confluence: ConfluenceResult | None,
        metrics: Callable[[], MetricValues],
        timed_received_at: float | None = None,
    ) -> None:
        """Publish the next Snapshot: the newest from now on, handed to the listeners.

        With no snapshot listener it is only captured (plain values in a tuple) and built
        when `snapshot` is read; what it shows is fixed here either way.

        `timed_received_at` is when the update being shown arrived (ms since the epoch); its
        receive-to-publish time is recorded as latency (None: nothing to time, e.g. history
        or a mode switch). The latency sample lands after the Snapshot is captured, so the
        first one describes the next publish, never this one.
        """
        self._sequence += 1
        latest = forming or last_closed
        pending = (
            mode, feed.state, feed.message, feed.retry_in, feed.retry_at,
            feed.bootstrap_progress, feed.bootstrap_total, price, previous_price,
            latest, exchange_time, provisional, rows, confluence, self.last_confirmed,
            self.last_signal,
            self._closed_count - self._signal_at if self.last_signal is not None else None,
            self._trigger_at, self._closed_count, self._recent_closed_tuple, forming,
            self._recent_signals_tuple, metrics(), self.latency.percentiles(), self._sequence,
        )
        listeners = self._snapshot_listeners
        if listeners:
            snapshot = self._build(pending)
            self._snapshot = snapshot
            self._pending = None
        else:
            self._pending = pending
        if timed_received_at is not None:
            self.latency.add((time.time() * 1000.0 - timed_received_at) * 1000.0)
        if listeners:
            for listener in listeners:
                listener(snapshot)

    def _build(self, pending: tuple[object, ...]) -> Snapshot:
        """The Snapshot of what `publish` captured (see `snapshot`)."""
        (mode, state, message, retry_in, retry_at, progress, total, price, previous_price,
         latest, exchange_time, provisional, rows, confluence, last_confirmed, last_signal,
         last_signal_ago, trigger_at, closed_count, recent_closed, forming, recent_signals,
         values, percentiles, sequence) = pending
        return _new_snapshot(
            exchange=self.exchange,
            symbol=self.symbol,
            interval=self.interval,
            mode=mode,  # type: ignore[arg-type]
            state=state,  # type: ignore[arg-type]
            state_message=message,  # type: ignore[arg-type]
            retry_in=retry_in,  # type: ignore[arg-type]
            retry_at=retry_at,  # type: ignore[arg-type]
            bootstrap_progress=progress,  # type: ignore[arg-type]
            bootstrap_total=total,  # type: ignore[arg-type]
            price=price,  # type: ignore[arg-type]
            previous_price=previous_price,  # type: ignore[arg-type]
            candle_open=latest.open if latest is not None else None,  # type: ignore[attr-defined]
            candle_open_time=latest.open_time if latest is not None else None,  # type: ignore[attr-defined]
            candle_close_time=latest.close_time if latest is not None else None,  # type: ignore[attr-defined]
            exchange_time=exchange_time,  # type: ignore[arg-type]
            provisional=provisional,  # type: ignore[arg-type]
            rows=rows,  # type: ignore[arg-type]
            confluence=confluence,  # type: ignore[arg-type]
            last_confirmed=last_confirmed,  # type: ignore[arg-type]
            last_signal=last_signal,  # type: ignore[arg-type]
            last_signal_ago=last_signal_ago,  # type: ignore[arg-type]
            labels=self.labels,
            last_triggers=self._last_triggers(trigger_at, closed_count),  # type: ignore[arg-type]
            recent_candles=(recent_closed + (forming,)  # type: ignore[operator]
                            if forming is not None else recent_closed),  # type: ignore[arg-type]
            recent_signals=recent_signals,  # type: ignore[arg-type]
            metrics=_metrics_of(values, percentiles),  # type: ignore[arg-type]
            sequence=sequence,  # type: ignore[arg-type]
        )

