"""Where a backtest's candles come from: a CSV the user names, or the exchange's REST klines
through a local cache.

The cache is one candle CSV per exchange/symbol/interval under the user's cache directory
(platformdirs; `CRYPTOAI_TUI_CACHE_DIR` overrides), holding one contiguous run of closed
candles. A request inside that run reads only the file; one that reaches past it downloads
just the missing stretch before and/or after (paged, rate-limit aware: the feed's
HistoryClient) and writes the file back extended, so the next run is offline.
"""

from __future__ import annotations

import calendar
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TextIO

from cryptoai_tui.market.candle import Candle
from cryptoai_tui.market.candle_csv import CandleFileError, read_candle_csv, write_candle_csv
from cryptoai_tui.market.interval import Interval

if TYPE_CHECKING:
    from cryptoai_tui.wiring import SimulatorSettings

APP_NAME = "cryptoai-tui"
ENV_CACHE_DIR = "CRYPTOAI_TUI_CACHE_DIR"
Progress = Callable[[int, int], None]
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$")


def cache_dir() -> Path:
    """The candle cache directory (`CRYPTOAI_TUI_CACHE_DIR` overrides platformdirs')."""
    if env := os.environ.get(ENV_CACHE_DIR):
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_cache_path(APP_NAME) / "candles"


def cache_file(exchange: str, symbol: str, interval: Interval, root: Path | None = None) -> Path:
    return (root or cache_dir()) / f"{exchange}-{symbol}-{interval.name}.csv"


def parse_date(text: str, option: str) -> int:
    """`2024-01-01` or `2024-01-01T12:00` (UTC) as epoch ms; ValueError with a sentence."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"{option} {text!r} is not a date: write it as 2024-01-01 or 2024-01-01T12:00 (UTC).")
    year, month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
    try:
        stamp = calendar.timegm((year, month, day, hour, minute, 0))
        time.strptime(f"{year:04d}-{month:02d}-{day:02d}", "%Y-%m-%d")
        if hour > 23 or minute > 59:
            raise ValueError
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a real date and time.") from None
    return stamp * 1000


def read_replay(path: str | Path, interval: Interval, *, allow_gaps: bool = False) -> list[Candle]:
    """A backtest's CSV: candles in strictly increasing time (the reader checks that), every
    one exactly one interval after the one before. A gap would make every later indicator
    read a history that did not happen; the error names the first row after the hole."""
    file = read_candle_csv(path, interval)
    candles = file.candles
    if allow_gaps:
        return list(candles)
    for previous, candle, line in zip(candles, candles[1:], file.lines[1:]):
        expected = interval.next_open(previous.open_time)
        if candle.open_time != expected:
            raise CandleFileError(
                file.path,
                f"{file.path.name} line {line} opens at {_utc(candle.open_time)} but the {interval.name} "
                f"candle after {_utc(previous.open_time)} opens at {_utc(expected)}: the file has a gap "
                f"there (or is not {interval.name}); fill the gap, start the file after it, or pass "
                "--allow-gaps if the exchange really had no candles there (maintenance).",
                line,
            )
    return list(candles)


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


class ProgressBar:
    """A one-line progress bar on stderr, redrawn in place: what is being done, how far."""

    def __init__(self, label: str, out: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.out = out or sys.stderr
        self.width = width
        self._last = ""

    def __call__(self, done: int, total: int) -> None:
        share = min(1.0, done / total) if total > 0 else 0.0
        filled = int(round(share * self.width))
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        if line != self._last:
            self._last = line
            self.out.write(line)
            self.out.flush()

    def done(self) -> None:
        if self._last:
            self.out.write("\n")
            self.out.flush()
            self._last = ""


async def download(
    exchange: str,
    symbol: str,
    interval: Interval,
    start: int,
    end: int,
    *,
    ws_url: str | None = None,
    rest_url: str | None = None,
    simulator: SimulatorSettings | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
    notice: Callable[[str], None] | None = None,
    cache_key: str | None = None,
) -> list[Candle]:
    """Closed candles opening in [start, end) from the cache, downloading what it lacks.
    `cache_key` names the source in the file name (default the exchange)."""
    path = cache_file(cache_key or exchange, symbol, interval, cache)
    cached: list[Candle] = []
    if path.exists():
        try:
            cached = list(read_candle_csv(path, interval).candles)
        except CandleFileError:
            cached = []  # a damaged cache is refetched, not trusted
    pieces: list[tuple[int, int]] = []
    if cached:
        first, last = cached[0].open_time, cached[-1].open_time
        if start < first:
            pieces.append((start, first))
        if end > interval.next_open(last):
            pieces.append((interval.next_open(last), end))
    else:
        pieces.append((start, end))
    if pieces:
        fetched = await _fetch(exchange, symbol, interval, pieces, ws_url, rest_url, progress, notice,
                               simulator)
        merged = {c.open_time: c for c in cached}
        for candle in fetched:
            merged.setdefault(candle.open_time, candle)
        cached = [merged[t] for t in sorted(merged)]
        if cached:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            write_candle_csv(temporary, cached)
            temporary.replace(path)
    return [c for c in cached if start <= c.open_time < end]


async def _fetch(
    exchange: str,
    symbol: str,
    interval: Interval,
    pieces: Sequence[tuple[int, int]],
    ws_url: str | None,
    rest_url: str | None,
    progress: Progress | None,
    notice: Callable[[str], None] | None,
    simulator: SimulatorSettings | None = None,
) -> list[Candle]:
    import httpx

    from cryptoai_tui.feed.history import HistoryClient
    from cryptoai_tui.wiring import market_kind_of, open_protocol

    step = interval.ms if not interval.is_calendar else 31 * 86_400_000
    total = sum(max(0, (stop - begin) // step) for begin, stop in pieces)
    out: list[Candle] = []
    async with open_protocol(exchange, ws_url, rest_url, simulator=simulator,
                             market_kind=market_kind_of(symbol)) as protocol:
        async with httpx.AsyncClient() as http:
            client = HistoryClient(
                protocol, http,
                report=(lambda message, wait: notice(f"{message} (retrying in {wait:.0f} s)"))
                if notice else None,
            )
            now = await client.server_time()
            done = 0
            for begin, stop in pieces:
                upto = min(stop, now)
                if upto <= begin:
                    continue

                def counted(have: int, _total: int, base: int = done) -> None:
                    if progress is not None:
                        progress(base + have, total)

                # The feed's own paging: windows of the exchange's page size, closed rows by
                # the exchange's clock (here: closed before the span's end).
                rows = await client._closed_between(symbol, interval, begin, upto, progress=counted, total=0)
                out.extend(row for row in rows if begin <= row.open_time < stop)
                done += len(rows)
    if progress is not None:
        progress(total, total)
    return out
