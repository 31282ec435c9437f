from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cryptoai_tui.journal.grading import StreamGrader
from cryptoai_tui.journal.store import SCHEMA_VERSION, Grade, JournalError, JournalFilter, JournalStore
from cryptoai_tui.market.interval import Interval
from tests.journal_entries import HOUR_MS, T0, entry


def test_journal_file_is_wal_and_versioned(tmp_path: Path) -> None:
    with JournalStore(tmp_path / "j.sqlite") as store:
        assert store.schema_version == SCHEMA_VERSION == 2
    raw = sqlite3.connect(tmp_path / "j.sqlite")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_signal_confirmed_twice_is_stored_once_and_reads_back_whole(tmp_path: Path) -> None:
    with JournalStore(tmp_path / "j.sqlite") as store:
        assert store.add([entry(1), entry(2)]) == 2
        # a restart replays candle 2 (another session id) and adds candle 3
        assert store.add([entry(2, session="s2"), entry(3)]) == 1
        assert store.count() == 3
        newest = store.page(limit=1)[0]
        assert newest.entry == entry(3)
        assert newest.returns == {1: None, 5: None, 20: None}
        # another mode on the same candle is another entry
        assert store.add([entry(3, mode="all")]) == 1


def test_pages_walk_newest_first_without_overlap_and_filters_apply(tmp_path: Path) -> None:
    with JournalStore(tmp_path / "j.sqlite") as store:
        store.add([entry(n, symbol="ETHUSDT" if n % 3 == 0 else "BTCUSDT",
                         action="SELL" if n % 2 else "BUY") for n in range(250)])
        seen: list[int] = []
        before = None
        while page := store.page(before_id=before, limit=100):
            seen.extend(row.id for row in page)
            before = page[-1].id
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == 250
        eth_sells = JournalFilter(symbol="ETHUSDT", action="SELL")
        assert store.count(eth_sells) == len([n for n in range(250) if n % 3 == 0 and n % 2])
        assert all(r.entry.symbol == "ETHUSDT" and r.entry.action == "SELL"
                   for r in store.page(eth_sells, limit=500))
        since = JournalFilter(since=T0 + 200 * HOUR_MS)
        assert store.count(since) == 50
        assert [r.entry.open_time for r in store.iter_all(since, batch=7)] == [
            T0 + n * HOUR_MS for n in range(200, 250)
        ]


def test_grader_returns_after_1_5_and_20_candles_and_fills_every_entry_on_the_candle(tmp_path: Path) -> None:
    grader = StreamGrader("binance", "BTCUSDT", Interval.parse("1h"))
    grader.add_signal(T0, 100.0)
    grades: list[Grade] = []
    for k in range(1, 25):
        grades += grader.on_close(T0 + k * HOUR_MS, 100.0 + k)  # close k candles later: 100 + k
    assert [(g.horizon, round(g.value, 12)) for g in grades] == [(1, 0.01), (5, 0.05), (20, 0.2)]
    assert grader.pending == 0
    with JournalStore(tmp_path / "j.sqlite") as store:
        store.add([entry(0), entry(0, mode="any")])
        store.grade(grades)
        expected = {1: pytest.approx(0.01), 5: pytest.approx(0.05), 20: pytest.approx(0.2)}
        assert [r.returns for r in store.page()] == [expected, expected]
        assert store.ungraded("binance", "BTCUSDT", "1h") == []


def test_grader_skips_a_horizon_a_gap_jumped_over_rather_than_grading_the_wrong_candle() -> None:
    grader = StreamGrader("binance", "BTCUSDT", Interval.parse("1h"))
    grader.add_signal(T0, 100.0)
    assert [g.horizon for g in grader.on_close(T0 + 1 * HOUR_MS, 101.0)] == [1]
    assert grader.on_close(T0 + 6 * HOUR_MS, 106.0) == []  # candle +5 never arrived
    assert [g.horizon for g in grader.on_close(T0 + 20 * HOUR_MS, 120.0)] == [20]


def test_stats_rank_triggers_and_modes_by_mean_return_with_hit_rates(tmp_path: Path) -> None:
    with JournalStore(tmp_path / "j.sqlite") as store:
        # rsi: BUY +10% and SELL into a -5% fall (a hit, +5%) -> hit 2/2, mean +7.5%
        # macd: BUY then -2% -> hit 0/1, mean -2%
        store.add([entry(0, triggered_by=("rsi",)), entry(1, action="SELL", triggered_by=("rsi",)),
                   entry(2, triggered_by=("macd",))])
        store.grade([
            Grade("binance", "BTCUSDT", "1h", T0, 5, 0.10),
            Grade("binance", "BTCUSDT", "1h", T0 + HOUR_MS, 5, -0.05),
            Grade("binance", "BTCUSDT", "1h", T0 + 2 * HOUR_MS, 5, -0.02),
        ])
        rows = {r.group: r for r in store.stats(horizon=5)}
        assert rows["rsi"].signals == 2 and rows["rsi"].hit_rate == 1.0
        assert rows["rsi"].mean_return == pytest.approx(0.075)
        assert rows["macd"].hit_rate == 0.0 and rows["macd"].mean_return == pytest.approx(-0.02)
        assert rows["mode majority"].signals == 3
        assert rows["mode majority"].hit_rate == pytest.approx(2 / 3)
        assert [r.group for r in store.stats(horizon=5)][0] == "rsi"


def test_a_journal_from_a_newer_version_or_a_damaged_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    raw = sqlite3.connect(newer)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(JournalError, match="newer cryptoai-tui"):
        JournalStore(newer)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        JournalStore(damaged)


def test_a_version_1_journal_is_upgraded_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    from cryptoai_tui.journal.entry import DeliveryRecord
    from cryptoai_tui.journal.store import MIGRATIONS

    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    raw.execute(
        "INSERT INTO signals (exchange, symbol, interval, open_time, close, mode, action, confidence, reason, "
        "triggered_by, confirmed_by, opposed_by, strategy_set, strategies, history, session_id, app_version, "
        "recorded_at) VALUES ('binance', 'BTCUSDT', '1h', 1, 100.0, 'majority', 'BUY', 0.5, 'r', '[]', '[]', "
        "'[]', 'rsi', '{}', 0, 's0', '0.0.9', 1)")
    raw.commit()
    assert "deliveries" not in {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    with JournalStore(path) as store:  # opened by this version: upgraded to 2 in place
        assert store.schema_version == SCHEMA_VERSION == 2
        assert store.count() == 1 and store.page()[0].entry.app_version == "0.0.9"
        store.add([entry(1)])
        store.record_deliveries([DeliveryRecord(5, "json://h/x", ("a1",), "dropped", 6, 1, 500,
                                                "https://user:hunter2@h/x refused")])
        (row_id, line), = store.deliveries()
        assert line.state == "dropped" and "hunter2" not in line.error
        assert store.count() == 2
