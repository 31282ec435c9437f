"""The pieces of "backfills later" (issue 9 §3) that need no socket: the sequencer picking
up after history that came late, and `stream` printing a replay without repeats."""

from __future__ import annotations

from cryptoai_tui.commands.stream import PrintedSpans
from cryptoai_tui.feed.sequencer import KlineSequencer, Verdict
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from cryptoai_tui.market import Candle, CandleEvent, Interval

MINUTE = 60_000
M1 = Interval.parse("1m")


def candle(i: int, closed: bool = True) -> Candle:
    return Candle(i * MINUTE, 100.0, 101.0, 99.0, 100.5, 1.0, (i + 1) * MINUTE - 1, closed)


def test_history_restored_before_any_live_close_makes_the_next_close_follow_it() -> None:
    seq = KlineSequencer(M1)
    seq.restore(9 * MINUTE)
    assert seq.offer(candle(11), 11 * MINUTE) is Verdict.GAP  # the candle at 10 is still owed
    assert seq.offer(candle(10), 10 * MINUTE) is Verdict.ACCEPT


def test_restore_keeps_where_a_forming_candle_already_put_the_stream() -> None:
    seq = KlineSequencer(M1)
    assert seq.offer(candle(12, closed=False), 12 * MINUTE) is Verdict.ACCEPT  # closes start at 12
    seq.restore(10 * MINUTE)  # REST trails: its newest closed is 10
    assert seq.expected_next == 12 * MINUTE
    assert seq.offer(candle(12), 13 * MINUTE) is Verdict.ACCEPT


def test_restore_never_moves_a_stream_back() -> None:
    seq = KlineSequencer(M1)
    assert seq.offer(candle(20), 21 * MINUTE) is Verdict.ACCEPT
    seq.restore(15 * MINUTE)
    assert seq.last_closed == 20 * MINUTE and seq.expected_next == 21 * MINUTE


def event(i: int, backfilled: bool = False) -> CandleEvent:
    c = candle(i)
    return CandleEvent("binance", "BTCUSDT", "1m", c, 0.0, c.close_time, backfilled)


def test_stream_prints_a_replay_history_once_and_the_live_candles_not_again() -> None:
    printed = PrintedSpans()
    live = [i for i in range(10, 14) if printed.first_time(event(i))]
    printed.status(FeedStatus(ConnectionState.BOOTSTRAPPING, "reset", "BTCUSDT", "1m", reset=True))
    replay = [i for i in range(4, 14) if printed.first_time(event(i, True))]
    printed.status(FeedStatus(ConnectionState.LIVE, "Backfilled 6.", "BTCUSDT", "1m", backfilled=6))
    after = [i for i in range(12, 16) if printed.first_time(event(i))]
    again = [i for i in range(4, 14) if printed.first_time(event(i, True))]  # a second replay
    assert (live, replay, after, again) == ([10, 11, 12, 13], [4, 5, 6, 7, 8, 9], [14, 15], [])
