"""Shared test helpers: where the recorded payloads and real candles live."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from cryptoai_tui.market import Candle

DATA_DIR = Path(__file__).parent / "data"
FIXTURES_DIR = DATA_DIR / "fixtures"
CANDLES_DIR = DATA_DIR / "candles"


def load_fixture(name: str) -> Any:
    """A recorded exchange payload from the docs, parsed as JSON."""
    return json.loads((FIXTURES_DIR / name).read_text())


def fixture_text(name: str) -> str:
    return (FIXTURES_DIR / name).read_text()


def load_candles(name: str = "BTCUSDT-1h.csv", limit: int | None = None) -> list[Candle]:
    """Real closed candles from tests/data/candles (close_time = next open - 1 by interval)."""
    path = CANDLES_DIR / name
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    if limit is not None:
        rows = rows[:limit]
    step = int(rows[1]["open_time_ms"]) - int(rows[0]["open_time_ms"])
    return [
        Candle(
            open_time=int(row["open_time_ms"]),
            open=float(row["open"]),
            high=float(row["high"]),
            low=float(row["low"]),
            close=float(row["close"]),
            volume=float(row["volume"]),
            close_time=int(row["open_time_ms"]) + step - 1,
            closed=True,
        )
        for row in rows
    ]


@pytest.fixture
def btc_1h() -> list[Candle]:
    return load_candles("BTCUSDT-1h.csv")
