"""Live-screen widgets fed hand-built snapshots: what they say, and how little they redraw."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from textual.app import App, ComposeResult

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import ConfirmedSignal, LastTrigger, Snapshot, StrategyRow
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, ConfluenceRule, Signal, Stance
from cryptoai_tui.tui.widgets.big_word import big_word
from cryptoai_tui.tui.widgets.live_header import feed_trouble, metrics_line, state_line
from cryptoai_tui.tui.widgets.price_panel import candle_time_left, change_lines
from cryptoai_tui.tui.widgets.signal_panel import signal_content
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable, column_layout, last_trigger_text

HOUR = 3_600_000


def row(name: str, action: Action, confidence: float = 0.0, error: str | None = None, **values: float) -> StrategyRow:
    signal = Signal(action, confidence, f"{name} says {action.value}", MappingProxyType(values))
    return StrategyRow(name, signal, changed_at=HOUR, error=error)


ROWS = (row("rsi", Action.BUY, 0.8, rsi=28.4), row("macd", Action.BUY, 0.6, macd=1.5), row("bos", Action.HOLD))
STANCE_ROWS = tuple(
    replace(r, signal=replace(r.signal, stance=stance))
    for r, stance in zip(ROWS, (Stance.BULLISH, Stance.BEARISH, Stance.NEUTRAL))
)
SNAPSHOT = Snapshot(
    "binance", "BTCUSDT", "1h", ConfluenceMode.MAJORITY, ConnectionState.LIVE, "",
    price=101.0, previous_price=100.5, candle_open=99.0, candle_open_time=HOUR,
    candle_close_time=2 * HOUR - 1, exchange_time=HOUR + 25 * 60_000, provisional=True, rows=ROWS,
    confluence=ConfluenceResult(
        ConfluenceMode.MAJORITY, Action.BUY, 0.7, ("rsi", "macd"), 3, "rsi BUY, 2 of 3 bullish (needs 2)",
        triggered_by=("rsi",), confirmed_by=("macd",), opposed_by=("bos",), needed=2,
    ),
)


class TableHost(App[None]):
    def compose(self) -> ComposeResult:
        yield StrategyTable(id="table")


async def test_table_updates_only_the_cells_that_changed() -> None:
    async with TableHost().run_test(size=(120, 12)) as pilot:
        table = pilot.app.query_one(StrategyTable)
        await pilot.pause()
        assert table.show_rows(ROWS) == 3 * len(table.columns_shown)
        assert table.show_rows(ROWS) == 0
        flipped = (ROWS[0], ROWS[1], row("bos", Action.SELL, 0.9))
        assert table.show_rows(flipped) == 3  # signal, confidence, note of one row
        assert table.get_cell("bos", "signal").plain == "SELL"
        assert table.get_cell("bos", "confidence").plain == "90%"
        assert table.row_count == 3


async def test_a_strategy_that_raised_shows_error_in_its_own_row() -> None:
    async with TableHost().run_test(size=(120, 12)) as pilot:
        table = pilot.app.query_one(StrategyTable)
        await pilot.pause()
        broken = (ROWS[0], row("macd", Action.ERROR, error="macd failed: ZeroDivisionError"), ROWS[2])
        table.show_rows(broken)
        assert table.get_cell("macd", "signal").plain == "ERROR"
        assert table.get_cell("macd", "note").plain == "macd failed: ZeroDivisionError"
        assert table.get_cell("rsi", "signal").plain == "BUY"


async def test_narrow_table_drops_the_last_trigger_column_and_keeps_its_rows_and_stances() -> None:
    async with TableHost().run_test(size=(80, 12)) as pilot:
        table = pilot.app.query_one(StrategyTable)
        await pilot.pause()
        table.show_rows(STANCE_ROWS)
        assert "last" not in [key for key, _, _ in table.columns_shown]
        assert [table.get_cell(name, "stance").plain for name in ("rsi", "macd", "bos")] == ["▲", "▼", "·"]
        assert table.row_count == 3
    assert [key for key, _, _ in column_layout(120)][:3] == ["strategy", "signal", "stance"]
    assert [key for key, _, _ in column_layout(120)][-2:] == ["last", "note"]


async def test_the_table_shows_each_stance_beside_its_trigger_and_when_it_last_triggered() -> None:
    async with TableHost().run_test(size=(120, 12)) as pilot:
        table = pilot.app.query_one(StrategyTable)
        await pilot.pause()
        last = (LastTrigger(Action.BUY, HOUR, 3), LastTrigger(Action.SELL, 2 * HOUR, 0), None)
        table.show_rows(STANCE_ROWS, last, ("rsi:period=10", "macd", "bos"))
        assert [table.get_cell(name, "stance").plain for name in ("rsi", "macd", "bos")] == [
            "▲ bullish", "▼ bearish", "· neutral"]
        assert [table.get_cell(name, "last").plain for name in ("rsi", "macd", "bos")] == [
            "BUY 3 candles ago", "SELL last close", "—"]
        assert table.get_cell("rsi", "strategy").plain == "rsi:period=10"  # custom parameters on screen
        moved = (LastTrigger(Action.BUY, HOUR, 4), last[1], None)
        assert table.show_rows(STANCE_ROWS, moved) == 1  # one candle later: only that cell
        assert table.get_cell("rsi", "last").plain == "BUY 4 candles ago"
        assert table.get_cell("rsi", "strategy").plain == "rsi:period=10"
    assert last_trigger_text(LastTrigger(Action.SELL, 0, 1)) == "SELL 1 candle ago"


def test_column_layout_gives_the_note_the_remaining_width() -> None:
    used = sum(width + 2 for _, _, width in column_layout(118))
    assert 116 <= used <= 118  # no horizontal scroll, no more than a spare cell or two
    assert column_layout(60)[-1][2] == 12  # too narrow: the note keeps a minimum


def test_state_line_says_why_and_when_it_retries() -> None:
    reconnecting = replace(SNAPSHOT, state=ConnectionState.RECONNECTING, retry_in=4.2,
                           state_message="Connection refused.")
    assert state_line(reconnecting).plain == "↻ reconnecting in 4s: Connection refused."
    booting = replace(SNAPSHOT, state=ConnectionState.BOOTSTRAPPING, bootstrap_progress=120,
                      bootstrap_total=500, state_message="")
    assert state_line(booting).plain == "… loading history 120/500"
    assert state_line(SNAPSHOT).plain == "● live"
    assert state_line(SNAPSHOT, failure="DNS failed.").plain == "✖ stopped: DNS failed."


def test_metrics_line_lists_latency_lag_messages_reconnects_and_backfills() -> None:
    text = metrics_line(SNAPSHOT).plain
    for word in ("latency", "p50", "p99", "lag", "msgs", "reconnects", "backfilled"):
        assert word in text


def test_price_changes_and_time_left_come_from_the_snapshot_and_exchange_clock() -> None:
    text = change_lines(SNAPSHOT).plain
    assert "▲ +0.500 (+0.50%)  last update" in text
    assert "▲ +2.000 (+2.02%)  candle open" in text
    assert "closes in 35m 00s" in text
    assert candle_time_left(SNAPSHOT) == 35 * 60.0
    assert candle_time_left(replace(SNAPSHOT, exchange_time=None)) is None


def test_signal_panel_shows_verdict_trigger_confirmations_against_the_need_and_the_last_signal() -> None:
    confirmed = ConfirmedSignal(0, 98.5, replace(SNAPSHOT.confluence, action=Action.SELL))
    text = signal_content(replace(SNAPSHOT, last_signal=confirmed, last_signal_ago=3)).plain
    assert big_word("BUY")[1] in text
    assert "provisional" in text and "70%" in text
    assert "trigger rsi BUY" in text
    assert "bullish 2 of 2 needed · 1 against" in text
    assert "confirmed by macd · against bos" in text
    assert "last signal SELL 3 candles ago" in text
    assert "agree" not in text
    assert "confirmed at the candle close" in signal_content(replace(SNAPSHOT, provisional=False)).plain
    assert "no confirmed BUY or SELL yet" in signal_content(SNAPSHOT).plain


def test_signal_panel_names_at_least_k_of_n_and_what_it_needs() -> None:
    k_mode = ConfluenceRule.at_least(3)
    verdict = replace(SNAPSHOT.confluence, mode=k_mode, action=Action.HOLD, confidence=0.0, agree=(), needed=3,
                      reason="rsi BUY, only 2 of 3 bullish (needs 3)")
    text = signal_content(replace(SNAPSHOT, mode=k_mode, confluence=verdict)).plain
    assert "CONFLUENCE 3 of 3 ·" in text
    assert "bullish 2 of 3 needed · 1 against" in text
    assert "why rsi BUY, only 2 of 3 bullish (needs 3)" in text


def test_a_hold_says_why_it_holds_and_never_agree_n_of_n() -> None:
    hold = replace(SNAPSHOT.confluence, action=Action.HOLD, confidence=0.0, agree=(),
                   reason="rsi BUY, only 1 of 3 bullish (needs 2)")
    text = signal_content(replace(SNAPSHOT, confluence=hold)).plain
    assert "why rsi BUY, only 1 of 3 bullish (needs 2)" in text
    assert "agree" not in text


def test_signal_panel_explains_an_unreachable_exchange_and_offers_the_simulator() -> None:
    down = replace(SNAPSHOT, confluence=None, state=ConnectionState.RECONNECTING, retry_in=8.0,
                   state_message="Cannot reach api.binance.com.")
    text = signal_content(down, offer_sim=True).plain
    assert "Cannot reach the exchange" in text and "Cannot reach api.binance.com." in text
    assert "next attempt in 8s" in text and "press s" in text
    assert "press s" not in signal_content(down, offer_sim=False).plain


def test_big_word_has_three_equal_rows() -> None:
    for word in ("BUY", "SELL", "HOLD", "WARMUP", "ERROR", "WAIT"):
        rows = big_word(word)
        assert len(rows) == 3 and len({len(r) for r in rows}) == 1


def test_a_failing_history_download_counts_as_trouble_and_offers_the_simulator() -> None:
    offline = replace(SNAPSHOT, confluence=None, state=ConnectionState.BOOTSTRAPPING, bootstrap_progress=0,
                      bootstrap_total=500, retry_in=3.0, state_message="Cannot reach api.binance.com.")
    assert feed_trouble(offline) == "Cannot load the history; retrying"
    assert state_line(offline).plain == (
        "… loading history 0/500, retry in 3s: Cannot reach api.binance.com."
    )
    assert "press s" in signal_content(offline, offer_sim=True).plain
    assert feed_trouble(replace(offline, retry_in=None)) is None  # just loading
    assert feed_trouble(SNAPSHOT) is None


def test_in_all_mode_the_panel_counts_who_stands_against_the_trigger() -> None:
    verdict = replace(SNAPSHOT.confluence, mode=ConfluenceMode.ALL, action=Action.HOLD, confidence=0.0, agree=(),
                      needed=1, reason="rsi BUY, but 1 bearish (bos); ALL needs none")
    text = signal_content(replace(SNAPSHOT, mode=ConfluenceMode.ALL, confluence=verdict)).plain
    assert "bullish 2 · 1 against (ALL needs none)" in text
    assert "why rsi BUY, but 1 bearish (bos); ALL needs none" in text
