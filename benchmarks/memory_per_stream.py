"""Memory per stream: resident bytes one 1,000-candle CandleSeries costs, at 1, 100 and 1,000.

A watchlist holds one series per stream, so this is the figure that scales. Each
measurement runs in a fresh interpreter: it imports what the layout needs and loads the
candles, reads its RSS, then builds N series of capacity 1,000, feeds each 2,100 real
closed candles (so every layout has slid and compacted at least once, as a live series has
after a day of 1m candles), sets a forming candle and takes a view that includes it, and
reads its RSS again. The figure is (after - before) / N.

Layouts measured in the same run:
- `series`: today's CandleSeries;
- `twice_capacity`: the layout before it (a 2 x capacity + 1 sliding buffer, close times per
  row), reproduced here so the baseline does not depend on git history;
- `pandas`: one DataFrame per stream (the series' `to_frame()` of the same window), what a
  pandas-based design would keep.

Prints JSON: per layout, per stream count, rss_bytes_per_stream and kib_per_stream, plus
the machine's load average at the start and the budget (64 KiB per stream at 1,000 streams).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "tests" / "data" / "candles" / "BTCUSDT-1h.csv"
CAPACITY = 1000
FEED = 2100
COUNTS = (1, 100, 1000)
LAYOUTS = ("series", "twice_capacity", "pandas")
BUDGET_KIB = 64

CHILD = r"""
import gc, json, os, sys
from dataclasses import replace
sys.path.insert(0, sys.argv[1])
layout, count, capacity, feed, csv_path = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
import numpy as np
from cryptoai_tui.market import CandleSeries, Interval
from cryptoai_tui.replay import read_candles_csv
if layout == "pandas":
    import pandas  # noqa: F401  (imported before the first reading, like the other layouts' numpy)

candles = read_candles_csv(csv_path, Interval.parse("1h"))[:feed]
forming = replace(candles[-1], open_time=candles[-1].open_time + 3_600_000,
                  close_time=candles[-1].close_time + 3_600_000, closed=False)


class TwiceCapacitySeries:
    # The storage of CandleSeries before the compact block: 2 x capacity + 1 rows, open and
    # close times as int64 arrays and OHLCV as a (5, rows) float64 array.
    def __init__(self, capacity):
        size = 2 * capacity + 1
        self.capacity = capacity
        self._time = np.zeros(size, dtype=np.int64)
        self._close_time = np.zeros(size, dtype=np.int64)
        self._values = np.zeros((5, size), dtype=np.float64)
        self._start = self._end = 0
        self._forming = None

    def append(self, c):
        if self._end >= 2 * self.capacity:
            n = self._end - self._start
            self._time[:n] = self._time[self._start:self._end]
            self._close_time[:n] = self._close_time[self._start:self._end]
            self._values[:, :n] = self._values[:, self._start:self._end]
            self._start, self._end = 0, n
        i = self._end
        self._time[i], self._close_time[i] = c.open_time, c.close_time
        self._values[:, i] = (c.open, c.high, c.low, c.close, c.volume)
        self._end += 1
        if self._end - self._start > self.capacity:
            self._start += 1
        return True

    def set_forming(self, c):
        self._forming = c

    def view(self, include_forming=False):
        end = self._end
        if include_forming and self._forming is not None:
            c = self._forming
            self._time[end], self._close_time[end] = c.open_time, c.close_time
            self._values[:, end] = (c.open, c.high, c.low, c.close, c.volume)
            end += 1
        return self._values[:, self._start:end]


def rss():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


gc.collect()
before = rss()
kept = []
for _ in range(count):
    if layout == "twice_capacity":
        series = TwiceCapacitySeries(capacity)
    else:
        series = CandleSeries(capacity)
    for candle in candles:
        series.append(candle)
    series.set_forming(forming)
    series.view(include_forming=True)
    kept.append(series.to_frame(include_forming=True) if layout == "pandas" else series)
gc.collect()
after = rss()
print(json.dumps({"rss_bytes_per_stream": (after - before) / count}))
"""


def measure(layout: str, count: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), layout, str(count), str(CAPACITY), str(FEED),
         str(CSV)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    per_stream = json.loads(result.stdout)["rss_bytes_per_stream"]
    return {"rss_bytes_per_stream": round(per_stream), "kib_per_stream": round(per_stream / 1024, 1)}


def main() -> int:
    report: dict[str, object] = {
        "capacity": CAPACITY,
        "candles_fed": FEED,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "budget_kib_per_stream_at_1000": BUDGET_KIB,
        "layouts": {
            layout: {str(count): measure(layout, count) for count in COUNTS}
            for layout in LAYOUTS
        },
    }
    at_1000 = report["layouts"]["series"]["1000"]["kib_per_stream"]  # type: ignore[index]
    report["within_budget"] = at_1000 <= BUDGET_KIB
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
