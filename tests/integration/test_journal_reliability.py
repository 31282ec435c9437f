"""The journal under the failures users meet: a killed process, two writers at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptoai_tui.journal.store import JournalStore

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 60.0  # a hang guard, not a speed requirement


def _writer(path: Path, count: int, session: str, first: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.journal_writer_process", str(path), str(count), session, str(first)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_signals_acknowledged_before_a_sigkill_are_all_in_a_journal_that_opens_clean(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    proc = _writer(path, 100_000, "killed")
    acked: list[int] = []
    deadline = time.monotonic() + DEADLINE_S
    assert proc.stdout is not None
    while len(acked) < 400 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, f"the writer process ended early: {proc.stderr.read() if proc.stderr else ''}"
        if line.startswith("ack "):
            acked.append(int(line.split()[1]))
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: it still has ~99,600 entries to write
    proc.wait(timeout=DEADLINE_S)
    assert proc.returncode == -signal.SIGKILL and len(acked) >= 400

    with JournalStore(path) as store:
        assert store.integrity_ok()
        stored = {row.entry.open_time for row in store.iter_all()}
        assert set(acked) <= stored
        assert store.count() < 100_000  # it really was killed mid-stream
        # and the journal keeps working after the crash
        from tests.journal_entries import entry

        assert store.add([entry(200_000)]) == 1


def test_two_processes_journal_at_once_without_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    JournalStore(path).close()  # created (and migrated) once, as the first session would
    first, second = _writer(path, 1500, "app"), _writer(path, 1500, "signals", first=1500)
    outputs = [proc.communicate(timeout=DEADLINE_S) for proc in (first, second)]
    for proc, (out, err) in zip((first, second), outputs):
        assert proc.returncode == 0, err
        assert "locked" not in err and out.rstrip().endswith("done")
        assert out.count("ack ") == 1500
    with JournalStore(path) as store:
        assert store.count() == 3000
        assert {row.entry.session_id for row in store.iter_all()} == {"app", "signals"}
