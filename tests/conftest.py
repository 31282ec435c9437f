"""Shared test helpers: where the recorded payloads and real candles live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

from cryptoai_tui.market import Candle
from cryptoai_tui.market.candle_csv import read_candle_csv

if TYPE_CHECKING:  # the strategies load when the fixture is first used, not at collection
    from cryptoai_tui.strategies import Signal

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


#: one real file's candles and every row of signals the engine's history path gives them
RealHistory = tuple[list[Candle], list[dict[str, "Signal"]]]


@pytest.fixture(scope="session")
def real_history() -> Callable[[str], RealHistory]:
    """All eleven strategies over a whole real candle file (window 1000, the engine's),
    computed once per file for the session: several test files check different properties
    of the same run (rates, TA-Lib equality, warm-up), and it costs seconds per file.

    The rows are shared, so a test must not change them (Signals are frozen; the dicts are
    copied for each caller so one test's edit cannot reach another's).
    """
    from cryptoai_tui.engine.history import history_signals
    from cryptoai_tui.strategies import parse_strategy_spec

    runs: dict[str, RealHistory] = {}

    def get(name: str) -> RealHistory:
        if name not in runs:
            candles = load_candles(name)
            runs[name] = (candles, history_signals(parse_strategy_spec("all"), candles, window=1000))
        candles, rows = runs[name]
        return list(candles), [dict(row) for row in rows]

    return get
