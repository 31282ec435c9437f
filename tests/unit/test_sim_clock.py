"""The exchange clock runs `speed` times faster than real time, from a chosen start."""

from __future__ import annotations

import pytest

from cryptoai_tui.sim.clock import SimClock


class ManualTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_exchange_time_runs_speed_times_faster_from_the_start() -> None:
    real = ManualTime()
    clock = SimClock(start_ms=1_700_000_000_000, speed=600, monotonic=real)
    assert clock.now_ms() == 1_700_000_000_000
    real.now += 0.1
    assert clock.now_ms() == 1_700_000_060_000
    assert clock.real_seconds_until(1_700_000_120_000) == pytest.approx(0.1)


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="above 0"):
        SimClock(speed=0)


def test_without_a_start_the_clock_reads_now() -> None:
    import time

    assert abs(SimClock().now_ms() - time.time() * 1000) < 5_000
