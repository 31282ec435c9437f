"""Real candles from a CSV, served by the simulator as a symbol's history and live feed.

Format: a header `open_time_ms,open,high,low,close,volume` and one candle per row, oldest
first (tests/data/candles/*.csv). Gaps (missing open times) are kept: they are the
exchange's own holes, and the simulator serves them as holes too.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from cryptoai_tui.market.candle_csv import CSV_COLUMNS, CandleRowError, RowProblem, candle_rows

COLUMNS = CSV_COLUMNS
_SYMBOL_FROM_NAME = re.compile(r"^([A-Za-z0-9]{2,20})(?:[-_.].*)?$")


class ReplayFileError(ValueError):
    """A replay CSV the simulator cannot serve; the message names the file, line and fix."""


@dataclass(frozen=True, slots=True)
class ReplaySeries:
    """The candles of one symbol at one fixed interval, oldest first.

    `price_decimals`/`volume_decimals` are read from the file's own text so that finer
    candles the simulator derives from these look like the exchange's.
    """

    symbol: str
    interval_ms: int
    open_times: tuple[int, ...]
    opens: tuple[float, ...]
    highs: tuple[float, ...]
    lows: tuple[float, ...]
    closes: tuple[float, ...]
    volumes: tuple[float, ...]
    price_decimals: int
    volume_decimals: int
    source: str = ""

    def __len__(self) -> int:
        return len(self.open_times)

    @property
    def first_open(self) -> int:
        return self.open_times[0]

    @property
    def end_ms(self) -> int:
        """One past the close of the last candle."""
        return self.open_times[-1] + self.interval_ms


def load_replay_csv(path: str | Path, symbol: str | None = None) -> ReplaySeries:
    """Read and validate a replay CSV. The symbol comes from `symbol` or the file name
    (`BTCUSDT-1h.csv` -> BTCUSDT)."""
    file = Path(path)
    if symbol is None:
        match = _SYMBOL_FROM_NAME.match(file.stem)
        if match is None:
            raise ReplayFileError(
                f"Cannot tell the symbol of replay file {file.name!r}: name it like BTCUSDT-1h.csv "
                "or pass the symbol explicitly."
            )
        symbol = match.group(1)
    symbol = symbol.upper()
    try:
        handle = file.open(newline="")
    except OSError as exc:
        raise ReplayFileError(f"Cannot open replay file {str(file)!r}: {exc.strerror or exc}.") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header[:6]) != COLUMNS:
            raise ReplayFileError(
                f"Replay file {file.name!r} must start with the header {','.join(COLUMNS)}; "
                f"found {','.join(header or []) or 'nothing'}."
            )
        times: list[int] = []
        values: list[tuple[float, float, float, float, float]] = []
        price_decimals = 0
        volume_decimals = 0
        try:
            for row in candle_rows(reader, first_line=2):
                line_no, cells = row.line, row.cells
                o, h, l, c, v = row.ohlcv
                if not (l <= min(o, c) and h >= max(o, c) and l > 0 and v >= 0):
                    raise ReplayFileError(
                        f"Line {line_no} of {file.name!r} is not a valid candle (need 0 < low <= "
                        f"open, close <= high and volume >= 0): {','.join(cells[:6])!r}."
                    )
                if times and row.open_time <= times[-1]:
                    raise ReplayFileError(
                        f"Line {line_no} of {file.name!r} is out of order: open time {row.open_time} "
                        f"is not after {times[-1]}. Sort the file by open_time_ms."
                    )
                times.append(row.open_time)
                values.append((o, h, l, c, v))
                price_decimals = max(price_decimals, *(_decimals(cell) for cell in cells[1:5]))
                volume_decimals = max(volume_decimals, _decimals(cells[5]))
        except CandleRowError as exc:
            raise ReplayFileError(_row_problem(file, exc)) from None
    if len(times) < 2:
        raise ReplayFileError(f"Replay file {file.name!r} needs at least 2 candles; it has {len(times)}.")
    step = min(b - a for a, b in zip(times, times[1:]))
    misaligned = next((t for t in times if (t - times[0]) % step), None)
    if misaligned is not None:
        raise ReplayFileError(
            f"Replay file {file.name!r} mixes intervals: open time {misaligned} is not a whole "
            f"number of {step} ms steps after the first candle."
        )
    return ReplaySeries(
        symbol=symbol,
        interval_ms=step,
        open_times=tuple(times),
        opens=tuple(v[0] for v in values),
        highs=tuple(v[1] for v in values),
        lows=tuple(v[2] for v in values),
        closes=tuple(v[3] for v in values),
        volumes=tuple(v[4] for v in values),
        price_decimals=min(max(price_decimals, 2), 8),
        volume_decimals=min(volume_decimals, 8),
        source=str(file),
    )


def _row_problem(file: Path, error: CandleRowError) -> str:
    """The simulator's sentence for a row the shared grammar rejects."""
    if error.problem is RowProblem.TOO_FEW_FIELDS:
        return (f"Line {error.line} of {file.name!r} has {len(error.cells)} columns; "
                f"expected 6 ({','.join(COLUMNS)}).")
    return f"Line {error.line} of {file.name!r} is not numbers: {','.join(error.cells[:6])!r}."


def _decimals(cell: str) -> int:
    text = cell.strip()
    if "e" in text.lower():
        return 8
    _, _, fraction = text.partition(".")
    return len(fraction.rstrip("0"))
