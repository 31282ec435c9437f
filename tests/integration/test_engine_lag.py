"""Exchange lag against the simulator: shown when its clock runs in real time (corrected by
the offset the feed measured from /time), withheld when the clock is sped up."""

from __future__ import annotations

import asyncio
import time

from cryptoai_tui.engine import EngineOptions, EngineTiming, RealtimeStrategyEngine
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.wiring import open_kline_feed
from tests.unit.engine_doubles import Recorder, Watch

DAY_MS = 86_400_000


async def lag_after_live_updates(config: SimConfig, updates: int) -> tuple[Snapshot, float | None, float | None]:
    async with SimExchange(config) as sim:
        engine = RealtimeStrategyEngine(
            "BTCUSDT", "1m", [Recorder()], "any", "sim",
            options=EngineOptions(timing=EngineTiming(lag_check_span_ms=300.0)),
        )
        watch = Watch(engine)
        async with open_kline_feed("sim", "BTCUSDT", "1m", sim.ws_url, sim.rest_url, history=5) as feed:
            run = asyncio.create_task(engine.run(feed))
            snapshot = engine.snapshot
            async with asyncio.timeout(30):
                while snapshot.metrics.messages_received < 5 + updates:
                    snapshot = await watch.snapshot_after(snapshot.sequence)
            offset = feed.clock_offset_ms  # what the feed measured from /time
            rate = engine.exchange_clock_rate
            await engine.stop()
            await run
    return snapshot, offset, rate


async def test_lag_is_corrected_by_the_exchange_clock_offset_when_the_clock_is_real_time() -> None:
    # The simulated exchange's clock is set a day behind ours: uncorrected, every message
    # would look a day late.
    config = SimConfig(speed=1.0, start_ms=int(time.time() * 1000) - DAY_MS, push_interval_s=0.05)
    snapshot, offset, rate = await lag_after_live_updates(config, updates=20)
    assert rate is None  # not rejected as sped up
    assert offset is not None and abs(offset + DAY_MS) < 60_000
    lag = snapshot.metrics.exchange_lag_ms
    assert lag is not None and abs(lag) < 60_000


async def test_lag_is_unavailable_when_the_exchange_clock_runs_fast() -> None:
    snapshot, _, rate = await lag_after_live_updates(SimConfig(speed=120.0, push_interval_s=0.05), updates=20)
    assert rate is not None and rate > 10  # measured and rejected, not merely unknown yet
    assert snapshot.metrics.exchange_lag_ms is None
