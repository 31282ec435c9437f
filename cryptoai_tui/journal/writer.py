"""The journal's one writer: a thread with a bounded queue, so the engine never waits on disk.

`submit` only appends to a queue (sub-microsecond, never blocks); the thread commits what has
queued in one transaction at a time, so a burst of signals costs one fsync-free commit, not one
per signal. A signal is *acknowledged* once its transaction has committed (`written`, and the
`on_written` callback): from then on a killed process does not lose it. If the queue is full
(the disk has stalled for thousands of signals) new items are refused and counted, never
silently dropped, and the front end says so.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

from cryptoai_tui.journal.entry import DeliveryRecord, JournalEntry
from cryptoai_tui.journal.store import Grade, JournalError, JournalStore

log = logging.getLogger(__name__)

JournalItem = Union[JournalEntry, Grade, DeliveryRecord]
_STOP = object()


@dataclass(frozen=True, slots=True)
class WriterCounters:
    submitted: int = 0
    written: int = 0  # entries committed as new rows
    repeated: int = 0  # entries already in the journal (a restart replaying a candle)
    graded: int = 0
    refused: int = 0  # the queue was full
    failed: int = 0  # a transaction failed (the error is in `last_error`)
    last_error: str = ""


class JournalWriter:
    """Owns the journal's write connection on its own thread; start with `start()`."""

    def __init__(
        self,
        path: Path | str,
        *,
        capacity: int = 10_000,
        batch: int = 500,
        on_written: Callable[[list[JournalEntry]], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
        self._batch = batch
        self._on_written = on_written
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._counts = {"submitted": 0, "written": 0, "repeated": 0, "graded": 0, "refused": 0, "failed": 0}
        self._last_error = ""
        self._ready = threading.Event()
        self._open_error: JournalError | None = None

    def start(self) -> JournalWriter:
        """Open the file on the writer thread; raises JournalError now if it cannot be used."""
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            raise self._open_error
        return self

    def submit(self, item: JournalItem) -> bool:
        """Queue an entry, a grade or a delivery ledger line; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._count("refused")
            return False
        self._count("submitted")
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop. Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    def __enter__(self) -> JournalWriter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def counters(self) -> WriterCounters:
        with self._lock:
            return WriterCounters(**self._counts, last_error=self._last_error)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _run(self) -> None:
        try:
            store = JournalStore(self.path)
        except JournalError as error:
            self._open_error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            stopping = False
            while not stopping:
                items = [self._queue.get()]
                while len(items) < self._batch:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if _STOP in items:
                    stopping = True
                    items = [item for item in items if item is not _STOP]
                if items:
                    self._write(store, items)
        finally:
            store.close()

    def _write(self, store: JournalStore, items: list[object]) -> None:
        entries = [item for item in items if isinstance(item, JournalEntry)]
        grades = [item for item in items if isinstance(item, Grade)]
        deliveries = [item for item in items if isinstance(item, DeliveryRecord)]
        try:
            new = store.add(entries) if entries else 0
            if grades:
                store.grade(grades)
            if deliveries:
                store.record_deliveries(deliveries)
        except Exception as error:  # a full disk or a damaged file: say it, keep the app alive
            log.warning("Journal write failed: %s", error)
            with self._lock:
                self._counts["failed"] += 1
                self._last_error = f"Could not write to the journal {self.path}: {error}"
            return
        self._count("written", new)
        self._count("repeated", len(entries) - new)
        self._count("graded", len(grades))
        if entries and self._on_written is not None:
            self._on_written(entries)
