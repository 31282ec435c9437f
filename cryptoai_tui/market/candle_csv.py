"""The candle CSV format, read once for every layer that loads candles from a file.

Format: `open_time_ms,open,high,low,close,volume`, one candle per row, oldest first. Both the
replay source (`signals --replay`) and the simulator serve these files; they differ in what
they demand of a file (a header, spacing, sane prices), not in how a row reads, so the row
grammar lives here and each caller words its own errors. Pure: callers open the file, this
module only reads records already split by `csv.reader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Iterator, Sequence

CSV_COLUMNS: tuple[str, ...] = ("open_time_ms", "open", "high", "low", "close", "volume")


class RowProblem(str, Enum):
    """Why a record is not a candle row."""

    TOO_FEW_FIELDS = "too few fields"
    NOT_NUMERIC = "not numeric"


class CandleRowError(ValueError):
    """A record that is not a candle row; callers turn it into their own sentence."""

    def __init__(self, line: int, cells: Sequence[str], problem: RowProblem) -> None:
        super().__init__(f"line {line}: {problem.value}")
        self.line = line
        self.cells = tuple(cells)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CandleRow:
    """One parsed row; `cells` keeps the text so callers can quote it or read its precision."""

    line: int
    cells: tuple[str, ...]
    open_time: int
    #: open, high, low, close, volume
    ohlcv: tuple[float, float, float, float, float]


def is_header(cells: Sequence[str]) -> bool:
    """True for a first record that is not a row of numbers (the optional header)."""
    return not cells[0].strip().lstrip("-").isdigit()


def candle_rows(
    records: Iterable[Sequence[str]], *, first_line: int = 1, optional_header: bool = False
) -> Iterator[CandleRow]:
    """Candle rows of `records` in file order, numbered from `first_line`; blank records are
    skipped, and with `optional_header` a non-numeric first record is too. Raises
    CandleRowError at the first record with under six fields or a non-number in them."""
    for line, cells in enumerate(records, start=first_line):
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if optional_header and line == first_line and is_header(cells):
            continue
        if len(cells) < 6:
            raise CandleRowError(line, cells, RowProblem.TOO_FEW_FIELDS)
        try:
            open_time = int(cells[0])
            o, h, l, c, v = (float(cell) for cell in cells[1:6])
        except ValueError:
            raise CandleRowError(line, cells, RowProblem.NOT_NUMERIC) from None
        yield CandleRow(line, tuple(cells), open_time, (o, h, l, c, v))
