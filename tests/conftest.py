"""Shared test helpers: where the recorded payloads and real candles live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cryptoai_tui.market import Candle
from cryptoai_tui.market.candle_csv import read_candle_csv

DATA_DIR = Path(__file__).parent / "data"
FIXTURES_DIR = DATA_DIR / "fixtures"
CANDLES_DIR = DATA_DIR / "candles"


def load_fixture(name: str) -> Any:
    """A recorded exchange payload from the docs, parsed as JSON."""
    return json.loads((FIXTURES_DIR / name).read_text())


def fixture_text(name: str) -> str:
    return (FIXTURES_DIR / name).read_text()


def load_candles(name: str = "BTCUSDT-1h.csv", limit: int | None = None) -> list[Candle]:
    """Real closed candles from tests/data/candles, read by the product's own CSV reader
    (close_time = open + the file's spacing - 1)."""
    candles = list(read_candle_csv(CANDLES_DIR / name).candles)
    return candles if limit is None else candles[:limit]


@pytest.fixture
def btc_1h() -> list[Candle]:
    return load_candles("BTCUSDT-1h.csv")


@pytest.fixture(autouse=True)
def _own_config_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every app process it starts) gets its own empty config file: the app
    remembers its last session and theme there, and a test must neither read the user's
    nor leave choices behind for the next test."""
    monkeypatch.setenv("CRYPTOAI_TUI_CONFIG", str(tmp_path_factory.mktemp("config") / "config.toml"))
