"""StreamManager from a plain synchronous script and from asyncio code, against the simulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pandas as pd
import pytest

from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.api import RealTimeDataManager, StreamManager, fetch_realtime_data
from cryptoai_tui.feed import FeedConfig
from cryptoai_tui.market import Candle
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange

CONFIG = FeedConfig(seed=4, stall_timeout_s=1.0, backoff_base_s=0.02, backoff_cap_s=0.2)


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def assert_frame_is_ground_truth(frame: pd.DataFrame, truth_of: Callable[..., list[Candle]], symbol: str,
                                 interval: str) -> None:
    opens = [int(ts.timestamp() * 1000) for ts in frame.index]
    truth = truth_of(symbol, interval, opens[0], opens[-1])
    assert opens == [c.open_time for c in truth]
    assert list(frame["close"]) == [c.close for c in truth]
    assert list(frame["volume"]) == [c.volume for c in truth]


def test_sync_script_gets_buffers_and_close_callbacks() -> None:
    with SimExchange(SimConfig(speed=600, seed=31)).start_in_thread() as sim_thread:
        frames: list[pd.DataFrame] = []
        threads: set[str] = set()

        def on_close(frame: pd.DataFrame) -> None:
            threads.add(threading.current_thread().name)
            frames.append(frame)
            if len(frames) == 2:
                raise RuntimeError("a broken user callback")  # logged; the stream goes on

        manager = RealTimeDataManager("binance", sim_thread.ws_url, sim_thread.rest_url, config=CONFIG)
        try:
            assert manager.start_stream("btc/usdt", "1m", buffer_size=40, callback=on_close) == ("BTCUSDT", "1m")
            manager.start_stream("ETHUSDT", "5m", buffer_size=12)
            assert manager.wait_until_ready("BTCUSDT", "1m", timeout=15)
            assert manager.wait_until_ready("ETHUSDT", "5m", timeout=15)
            wait_for(lambda: len(frames) >= 6)
            data = manager.get_data("BTC/USDT", "1m")
            eth = manager.get_data("ETHUSDT", "5m")
            forming = manager.current_candle("BTCUSDT", "1m")
        finally:
            manager.stop_all()

        assert len(data) == 40 and list(data.columns) == ["open", "high", "low", "close", "volume", "closed"]
        assert data.attrs["symbol"] == "BTCUSDT"
        assert_frame_is_ground_truth(data, lambda *span: sim_thread.call(sim_thread.sim.closed_candles, *span),
                                     "BTCUSDT", "1m")
        assert len(eth) == 12
        assert forming is None or not forming.closed
        # Callbacks: only live closes (bootstrap ones would show growing frames), the full
        # buffer each time, in order, on the callback thread.
        assert all(len(frame) == 40 for frame in frames)
        last_opens = [frame.index[-1] for frame in frames]
        assert last_opens == sorted(set(last_opens))
        assert threads == {"stream-callbacks_0"}


def test_bad_input_raises_at_start_stream() -> None:
    with SimExchange(SimConfig(seed=32)).start_in_thread() as sim_thread:
        with StreamManager("binance", sim_thread.ws_url, sim_thread.rest_url, config=CONFIG) as manager:
            with pytest.raises(InvalidSymbolError, match="Did you mean BTCUSDT"):
                manager.start_stream("BTCUSDX", "1m")
            with pytest.raises(Exception, match="Valid intervals"):
                manager.start_stream("BTCUSDT", "2m")
            with pytest.raises(KeyError, match="start_stream"):
                manager.get_data("BTCUSDT", "1m")


def test_streams_share_one_connection_and_stop_individually() -> None:
    with SimExchange(SimConfig(speed=600, seed=33)).start_in_thread() as sim_thread:
        manager = fetch_realtime_data("SOLUSDT", "1m", 20, exchange="binance", ws_url=sim_thread.ws_url,
                                      rest_url=sim_thread.rest_url, config=CONFIG)
        try:
            for symbol in ("BTCUSDT", "ETHUSDT", "XRPUSDT"):
                manager.start_stream(symbol, "1m", buffer_size=10)
            for symbol in ("SOLUSDT", "BTCUSDT", "ETHUSDT", "XRPUSDT"):
                assert manager.wait_until_ready(symbol, "1m", timeout=15)
            assert sim_thread.call(lambda: sim_thread.sim.connections) == 1
            manager.stop_stream("ETHUSDT", "1m")
            assert ("ETHUSDT", "1m") not in manager.streams
            before = len(manager.get_data("SOLUSDT"))
            assert before == 20  # the buffer is bounded at buffer_size
        finally:
            manager.stop_all()
        assert not any(t.name == "stream-manager" for t in threading.enumerate())


async def test_asyncio_code_uses_the_manager_without_blocking_its_loop() -> None:
    async with SimExchange(SimConfig(speed=600, seed=34)) as sim:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beating = asyncio.ensure_future(heartbeat())
        closes: list[pd.DataFrame] = []
        async with StreamManager("binance", sim.ws_url, sim.rest_url, config=CONFIG) as manager:
            await asyncio.to_thread(manager.start_stream, "ETHUSDT", "1m", 30, closes.append)
            assert await manager.ready("ETHUSDT", "1m", timeout=15)
            while len(closes) < 3:
                await asyncio.sleep(0.02)
            frame = manager.get_data("ETHUSDT", "1m", include_forming=True)
        beating.cancel()
        assert ticks > 10  # our loop kept running while the manager worked
        closed = frame[frame["closed"]]
        assert len(closed) == 30
        assert_frame_is_ground_truth(closed, sim.closed_candles, "ETHUSDT", "1m")
