"""A process that journals signals as fast as it can and says which were acknowledged.

Run as `python -m tests.journal_writer_process PATH COUNT SESSION [FIRST]`; prints one line
`ack OPEN_TIME` per entry once its transaction has committed, and `done` at the end.
"""

from __future__ import annotations

import sys
import time

from cryptoai_tui.journal.writer import JournalWriter
from tests.journal_entries import entry


def main() -> None:
    path, count, session = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 0

    def acknowledged(entries: list) -> None:  # type: ignore[type-arg]
        sys.stdout.write("".join(f"ack {e.open_time}\n" for e in entries))
        sys.stdout.flush()

    with JournalWriter(path, capacity=100_000, batch=20, on_written=acknowledged) as writer:
        for n in range(first, first + count):
            while not writer.submit(entry(n, session=session)):
                time.sleep(0.001)
            if n % 50 == 0:
                time.sleep(0.002)  # a live session's signals trickle in
    print("done", flush=True)


if __name__ == "__main__":
    main()
