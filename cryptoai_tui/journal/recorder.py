"""The journal's hook into a live session: confirmed signals in, journal entries and grades out.

A `JournalRecorder` listens to one engine (`engine.add_listener`), turns every confirmed BUY or
SELL into a `JournalEntry` (each strategy's trigger, stance and values, the live/history flag,
the session id, the app version) and grades earlier signals as later candles close (+1/+5/+20).
It only ever *submits* to the `JournalWriter`'s bounded queue, so the engine never waits on
disk; the writer thread does the SQLite work.

`open_recorder` is what a front end calls (`signals`, the app's live session): it opens the
writer (a bad file is a `JournalError` with its sentence, before the session starts), picks up
signals of this stream still waiting for a grade (a restart keeps grading them), and closes
the writer, flushing the queue, when the session ends.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from cryptoai_tui.journal.entry import JournalEntry, StrategyVerdict
from cryptoai_tui.journal.grading import StreamGrader
from cryptoai_tui.journal.store import JournalStore
from cryptoai_tui.journal.writer import JournalWriter
from cryptoai_tui.market.interval import Interval

if TYPE_CHECKING:
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot

_ACTIONS = ("BUY", "SELL")


def new_session_id() -> str:
    """A short random id that tells one run's entries from another's."""
    return uuid.uuid4().hex[:12]


def _app_version() -> str:
    from cryptoai_tui.version import __version__

    return __version__


def _finite(values: object) -> dict[str, float]:
    """A strategy's values the journal can store as JSON (NaN/inf are left out, not faked)."""
    out: dict[str, float] = {}
    for key, value in dict(values).items():  # type: ignore[call-overload]
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[str(key)] = number
    return out


def journal_entry(
    signal: ConfirmedSignal, *, exchange: str, symbol: str, interval: str,
    history: bool, session_id: str, app_version: str,
) -> JournalEntry | None:
    """The entry for `signal`, or None when it is not a BUY or SELL (a HOLD is not a signal),
    or while a chosen strategy is still warming up (what `signals` prints, the journal keeps)."""
    confluence = signal.confluence
    action = confluence.action.value
    if action not in _ACTIONS or not math.isfinite(signal.close):
        return None
    if any(row.signal.action.value == "WARMUP" for row in signal.rows):
        return None
    strategies = {
        row.name: StrategyVerdict(
            row.signal.action.value, row.signal.stance.value,
            float(row.signal.confidence) if math.isfinite(row.signal.confidence) else 0.0,
            _finite(row.signal.values),
        )
        for row in signal.rows
    }
    return JournalEntry(
        exchange=exchange, symbol=symbol, interval=interval, open_time=signal.open_time,
        close=signal.close, mode=str(confluence.mode.value),
        action=action, confidence=float(confluence.confidence) if math.isfinite(confluence.confidence) else 0.0,
        reason=confluence.reason, triggered_by=tuple(confluence.triggered_by),
        confirmed_by=tuple(confluence.confirmed_by), opposed_by=tuple(confluence.opposed_by),
        strategies=strategies, history=history, session_id=session_id, app_version=app_version,
    )


class JournalRecorder:
    """Listens to one engine and feeds its writer; every call only queues (microseconds)."""

    def __init__(
        self, writer: JournalWriter, *, exchange: str, symbol: str, interval: Interval,
        session_id: str, app_version: str, all_history: bool = False,
    ) -> None:
        """`all_history`: every signal is from history (a CSV replay), whatever the feed says."""
        self.writer = writer
        self.exchange, self.symbol, self.interval = exchange, symbol, interval
        self.session_id, self.app_version = session_id, app_version
        self._all_history = all_history
        self._live = False
        self._grader = StreamGrader(exchange, symbol, interval)
        self.submitted = 0

    def resume(self, ungraded: list[tuple[int, float]]) -> None:
        """Keep grading signals an earlier session stored but could not finish grading."""
        for open_time, close in ungraded:
            self._grader.add_signal(open_time, close)

    def attach(self, engine: RealtimeStrategyEngine) -> Callable[[], None]:
        """Listen to `engine`; returns the function that stops listening."""
        return engine.add_listener(on_snapshot=self.on_snapshot, on_confirmed=self.on_confirmed)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        # Live once the feed says so: candles confirmed before that were the start-up history
        self._live = snapshot.state.value == "live"

    def on_confirmed(self, signal: ConfirmedSignal) -> None:
        for grade in self._grader.on_close(signal.open_time, signal.close):
            self.writer.submit(grade)
        entry = journal_entry(
            signal, exchange=self.exchange, symbol=self.symbol, interval=self.interval.name,
            history=self._all_history or not self._live, session_id=self.session_id,
            app_version=self.app_version,
        )
        if entry is None:
            return
        self._grader.add_signal(entry.open_time, entry.close)
        if self.writer.submit(entry):
            self.submitted += 1


@contextlib.contextmanager
def open_recorder(
    path: Path | str, engine: RealtimeStrategyEngine, *, all_history: bool = False,
    session_id: str | None = None, writer_capacity: int = 10_000,
) -> Iterator[JournalRecorder]:
    """Journal `engine`'s confirmed signals into `path` while the block runs.

    Raises JournalError (its sentence names the file) before anything runs when the file
    cannot be used. On the way out the listener is removed and the queue is written.
    """
    with JournalStore(path) as store:  # opens (and migrates) the file here, where errors are said
        ungraded = store.ungraded(engine.exchange, engine.symbol, engine.interval.name)
    writer = JournalWriter(path, capacity=writer_capacity).start()
    recorder = JournalRecorder(
        writer, exchange=engine.exchange, symbol=engine.symbol, interval=engine.interval,
        session_id=session_id or new_session_id(), app_version=_app_version(), all_history=all_history,
    )
    recorder.resume(ungraded)
    detach = recorder.attach(engine)
    try:
        yield recorder
    finally:
        detach()
        writer.close()
