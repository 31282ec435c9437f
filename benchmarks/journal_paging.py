"""Journal paging: how long a page of the Journal screen takes to read from a 100k-row journal.

Builds a journal of `--rows` signals (default 100,000; realistic rows from
tests/journal_entries.py, three symbols, BUY and SELL, four modes) in a temporary directory,
then times what the Journal screen does: the first page, pages deep in the history by keyset
(`id < ?`, what `n` does), a filtered page (symbol prefix + action, what `/` does), the
count shown in the status line, and one signal's details by id. Each figure is the median
and the worst of `--repeat` runs, in milliseconds.

Prints JSON. A keyset page costs the same at row 99,900 as at row 100; compare
`deep_page_ms` with `first_page_ms`, and `offset_page_ms` (LIMIT/OFFSET, what keyset
paging avoids) with both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptoai_tui.journal.store import JournalFilter, JournalStore  # noqa: E402
from tests.journal_entries import entry  # noqa: E402

PAGE = 100


def _timed(call: Callable[[], object], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median": round(statistics.median(samples), 3), "max": round(max(samples), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite"
        start = time.perf_counter()
        with JournalStore(path) as store:
            symbols, modes = ("BTCUSDT", "ETHUSDT", "SOLUSDT"), ("majority", "all", "any", "3")
            for first in range(0, args.rows, 20_000):
                store.add([entry(n, symbol=symbols[n % 3], action="SELL" if n % 2 else "BUY", mode=modes[n % 4])
                           for n in range(first, min(args.rows, first + 20_000))])
        build_s = time.perf_counter() - start

        with JournalStore(path) as store:
            newest = store.page(limit=1)[0].id
            deep_before = newest - (args.rows - 2 * PAGE)  # a page near the oldest rows
            eth_buys = JournalFilter(symbol_prefix="ETH", action="BUY")
            result = {
                "rows": store.count(),
                "page_size": PAGE,
                "build_s": round(build_s, 2),
                "first_page_ms": _timed(lambda: store.page(limit=PAGE), args.repeat),
                "deep_page_ms": _timed(lambda: store.page(before_id=deep_before, limit=PAGE), args.repeat),
                "filtered_page_ms": _timed(lambda: store.page(eth_buys, limit=PAGE), args.repeat),
                "filtered_deep_page_ms": _timed(
                    lambda: store.page(eth_buys, before_id=deep_before, limit=PAGE), args.repeat),
                "count_ms": _timed(lambda: store.count(), args.repeat),
                "filtered_count_ms": _timed(lambda: store.count(eth_buys), args.repeat),
                "details_ms": _timed(lambda: store.get(deep_before), args.repeat),
                "offset_page_ms": _timed(lambda: store._db.execute(  # noqa: SLF001 - the contrast
                    "SELECT * FROM signals ORDER BY id DESC LIMIT ? OFFSET ?", (PAGE, args.rows - 2 * PAGE)
                ).fetchall(), args.repeat),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
