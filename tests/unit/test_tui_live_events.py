"""The event log is derived from pairs of snapshots, however many were skipped between them."""

from __future__ import annotations

from dataclasses import replace

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import ConfirmedSignal, Metrics, Snapshot
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult
from cryptoai_tui.tui.live_events import EventKind, snapshot_events

HOUR = 3_600_000
BASE = Snapshot("binance", "BTCUSDT", "1h", ConfluenceMode.MAJORITY, ConnectionState.LIVE, "Streaming.",
                exchange_time=10 * HOUR + 5)


def confirmed(hour: int, action: Action) -> ConfirmedSignal:
    result = ConfluenceResult(ConfluenceMode.MAJORITY, action, 0.75, ("rsi",), 3)
    return ConfirmedSignal(hour * HOUR, 100.0 + hour, result)


def test_first_snapshot_reports_the_state() -> None:
    events = snapshot_events(None, BASE)
    assert [(e.kind, e.text) for e in events] == [(EventKind.STATE, "live: Streaming.")]


def test_counters_report_reconnects_and_backfills_even_when_frames_were_skipped() -> None:
    later = replace(BASE, metrics=Metrics(reconnects=2, candles_backfilled=7))
    texts = [e.text for e in snapshot_events(BASE, later)]
    assert texts == ["reconnects #1-#2", "backfilled 7 missed candles"]


def test_state_change_carries_the_feeds_sentence_without_repeating_the_state() -> None:
    troubled = replace(BASE, state=ConnectionState.RECONNECTING, state_message="Connection refused.")
    assert [e.text for e in snapshot_events(BASE, troubled)] == ["reconnecting: Connection refused."]
    live = replace(troubled, state=ConnectionState.LIVE, state_message="Live: 1 stream from Binance.")
    assert [e.text for e in snapshot_events(troubled, live)] == ["Live: 1 stream from Binance."]


def test_every_confirmed_buy_and_sell_is_logged_naming_its_candle_and_no_hold_is() -> None:
    before = replace(BASE, recent_signals=(confirmed(1, Action.HOLD),))
    after = replace(before, recent_signals=(
        confirmed(1, Action.HOLD), confirmed(2, Action.HOLD), confirmed(3, Action.BUY),
        confirmed(4, Action.BUY), confirmed(5, Action.SELL),
    ))
    events = snapshot_events(before, after)
    assert [e.text for e in events] == [
        "confirmed BUY 75% on the 03:00 candle, close 103.000",
        "confirmed BUY 75% on the 04:00 candle, close 104.000",
        "confirmed SELL 75% on the 05:00 candle, close 105.000",
    ]


def test_history_arriving_at_once_lists_only_the_newest_changes() -> None:
    actions = [Action.BUY, Action.SELL] * 5
    first = replace(BASE, recent_signals=tuple(confirmed(h, a) for h, a in enumerate(actions)))
    signal_events = [e for e in snapshot_events(None, first) if e.kind is EventKind.SIGNAL]
    assert len(signal_events) == 3
    assert "09:00 candle" in signal_events[-1].text


def test_mode_change_and_new_strategy_errors_are_logged() -> None:
    changed = replace(BASE, mode=ConfluenceMode.ANY, metrics=Metrics(strategy_errors=1))
    texts = [e.text for e in snapshot_events(BASE, changed)]
    assert texts == ["confluence mode ANY", "strategy error in a strategy"]


def test_nothing_new_means_no_events() -> None:
    assert snapshot_events(BASE, replace(BASE, sequence=9)) == []


async def test_history_verdicts_over_many_frames_keep_only_the_newest_few_below_the_live_ones() -> None:
    """The start-up history is evaluated over several frames; each frame's new verdicts used
    to reach the log, so opening a session listed a dozen old signals above the live ones."""
    from textual.app import App, ComposeResult

    from cryptoai_tui.tui.live_events import FIRST_SIGNALS_SHOWN
    from cryptoai_tui.tui.widgets.event_log import EventLog

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield EventLog(lambda: 0.0)

    def old(hour: int) -> ConfirmedSignal:
        return replace(confirmed(hour, Action.BUY if hour % 2 else Action.SELL), history=True)

    async with Host().run_test() as pilot:
        log = pilot.app.query_one(EventLog)
        previous: Snapshot | None = None
        signals: tuple[ConfirmedSignal, ...] = ()
        for frame in range(4):  # 4 frames of 3 history verdicts each
            signals = signals + tuple(old(3 * frame + h) for h in range(3))
            current = replace(BASE, recent_signals=signals)
            log.add(snapshot_events(previous, current))
            previous = current
        live = replace(previous, recent_signals=signals + (confirmed(20, Action.BUY),))
        log.add(snapshot_events(previous, live))
        shown = [line for line in log.lines if "confirmed" in line]
        assert len(shown) == 1 + FIRST_SIGNALS_SHOWN
        assert "20:00 candle" in shown[0]  # the live one on top
        assert ["11:00" in shown[1], "10:00" in shown[2], "09:00" in shown[3]] == [True, True, True]


def test_a_k_mode_change_is_logged_as_k_of_n() -> None:
    from cryptoai_tui.snapshot import StrategyRow
    from cryptoai_tui.strategies.signal import ConfluenceRule, Signal

    rows = tuple(StrategyRow(name, Signal.hold("quiet")) for name in ("rsi", "macd", "adx"))
    before = replace(BASE, rows=rows)
    after = replace(before, mode=ConfluenceRule.at_least(2))
    assert [e.text for e in snapshot_events(before, after)] == ["confluence mode 2 of 3"]
    assert ConfluenceRule.at_least(1).description.startswith("A trigger on its own")
