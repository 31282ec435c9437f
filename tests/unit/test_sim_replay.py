"""Replay CSVs: real candles load as they are; bad files get a sentence naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoai_tui.market.candle_csv import CandleFileError
from cryptoai_tui.sim.replay import load_replay_csv
from tests.conftest import CANDLES_DIR, load_candles


def test_the_real_candle_files_load_with_their_symbol_interval_and_precision() -> None:
    series = load_replay_csv(CANDLES_DIR / "ETHUSDT-1h.csv")
    reference = load_candles("ETHUSDT-1h.csv")
    assert series.symbol == "ETHUSDT" and series.interval_ms == 3_600_000
    assert len(series) == len(reference)
    assert (series.opens[10], series.highs[10], series.lows[10], series.closes[10], series.volumes[10]) == (
        reference[10].open, reference[10].high, reference[10].low, reference[10].close, reference[10].volume)
    assert series.price_decimals == 2 and 2 <= series.volume_decimals <= 8
    assert series.end_ms == series.open_times[-1] + 3_600_000


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = "open_time_ms,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("name", "body", "phrase"),
    [
        ("BTCUSDT-1m.csv", "time,o,h,l,c,v\n1,1,1,1,1,1\n", "must start with the header"),
        ("BTCUSDT-1m.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,1,2,0.5\n", "BTCUSDT-1m.csv line 3 has 4 fields"),
        ("BTCUSDT-1m.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,a,2,0.5,1,1\n", "BTCUSDT-1m.csv line 3 is not numeric"),
        ("BTCUSDT-1m.csv", HEADER + "60000,1,2,0.5,1.5,3\n0,1,2,0.5,1.5,3\n", "line 3 is not in time order"),
        ("BTCUSDT-1m.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,1,0.9,0.5,1,1\n", "not a valid candle"),
        ("BTCUSDT-1m.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,1,2,0.5,1,1\n150000,1,2,0.5,1,1\n", "line 4 mixes intervals"),
        ("BTCUSDT-1m.csv", HEADER + "0,1,2,0.5,1.5,3\n", "at least 2 candles"),
        ("!!.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,1,2,0.5,1,1\n", "Cannot tell the symbol"),
    ],
)
def test_bad_replay_files_are_explained(tmp_path: Path, name: str, body: str, phrase: str) -> None:
    with pytest.raises(CandleFileError, match=phrase):
        load_replay_csv(_write(tmp_path, name, body))


def test_a_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="nope.csv' does not exist; check the path given to --replay"):
        load_replay_csv(tmp_path / "nope.csv")


def test_symbol_can_be_given_and_gaps_are_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "data.csv", HEADER + "0,1,2,0.5,1.5,3\n60000,1.5,2,1,1.25,1\n180000,1,2,0.5,1,1\n")
    series = load_replay_csv(path, symbol="solusdt")
    assert series.symbol == "SOLUSDT" and series.interval_ms == 60_000
    assert series.open_times == (0, 60_000, 180_000)
