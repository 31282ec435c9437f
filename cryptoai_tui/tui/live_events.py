"""What the event log lists, found by comparing two snapshots.

The live screen samples snapshots at its frame rate and can skip many in between, so every
event is derived from something that survives skipping: counters (reconnects, backfills),
the current connection state, and the list of recent confirmed signals (every BUY and
SELL is listed; HOLDs are not).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.confluence import mode_label
from cryptoai_tui.strategies.signal import Action
from cryptoai_tui.tui.formatting import format_candle_time, format_clock, format_confidence, format_duration, format_price


FIRST_SIGNALS_SHOWN = 3


class EventKind(Enum):
    STATE = "state"
    RECONNECT = "reconnect"
    BACKFILL = "backfill"
    SIGNAL = "signal"
    MODE = "mode"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: EventKind
    text: str
    at_ms: int | None = None  # when it happened by the exchange's clock; None: when seen here
    interval: str | None = None  # the candle interval `at_ms` belongs to (how to write it)
    history: bool = False  # a verdict on a start-up history candle, not one made live


def snapshot_events(previous: Snapshot | None, current: Snapshot) -> list[LiveEvent]:
    """Events that happened between `previous` (None: nothing seen yet) and `current`."""
    events: list[LiveEvent] = []
    before_state = previous.state if previous is not None else None
    if current.state is not before_state:
        events.append(LiveEvent(EventKind.STATE, _state_text(current)))
    if previous is not None:
        reconnects = current.metrics.reconnects - previous.metrics.reconnects
        if reconnects > 0:
            # "reconnected" would claim a success the counter does not know about: it counts
            # connections lost (or attempts failed), each followed by a new attempt.
            total = current.metrics.reconnects
            text = f"reconnect #{total}" if reconnects == 1 else f"reconnects #{total - reconnects + 1}-#{total}"
            events.append(LiveEvent(EventKind.RECONNECT, text))
        backfilled = current.metrics.candles_backfilled - previous.metrics.candles_backfilled
        if backfilled > 0:
            plural = "s" if backfilled > 1 else ""
            events.append(LiveEvent(EventKind.BACKFILL, f"backfilled {backfilled} missed candle{plural}"))
        if current.mode is not previous.mode:
            label = mode_label(current.mode, len(current.rows))  # "3 of 11", not "3 OF N"
            events.append(LiveEvent(EventKind.MODE, f"confluence mode {label}"))
        errors = current.metrics.strategy_errors - previous.metrics.strategy_errors
        if errors > 0:
            failing = ", ".join(row.name for row in current.rows if row.error) or "a strategy"
            events.append(LiveEvent(EventKind.ERROR, f"strategy error in {failing}"))
    seen_until = previous.recent_signals[-1].open_time if previous and previous.recent_signals else None
    changes: list[LiveEvent] = []
    for signal in current.recent_signals:
        if seen_until is not None and signal.open_time <= seen_until:
            continue
        action = signal.confluence.action
        if action not in (Action.BUY, Action.SELL):
            # A HOLD is the absence of a signal: listing it buried the signals in noise.
            continue
        # Stamped with its candle's time: the history's verdicts arrive all at once, and
        # stamping them "now" made a week-old verdict look like it just happened.
        changes.append(LiveEvent(
            EventKind.SIGNAL,
            f"confirmed {action.value} {format_confidence(signal.confluence.confidence)} "
            f"on the {format_candle_time(signal.open_time, current.interval)} candle, "
            f"close {format_price(signal.close)}",
            at_ms=signal.open_time,
            interval=current.interval,
            history=signal.history,
        ))
    if seen_until is None:
        # The first signals arrive with the history: list the newest few, not the whole past.
        changes = changes[-FIRST_SIGNALS_SHOWN:]
    return events + changes


def _state_text(snapshot: Snapshot) -> str:
    """`reconnecting: Connection refused.`, without repeating a state the sentence names."""
    word = snapshot.state.value
    message = snapshot.state_message.strip()
    if not message:
        return word
    text = message if message.lower().startswith(word) else f"{word}: {message}"
    if snapshot.retry_in is not None and snapshot.state is not ConnectionState.LIVE:
        # the feed gives the retry time as data; a log line states it as of its moment
        text += " (retrying now)" if snapshot.retry_in <= 0 else f" (retry in {format_duration(snapshot.retry_in)})"
    return text
