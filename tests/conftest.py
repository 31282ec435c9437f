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
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's journal or config: both point into a fresh
    temporary directory (child processes inherit the environment, so subprocess tests too)."""
    home = tmp_path_factory.mktemp("user-dirs")
    monkeypatch.setenv("CRYPTOAI_TUI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("CRYPTOAI_TUI_CONFIG", str(home / "config.toml"))
