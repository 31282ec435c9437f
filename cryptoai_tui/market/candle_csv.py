"""The candle CSV format, read and written once for every layer that loads candles from a file.

Format: `open_time_ms,open,high,low,close,volume`, one candle per row, oldest first
(tests/data/candles, shared/data/binance_spot). `signals --replay`, the simulator's
`--replay` and the tests all read these files; they differ only in what they demand of a
file beyond being candles (a header, spacing that matches an interval, at least two rows),
so everything that makes a row a candle lives here, with ONE error type, `CandleFileError`,
whose message names the file, the line and the fix. Callers add their own policy and raise
the same type. The only I/O is reading the one local file the caller names.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from cryptoai_tui.market.candle import Candle
from cryptoai_tui.market.interval import Interval

CSV_COLUMNS: tuple[str, ...] = ("open_time_ms", "open", "high", "low", "close", "volume")
_COLUMNS_TEXT = ",".join(CSV_COLUMNS)


class CandleFileError(ValueError):
    """A candle CSV that cannot be used; the message is a sentence naming file, line and fix.

    `path` is the file; `line` the 1-based line at fault, or None when the file as a whole
    is (missing, empty, wrong spacing).
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.line = line


@dataclass(frozen=True, slots=True)
class CandleFile:
    """The candles of one file, oldest first, with where each came from.

    `lines` and `cells` run parallel to `candles`: the file line (for a caller's own error
    sentences) and the cells as written (a caller may read the file's precision from them).
    """

    path: Path
    candles: tuple[Candle, ...]
    lines: tuple[int, ...]
    cells: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.candles)

    @property
    def spacing_ms(self) -> int | None:
        """The smallest step between open times (the file's interval), None below 2 candles."""
        opens = [c.open_time for c in self.candles]
        return min((b - a for a, b in zip(opens, opens[1:])), default=None)


def read_candle_csv(path: str | Path, interval: Interval | None = None, *,
                    require_header: bool = False) -> CandleFile:
    """Every candle of `path`, closed, in strictly increasing open-time order.

    Close times follow `interval` (calendar months included); without one they follow the
    file's own spacing, which then needs at least two candles. A header row is optional
    unless `require_header`, in which case it must be exactly `CSV_COLUMNS`. Blank lines
    are skipped. Refused with CandleFileError: a missing or unreadable file, a row with
    under six fields or a non-number, NaN or infinity (the engine's indicators would carry
    it silently to every later signal), an impossible candle (low above open or close, high
    below them, a price <= 0, a negative volume), a row not after the previous one, and a
    file with no candles.
    """
    file = Path(path)
    try:
        handle = file.open(newline="")
    except FileNotFoundError:
        raise CandleFileError(file, f"Candle file {str(file)!r} does not exist; check the path.") from None
    except OSError as error:
        raise CandleFileError(
            file, f"Cannot open candle file {str(file)!r}: {error.strerror or error}.") from None
    with handle:
        try:
            records = list(csv.reader(handle))
        except (csv.Error, UnicodeDecodeError) as error:
            raise CandleFileError(file, f"{file.name} is not a readable CSV file ({error}).") from None
    return _parse(file, records, interval, require_header)


def write_candle_csv(path: str | Path, candles: Iterable[Candle]) -> int:
    """Write candles in this format, with the header; returns how many rows were written.
    Prices are written with `repr`, so reading the file back gives the same floats."""
    count = 0
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for candle in candles:
            writer.writerow([candle.open_time, repr(candle.open), repr(candle.high), repr(candle.low),
                             repr(candle.close), repr(candle.volume)])
            count += 1
    return count


def _parse(file: Path, records: Sequence[Sequence[str]], interval: Interval | None,
           require_header: bool) -> CandleFile:
    name = file.name
    rows: list[tuple[int, tuple[str, ...], int, tuple[float, float, float, float, float]]] = []
    first = next((i for i, cells in enumerate(records) if not _blank(cells)), None)
    for index, cells in enumerate(records):
        line = index + 1
        if _blank(cells):
            continue
        if index == first:
            if require_header:
                if tuple(cell.strip() for cell in cells[:6]) != CSV_COLUMNS:
                    raise CandleFileError(
                        file, f"{name} must start with the header {_COLUMNS_TEXT}; "
                        f"found {','.join(cells) or 'nothing'}.", line)
                continue
            if not cells[0].strip().lstrip("-").isdigit():
                continue  # the optional header
        rows.append(_row(file, line, cells, rows[-1][2] if rows else None))
    if require_header and first is None:
        raise CandleFileError(file, f"{name} must start with the header {_COLUMNS_TEXT}; found nothing.")
    if not rows:
        raise CandleFileError(file, f"{name} has no candles; expected rows of {_COLUMNS_TEXT}.")
    if interval is None:
        if len(rows) < 2:
            raise CandleFileError(
                file, f"{name} needs at least 2 candles to tell its interval; it has {len(rows)}.")
        step = min(b[2] - a[2] for a, b in zip(rows, rows[1:]))
        closes = [t + step - 1 for _, _, t, _ in rows]
    else:
        closes = [interval.close_time(t) for _, _, t, _ in rows]
    candles = tuple(Candle(t, *ohlcv, close_time=close, closed=True)
                    for (_, _, t, ohlcv), close in zip(rows, closes))
    return CandleFile(file, candles, tuple(r[0] for r in rows), tuple(r[1] for r in rows))


def _row(file: Path, line: int, cells: Sequence[str], previous_open: int | None,
         ) -> tuple[int, tuple[str, ...], int, tuple[float, float, float, float, float]]:
    where = f"{file.name} line {line}"
    quoted = ",".join(cells[:6])
    if len(cells) < 6:
        raise CandleFileError(file, f"{where} has {len(cells)} fields; each row needs {_COLUMNS_TEXT}.", line)
    try:
        open_time = int(cells[0])
        o, h, l, c, v = (float(cell) for cell in cells[1:6])
    except ValueError:
        raise CandleFileError(
            file, f"{where} is not numeric ({quoted}); each row needs {_COLUMNS_TEXT}.", line) from None
    if not all(math.isfinite(x) for x in (o, h, l, c, v)):
        raise CandleFileError(file, f"{where} contains NaN or infinity; remove or repair that row.", line)
    if not (0 < l <= min(o, c) and max(o, c) <= h and v >= 0):
        raise CandleFileError(
            file, f"{where} is not a valid candle (need 0 < low <= open, close <= high and "
            f"volume >= 0): {quoted!r}; repair or remove that row.", line)
    if previous_open is not None and open_time <= previous_open:
        raise CandleFileError(
            file, f"{where} is not in time order (open time {open_time} follows {previous_open}); "
            "sort the file by open_time_ms and remove repeated rows.", line)
    return line, tuple(cells), open_time, (o, h, l, c, v)


def _blank(cells: Sequence[str]) -> bool:
    return not cells or all(not cell.strip() for cell in cells)
