"""Live equals replay: the confirmed signals the engine computes from the simulated
exchange over loopback (bootstrap, then forming updates and closes) are exactly what
`cryptoai-tui signals --replay` prints for the same candles."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from cryptoai_tui.commands.signals import LineContext, confirmed_signal_line, is_warmed_up
from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.replay import write_candles_csv
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.wiring import open_kline_feed
from tests.unit.engine_doubles import Watch

ROOT = Path(__file__).resolve().parents[2]
HISTORY = 250
LIVE_CLOSES = 25


async def test_live_confirmed_signals_equal_signals_replay_over_the_same_candles(tmp_path: Path) -> None:
    async with SimExchange(SimConfig(speed=1200.0, seed=11)) as sim:
        engine = RealtimeStrategyEngine("ETHUSDT", "1m", "all", "majority", "sim")
        watch = Watch(engine)
        async with open_kline_feed("sim", "ETHUSDT", "1m", sim.ws_url, sim.rest_url, history=HISTORY) as feed:
            run = asyncio.create_task(engine.run(feed))
            async with asyncio.timeout(60):
                await watch.confirmed_signals(HISTORY + LIVE_CLOSES)
            await engine.stop()
            await run
        # every verdict up to the stop: on a loaded machine the engine closes a few more
        # candles (one every 50 ms here) before the test task gets its turn to stop it
        live: list[ConfirmedSignal] = list(watch.confirmed)
        truth = sim.closed_candles("ETHUSDT", "1m", engine.series.candles()[0].open_time,
                                   live[-1].open_time)

    candles = engine.series.candles()
    # a stop that lands while the newest close is being evaluated leaves it without a verdict
    assert len(candles) - len(live) in (0, 1)
    candles = candles[:len(live)]
    assert [c.open_time for c in candles] == [s.open_time for s in live]
    assert candles == truth  # the engine saw the exchange's candles, none lost or doubled
    metrics = engine.snapshot.metrics
    assert metrics.messages_processed > len(candles)  # forming updates were evaluated in between
    assert metrics.strategy_errors == 0
    assert metrics.exchange_lag_ms is None  # a 1200x clock is detected, not trusted
    assert engine.snapshot.state is ConnectionState.STOPPED

    path = tmp_path / "seen.csv"
    write_candles_csv(path, candles)
    result = subprocess.run(
        [sys.executable, "-m", "cryptoai_tui", "signals", "--symbol", "ETHUSDT", "--interval", "1m",
         "--strategies", "all", "--mode", "majority", "--replay", str(path), "--all-candles"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    replayed = [json.loads(line) for line in result.stdout.splitlines()]
    context = LineContext("replay", "ETHUSDT", "1m")
    warmed = [s for s in live if is_warmed_up(s)]
    expected = [json.loads(confirmed_signal_line(s, context)) for s in warmed]
    assert len(expected) > LIVE_CLOSES
    # a file has no start-up: every replayed line is "not history"; live, the bootstrap is
    assert {line["history"] for line in replayed} == {False}
    assert [s.history for s in live] == [True] * HISTORY + [False] * (len(live) - HISTORY)
    for line in expected:
        line["history"] = False
    assert replayed == expected



