"""The replay CSV reader: real files load, broken ones fail with a sentence naming the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoai_tui.market import Interval
from cryptoai_tui.replay import CandleFileError, ReplaySource, read_candles_csv, write_candles_csv
from tests.conftest import CANDLES_DIR, load_candles

HOUR = Interval.parse("1h")


def test_reads_the_real_candles_exactly_as_the_test_loader_does() -> None:
    candles = read_candles_csv(CANDLES_DIR / "BTCUSDT-1h.csv", HOUR)
    assert candles == load_candles("BTCUSDT-1h.csv")
    assert candles[0].close_time == candles[0].open_time + HOUR.ms - 1


def test_written_candles_read_back_identically(tmp_path: Path) -> None:
    candles = load_candles("ETHUSDT-1h.csv", limit=50)
    path = tmp_path / "eth.csv"
    assert write_candles_csv(path, candles) == 50
    assert read_candles_csv(path, HOUR) == candles


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "has no candles"),
        ("1000,1,2,0.5,1.5\n", "line 1 has 5 fields"),
        ("open_time_ms,open,high,low,close,volume\n0,1,2,0.5,x,3\n", "line 2 is not numeric"),
        ("0,1,2,0.5,nan,3\n", "NaN or infinity"),
        ("3600000,1,2,0.5,1.5,3\n0,1,2,0.5,1.5,3\n", "not in time order"),
        ("0,1,2,0.5,1.5,3\n60000,1,2,0.5,1.5,3\n", "candles are 1m apart but the interval is 1h"),
    ],
)
def test_broken_files_are_refused_with_a_sentence(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CandleFileError, match=message):
        read_candles_csv(path, HOUR)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="does not exist"):
        ReplaySource.from_csv(tmp_path / "nope.csv", "BTCUSDT", HOUR)


async def test_replay_source_yields_closed_events_between_live_and_stopped_statuses() -> None:
    candles = load_candles(limit=3)
    items = [item async for item in ReplaySource(candles, "BTCUSDT", HOUR)]
    assert [type(item).__name__ for item in items] == ["FeedStatus", "CandleEvent", "CandleEvent", "CandleEvent", "FeedStatus"]
    events = items[1:4]
    assert [e.candle for e in events] == candles  # type: ignore[union-attr]
    assert all(e.event_time == e.candle.close_time and e.symbol == "BTCUSDT" and e.interval == "1h" for e in events)  # type: ignore[union-attr]
