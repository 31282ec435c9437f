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
from typing import Callable

from cryptoai_tui.engine.latency import LatencyWindow
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
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


def metrics(
    counters: FeedCounters, counts: EngineCounts, strategy_errors: int,
    latency: LatencyWindow, lag_ms: float | None,
) -> Metrics:
    """One Metrics from the source's counters and the engine's, with no guessing of types."""
    p50, p99 = latency.percentiles()
    if lag_ms is not None and not math.isfinite(lag_ms):
        lag_ms = None
    return Metrics(
        latency_p50_us=p50,
        latency_p99_us=p99,
        exchange_lag_ms=lag_ms,
        messages_received=counts.received,
        messages_processed=counts.processed,
        messages_coalesced=counters.forming_coalesced + counts.superseded,
        messages_malformed=counters.messages_malformed,
        reconnects=counters.reconnects,
        candles_backfilled=counters.candles_backfilled,
        duplicates_dropped=counters.duplicates_dropped + counters.out_of_order_dropped + counts.stale,
        strategy_errors=strategy_errors,
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
        self._trigger_at: list[tuple[Action, int, int] | None] = []  # (action, open_time, closed count)
        self.last_triggers: tuple[LastTrigger | None, ...] = ()
        self.last_signal: ConfirmedSignal | None = None
        self._signal_at = 0
        self._sequence = 0
        #: the newest Snapshot; set before the listeners hear of it. The placeholder is
        #: replaced by the engine's first publish, in its constructor.
        self.snapshot = Snapshot(exchange, symbol, interval, ConfluenceMode.MAJORITY, ConnectionState.CONNECTING)

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
        if len(trigger_at) != len(signal.rows):
            trigger_at[:] = [None] * len(signal.rows)
        for index, row in enumerate(signal.rows):
            trigger = row.signal.trigger
            if trigger is not None:
                trigger_at[index] = (trigger, signal.open_time, count)
        self.last_triggers = tuple(
            None if seen is None else LastTrigger(seen[0], seen[1], count - seen[2]) for seen in trigger_at
        )
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
        metrics: Callable[[], Metrics],
        timed_received_at: float | None = None,
    ) -> Snapshot:
        """Build the next Snapshot, keep it as the newest and hand it to the listeners.

        `timed_received_at` is when the update being shown arrived (ms since the epoch); its
        receive-to-publish time is recorded as latency (None: nothing to time, e.g. history
        or a mode switch). The latency sample lands after the Snapshot is built, so the
        first one describes the next publish, never this one.
        """
        self._sequence += 1
        latest = forming or last_closed
        recent = self._recent_closed_tuple + (forming,) if forming is not None else self._recent_closed_tuple
        snapshot = Snapshot(
            exchange=self.exchange,
            symbol=self.symbol,
            interval=self.interval,
            mode=mode,
            state=feed.state,
            state_message=feed.message,
            retry_in=feed.retry_in,
            retry_at=feed.retry_at,
            bootstrap_progress=feed.bootstrap_progress,
            bootstrap_total=feed.bootstrap_total,
            price=price,
            previous_price=previous_price,
            candle_open=latest.open if latest is not None else None,
            candle_open_time=latest.open_time if latest is not None else None,
            candle_close_time=latest.close_time if latest is not None else None,
            exchange_time=exchange_time,
            provisional=provisional,
            rows=rows,
            confluence=confluence,
            last_confirmed=self.last_confirmed,
            last_signal=self.last_signal,
            last_signal_ago=self._closed_count - self._signal_at if self.last_signal is not None else None,
            labels=self.labels,
            last_triggers=self.last_triggers,
            recent_candles=recent,
            recent_signals=self._recent_signals_tuple,
            metrics=metrics(),
            sequence=self._sequence,
        )
        self.snapshot = snapshot
        if timed_received_at is not None:
            self.latency.add((time.time() * 1000.0 - timed_received_at) * 1000.0)
        for listener in self._snapshot_listeners:
            listener(snapshot)
        return snapshot
