"""The live screen's top lines: where the data comes from, whether it is flowing, how fast."""

from __future__ import annotations

import time

from textual.content import Content
from textual.widgets import Static

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.confluence import mode_label
from cryptoai_tui.tui.formatting import format_count, format_duration, format_lag, format_latency
from cryptoai_tui.tui.session import LiveSession

_STATE_LOOK: dict[ConnectionState, tuple[str, str, str]] = {
    # state: (symbol, word, style)
    ConnectionState.CONNECTING: ("…", "connecting", "$warning"),
    ConnectionState.BOOTSTRAPPING: ("…", "loading history", "$warning"),
    ConnectionState.LIVE: ("●", "live", "$success"),
    ConnectionState.STALLED: ("◐", "stalled", "$warning"),
    ConnectionState.RECONNECTING: ("↻", "reconnecting", "$warning"),
    ConnectionState.ERROR: ("✖", "error", "$error"),
    ConnectionState.STOPPED: ("■", "stopped", "$text-muted"),
}


_TROUBLE_TITLES = {
    ConnectionState.RECONNECTING: "Cannot reach the exchange; retrying",
    ConnectionState.STALLED: "The feed went quiet",
    ConnectionState.ERROR: "The exchange refused or failed; retrying",
    ConnectionState.CONNECTING: "Cannot reach the exchange; retrying",
    ConnectionState.BOOTSTRAPPING: "Cannot load the history; retrying",
}


def feed_trouble(snapshot: Snapshot) -> str | None:
    """A title for what is wrong with the feed, or None while it is healthy.

    A feed that is connecting or loading history and waiting to retry is in trouble too:
    with no network the REST bootstrap fails long before any socket does.
    """
    state = snapshot.state
    if state in (ConnectionState.RECONNECTING, ConnectionState.STALLED, ConnectionState.ERROR):
        return _TROUBLE_TITLES[state]
    if state in (ConnectionState.CONNECTING, ConnectionState.BOOTSTRAPPING) and snapshot.retry_in is not None:
        return _TROUBLE_TITLES[state]
    return None


def state_reason(snapshot: Snapshot) -> str:
    """The feed's reason; the feed carries the retry time as data, never in this text."""
    return snapshot.state_message


def retry_left(snapshot: Snapshot, now: float | None = None) -> float | None:
    """Seconds until the feed's next attempt, counting down from `retry_at` (epoch s);
    `retry_in` as given when the snapshot has no absolute time."""
    if snapshot.retry_at is None:
        return snapshot.retry_in
    return max(0.0, snapshot.retry_at - (time.time() if now is None else now))


def state_line(snapshot: Snapshot | None, failure: str | None = None, now: float | None = None) -> Content:
    """`● live`, `↻ reconnecting in 4s: connection refused`, `… loading history 120/500`."""
    if failure:
        return Content.assemble(("✖ stopped: ", "bold $error"), (failure, "$error"))
    if snapshot is None:
        return Content.styled("… starting the feed", "$warning")
    mark, word, style = _STATE_LOOK[snapshot.state]
    text = f"{mark} {word}"
    if snapshot.state is ConnectionState.BOOTSTRAPPING and snapshot.bootstrap_total:
        text += f" {snapshot.bootstrap_progress}/{snapshot.bootstrap_total}"
    left = retry_left(snapshot, now)
    if snapshot.state is ConnectionState.RECONNECTING and left is not None:
        text += f" in {format_duration(left)}"
    elif feed_trouble(snapshot) and left is not None:
        text += f", retry in {format_duration(left)}"
    parts: list[str | tuple[str, str]] = [(text, f"bold {style}")]
    if snapshot.state_message and snapshot.state is not ConnectionState.LIVE:
        parts.append((f": {state_reason(snapshot)}", style))
    return Content.assemble(*parts)


def metrics_line(snapshot: Snapshot | None) -> Content:
    if snapshot is None:
        return Content.styled("waiting for the first update", "$text-muted")
    m = snapshot.metrics
    muted = "$text-muted"
    return Content.assemble(
        ("latency ", muted), (f"p50 {format_latency(m.latency_p50_us)}", "bold"),
        (" p99 ", muted), (format_latency(m.latency_p99_us), "bold"),
        ("  lag ", muted), (format_lag(m.exchange_lag_ms), "bold"),
        ("  msgs ", muted), (format_count(m.messages_received), "bold"),
        ("/", muted), (format_count(m.messages_processed), "bold"),
        ("  reconnects ", muted), (str(m.reconnects), "bold"),
        ("  backfilled ", muted), (str(m.candles_backfilled), "bold"),
        *(((f"  errors {m.strategy_errors}", "bold $error"),) if m.strategy_errors else ()),
    )


class LiveHeader(Static):
    """Two lines; redrawn only when their text changes."""

    def __init__(self, session: LiveSession, exchange_title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session = session
        self._exchange_title = exchange_title
        self._shown: Content | None = None
        self._last: tuple[Snapshot | None, bool, str | None] = (None, False, None)

    def on_mount(self) -> None:
        # A retry countdown must count down even when no new snapshot arrives (while the
        # exchange is unreachable none does): redraw from the last one while it waits.
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        snapshot, paused, failure = self._last
        if snapshot is not None and snapshot.retry_at is not None:
            self.show(snapshot, paused=paused, failure=failure)

    def show(self, snapshot: Snapshot | None, *, paused: bool = False, failure: str | None = None) -> None:
        self._last = (snapshot, paused, failure)
        mode = mode_label(snapshot.mode if snapshot is not None else self._session.mode,
                          len(self._session.strategies))
        title = Content.assemble(
            (f" {self._exchange_title} ", "bold"), ("· ", "$text-muted"),
            (self._session.symbol, "bold $accent"), (" · ", "$text-muted"),
            (self._session.interval, "bold"), (" · ", "$text-muted"), (mode, "bold"),
            ("   ", ""), state_line(snapshot, failure),
            *((("   ⏸ PAUSED (p resumes)", "bold $warning"),) if paused else ()),
        )
        content = Content("\n").join([title, Content(" ") + metrics_line(snapshot)])
        if self._shown is None or not content.is_same(self._shown):
            self._shown = content
            self.update(content)
