"""The pure core of the feed: backoff schedule, attempt budget, gap judge, connection plans."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from cryptoai_tui.exchanges.binance import BinanceSpot, BinanceUsdm
from cryptoai_tui.feed.backoff import Backoff, BackoffPolicy, ConnectionAttemptBudget
from cryptoai_tui.feed.planning import SendPacer, plan_connection
from cryptoai_tui.feed.sequencer import KlineSequencer, Verdict, next_open_time
from cryptoai_tui.market import Candle, Interval

MINUTE = 60_000


def kline(i: int, closed: bool = True, close: float = 1.0) -> Candle:
    return Candle(i * MINUTE, 1.0, 2.0, 0.5, close, 3.0, i * MINUTE + MINUTE - 1, closed)


# --- backoff -------------------------------------------------------------------------

def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    policy = BackoffPolicy(base_s=0.5, cap_s=10.0)
    assert [policy.ceiling(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.ceiling(10_000) == 10.0  # no overflow for a long outage


def test_backoff_delays_are_full_jitter_within_growing_ceilings() -> None:
    policy = BackoffPolicy(base_s=1.0, cap_s=30.0)
    backoff = Backoff(policy, random.Random(3))
    delays = [backoff.next_delay() for _ in range(8)]
    for n, delay in enumerate(delays):
        assert 0.0 <= delay <= policy.ceiling(n)
    # Full jitter: the draws are spread over the window, not pinned to its top.
    assert len({round(d, 6) for d in delays}) == len(delays)
    assert backoff.failures == 8


def test_backoff_is_reproducible_with_a_seed() -> None:
    policy = BackoffPolicy()
    first = Backoff(policy, random.Random(42))
    second = Backoff(policy, random.Random(42))
    assert [first.next_delay() for _ in range(5)] == [second.next_delay() for _ in range(5)]


def test_backoff_grows_on_average_across_many_seeds() -> None:
    policy = BackoffPolicy(base_s=1.0, cap_s=64.0)
    means = []
    for attempt in range(5):
        total = 0.0
        for seed in range(200):
            backoff = Backoff(policy, random.Random(seed))
            backoff.failures = attempt
            total += backoff.next_delay()
        means.append(total / 200)
    assert means == sorted(means)
    assert means[4] > 4 * means[0]


def test_backoff_resets_only_after_a_healthy_connection_and_then_retries_at_once() -> None:
    backoff = Backoff(BackoffPolicy(reset_after_s=1.0), random.Random(1))
    for _ in range(4):
        backoff.next_delay()
    backoff.connected(now=100.0)
    assert not backoff.healthy_if_up(now=100.5)  # data, but up for only 0.5 s
    backoff.disconnected(now=100.5)
    assert backoff.failures == 4
    backoff.connected(now=200.0)
    backoff.disconnected(now=260.0)  # up a minute but never delivered data: not healthy
    assert backoff.failures == 4
    backoff.connected(now=300.0)
    assert backoff.healthy_if_up(now=301.0)  # delivered data and up for 1 s: healthy
    backoff.disconnected(now=301.0)
    assert backoff.failures == 0
    assert backoff.next_delay() == 0.0  # the first retry after a healthy link is immediate
    assert backoff.failures == 0
    assert 0.0 < backoff.next_delay() <= backoff.policy.ceiling(0)  # then backoff as usual
    assert backoff.failures == 1


def test_backoff_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="base"):
        BackoffPolicy(base_s=5.0, cap_s=1.0)


# --- attempt budget --------------------------------------------------------------------

def test_attempt_budget_never_allows_more_than_the_window_permits() -> None:
    budget = ConnectionAttemptBudget(max_attempts=3, window_s=10.0)
    now = 0.0
    attempts: list[float] = []
    for _ in range(9):
        now += budget.wait_time(now)
        budget.record(now)
        attempts.append(now)
        now += 0.5
    for i, moment in enumerate(attempts):
        in_window = [t for t in attempts if moment - 10.0 < t <= moment]
        assert len(in_window) <= 3, (i, attempts)
    assert attempts[3] == pytest.approx(10.0)  # the 4th waits until the 1st leaves the window


def test_attempt_budget_is_free_when_under_the_limit() -> None:
    budget = ConnectionAttemptBudget(max_attempts=300, window_s=300.0)
    budget.record(0.0)
    assert budget.wait_time(1.0) == 0.0


# --- sequencer -------------------------------------------------------------------------

def test_sequencer_accepts_forming_then_closed_in_order() -> None:
    seq = KlineSequencer(Interval.parse("1m"))
    assert seq.offer(kline(1), 1) is Verdict.ACCEPT
    assert seq.offer(kline(2, closed=False), 10) is Verdict.ACCEPT
    assert seq.offer(kline(2, closed=False), 11) is Verdict.ACCEPT
    assert seq.offer(kline(2), 12) is Verdict.ACCEPT
    assert seq.last_closed == 2 * MINUTE
    assert seq.expected_next == 3 * MINUTE


def test_sequencer_drops_duplicate_and_stale_klines() -> None:
    seq = KlineSequencer(Interval.parse("1m"))
    seq.offer(kline(5), 1)
    assert seq.offer(kline(5), 2) is Verdict.DUPLICATE
    assert seq.offer(kline(4), 3) is Verdict.STALE
    assert seq.offer(kline(5, closed=False), 4) is Verdict.STALE  # forming update after its close
    assert seq.offer(kline(6, closed=False), 20) is Verdict.ACCEPT
    assert seq.offer(kline(6, closed=False), 20) is Verdict.DUPLICATE
    assert seq.offer(kline(6, closed=False), 19) is Verdict.STALE  # reordered forming update
    assert seq.last_closed == 5 * MINUTE


def test_sequencer_reports_a_gap_without_moving() -> None:
    seq = KlineSequencer(Interval.parse("1m"))
    seq.offer(kline(1), 1)
    assert seq.offer(kline(4), 2) is Verdict.GAP
    assert seq.offer(kline(4, closed=False), 2) is Verdict.GAP  # 2 and 3 closed unseen
    assert seq.expected_next == 2 * MINUTE
    for i in (2, 3):
        assert seq.offer(kline(i), 3) is Verdict.ACCEPT
    assert seq.offer(kline(4), 4) is Verdict.ACCEPT


def test_sequencer_first_forming_candle_fixes_where_closed_ones_start() -> None:
    seq = KlineSequencer(Interval.parse("1m"))
    assert seq.offer(kline(10, closed=False), 1) is Verdict.ACCEPT
    assert seq.offer(kline(12, closed=False), 2) is Verdict.GAP  # 10 and 11 closed unseen


def test_sequencer_accepts_an_exchange_hole() -> None:
    seq = KlineSequencer(Interval.parse("1m"))
    seq.offer(kline(1), 1)
    assert seq.offer(kline(9), 2) is Verdict.GAP
    seq.accept_hole(9 * MINUTE)
    assert seq.offer(kline(9), 2) is Verdict.ACCEPT
    assert seq.offer(kline(9), 3) is Verdict.DUPLICATE
    assert seq.offer(kline(5), 3) is Verdict.STALE  # a hole candle arriving late stays out


def test_next_open_time_follows_the_calendar_for_months() -> None:
    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)

    month = Interval.parse("1M")
    assert next_open_time(month, ms(2024, 1, 1)) == ms(2024, 2, 1)
    assert next_open_time(month, ms(2024, 12, 1)) == ms(2025, 1, 1)
    assert next_open_time(Interval.parse("1h"), 0) == 3_600_000


# --- planning --------------------------------------------------------------------------

def test_binance_plan_puts_streams_in_the_url_until_it_is_too_long() -> None:
    protocol = BinanceSpot(ws_base="ws://127.0.0.1:9")
    names = [protocol.stream_name(f"COIN{i}USDT", "1m") for i in range(200)]
    plan = plan_connection(protocol, names, max_url_length=1000)
    assert len(plan.url) <= 1000
    assert 0 < len(plan.url_streams) < 200
    assert plan.url_streams + plan.subscribe_streams == tuple(names)
    assert all(name in plan.url for name in plan.url_streams)
    small = plan_connection(protocol, names[:3], max_url_length=1000)
    assert small.subscribe_streams == () and "/stream?streams=" in small.url


def test_send_pacer_spaces_frames_under_the_rate() -> None:
    pacer = SendPacer(rate_per_s=4.0)
    waits = [pacer.reserve(now=0.0) for _ in range(5)]
    assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert pacer.reserve(now=10.0) == 0.0


def test_send_pacer_spaces_from_the_real_send_after_a_stall() -> None:
    """A frame that left late (the loop stalled) pushes the next one a full spacing after
    it, so overdue frames do not leave back to back."""
    pacer = SendPacer(rate_per_s=4.0)
    assert pacer.reserve(now=0.0) == 0.0
    pacer.sent(now=0.9)  # due at 0, really sent at 0.9
    assert pacer.reserve(now=0.9) == pytest.approx(0.25)
    pacer.sent(now=0.9 + 0.25)
    assert pacer.reserve(now=5.0) == 0.0  # idle since: no wait


def test_attempt_budget_window_edge_never_lets_a_fourth_attempt_in() -> None:
    # The exchange counts 3 attempts per 10 s: at the exact edge the oldest one leaves the
    # window as the new one enters it, never both in it at once.
    budget = ConnectionAttemptBudget(max_attempts=3, window_s=10.0)
    for moment in (0.0, 1.0, 2.0):
        budget.record(moment)
    assert budget.wait_time(5.0) == pytest.approx(5.0)
    assert budget.wait_time(10.0) == 0.0
    budget.record(10.0)
    # 1, 2 and 10 are in the window now (0 left as 10 came); the next fits when 1 leaves, at 11
    assert budget.wait_time(10.0) == pytest.approx(1.0)
    assert budget.wait_time(10.5) == pytest.approx(0.5)
    assert budget.wait_time(11.0) == 0.0
