"""Latency percentiles and the exchange-clock check behind the lag figure."""

from __future__ import annotations

import pytest

from cryptoai_tui.engine.exchange_clock import ExchangeLag
from cryptoai_tui.engine.latency import LatencyWindow


def test_latency_window_reports_nearest_rank_percentiles_of_the_newest_samples() -> None:
    window = LatencyWindow(size=100)
    assert window.percentiles() == (None, None)
    for value in range(1, 201):  # only 101..200 stay
        window.add(float(value))
    assert len(window) == 100
    assert window.percentiles() == (151.0, 200.0)


def test_latency_window_refreshes_lazily_once_it_has_many_samples() -> None:
    window = LatencyWindow(size=1000, refresh_s=3600.0, eager_below=10)
    for _ in range(20):
        window.add(5.0)
    assert window.percentiles() == (5.0, 5.0)
    window.add(1e9)
    assert window.percentiles() == (5.0, 5.0)  # cached: no re-sort per publish


def feed(lag: ExchangeLag, rate: float, steps: int, offset_ms: float | None = 0.0,
         true_lag_ms: float = 40.0) -> float | None:
    """Messages every 2 s of local time; the exchange clock runs `rate` times as fast."""
    result = None
    for i in range(steps):
        local = 1_700_000_000_000.0 + i * 2_000.0
        exchange = 1_700_000_000_000 + int(i * 2_000 * rate) + (offset_ms or 0.0)
        result = lag.observe(local, int(exchange - true_lag_ms), offset_ms)
    return result


def test_lag_is_reported_once_the_exchange_clock_is_seen_to_run_in_real_time() -> None:
    lag = ExchangeLag(min_span_ms=5_000)
    assert feed(lag, 1.0, 3) is None  # 4 s of evidence is not enough
    assert feed(lag, 1.0, 4) == pytest.approx(40.0)
    assert lag.real_time is True


def test_lag_corrects_for_the_clock_offset_measured_from_the_time_endpoint() -> None:
    lag = ExchangeLag(min_span_ms=5_000)
    # exchange clock 90 s ahead of ours: raw receive-minus-event would be about -90 s
    assert feed(lag, 1.0, 5, offset_ms=90_000.0) == pytest.approx(40.0)


@pytest.mark.parametrize("rate", [60.0, 3600.0, 0.0])
def test_lag_is_unavailable_when_the_exchange_clock_is_not_real_time(rate: float) -> None:
    lag = ExchangeLag(min_span_ms=5_000)
    assert feed(lag, rate, 10) is None
    assert lag.real_time is False
