"""Real candles from a CSV, served by the simulator as a symbol's history and live feed.

Format (`market/candle_csv.py`, which reads it): a header `open_time_ms,open,high,low,close,volume`
and one candle per row, oldest first (tests/data/candles/*.csv). Gaps (missing open times) are kept: they are the
exchange's own holes, and the simulator serves them as holes too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptoai_tui.market.candle_csv import CSV_COLUMNS, CandleFileError, read_candle_csv

COLUMNS = CSV_COLUMNS
_SYMBOL_FROM_NAME = re.compile(r"^([A-Za-z0-9]{2,20})(?:[-_.].*)?$")


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
    """Read a replay CSV (`market/candle_csv.py`, header required) and check what the
    simulator needs beyond candles: at least two, all one interval apart (gaps allowed), so
    it can serve the file's own interval and split finer ones from it. The symbol comes
    from `symbol` or the file name (`BTCUSDT-1h.csv` -> BTCUSDT). Raises CandleFileError."""
    file = Path(path)
    if symbol is None:
        match = _SYMBOL_FROM_NAME.match(file.stem)
        if match is None:
            raise CandleFileError(
                file,
                f"Cannot tell the symbol of replay file {file.name!r}: name it like BTCUSDT-1h.csv "
                "or pass the symbol explicitly.",
            )
        symbol = match.group(1)
    symbol = symbol.upper()
    if not file.exists():
        raise CandleFileError(
            file, f"Replay file {str(file)!r} does not exist; check the path given to --replay.")
    candles_file = read_candle_csv(file, require_header=True)
    candles = candles_file.candles
    times = [c.open_time for c in candles]
    step = candles_file.spacing_ms
    assert step is not None  # read_candle_csv without an interval demands two candles
    misaligned = next((i for i, t in enumerate(times) if (t - times[0]) % step), None)
    if misaligned is not None:
        raise CandleFileError(
            file,
            f"{file.name} line {candles_file.lines[misaligned]} mixes intervals: open time "
            f"{times[misaligned]} is not a whole number of {step} ms steps after the first candle.",
            candles_file.lines[misaligned],
        )
    price_decimals = max(_decimals(cell) for cells in candles_file.cells for cell in cells[1:5])
    volume_decimals = max(_decimals(cells[5]) for cells in candles_file.cells)
    return ReplaySeries(
        symbol=symbol,
        interval_ms=step,
        open_times=tuple(times),
        opens=tuple(c.open for c in candles),
        highs=tuple(c.high for c in candles),
        lows=tuple(c.low for c in candles),
        closes=tuple(c.close for c in candles),
        volumes=tuple(c.volume for c in candles),
        price_decimals=min(max(price_decimals, 2), 8),
        volume_decimals=min(volume_decimals, 8),
        source=str(file),
    )


def _decimals(cell: str) -> int:
    """How many decimals a number was written with (the simulator's finer candles use as many)."""
    text = cell.strip()
    if "e" in text.lower():
        return 8
    _, _, fraction = text.partition(".")
    return len(fraction.rstrip("0"))
