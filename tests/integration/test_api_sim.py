"""The script API runs the original document's examples verbatim against the simulator,
including perpetual symbols, and speaks Python in its error sentences."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from cryptoai_tui.api import RealTimeDataManager, StreamManager, fetch_realtime_data
from cryptoai_tui.exchanges.errors import MarketKindMismatchError
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange

ROOT = Path(__file__).resolve().parents[2]
#: hang guard only; each wait returns as soon as its event is set
GUARD_S = 60.0


def readme_api_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has a python block"
    return match.group(1)


def test_the_readme_api_example_runs_against_the_simulator_and_its_callback_fires() -> None:
    snippet = readme_api_snippet()
    assert "fetch_realtime_data(\"BTC/USDT:USDT\", \"1m\", 500, callback, exchange=\"sim\")" in snippet
    result = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True,
                            timeout=GUARD_S * 2)
    assert result.returncode == 0, result.stderr
    fired = [line for line in result.stdout.splitlines() if line.startswith("closed BTCUSDT 1m ")]
    assert fired, f"the callback never printed: {result.stdout!r} {result.stderr!r}"
    assert float(fired[0].split()[-1]) > 0
    assert re.search(r"^100 candles of ETHUSDT 5m$", result.stdout, re.M)
    assert "Traceback" not in result.stderr


def test_original_examples_stream_perpetuals_from_the_simulator() -> None:
    closed = threading.Event()
    frames: list[pd.DataFrame] = []

    def callback(frame: pd.DataFrame) -> None:
        frames.append(frame)
        closed.set()

    manager = fetch_realtime_data('BTC/USDT:USDT', '1m', 500, callback, exchange="sim")
    try:
        assert closed.wait(GUARD_S)
        assert len(frames[0]) == 500 and frames[0].attrs["symbol"] == "BTCUSDT"
        # One manager serves one market kind; the sentence says how to get the other.
        with pytest.raises(ValueError, match=r'needs a second StreamManager\(exchange="sim"\)'):
            manager.start_stream("BTCUSDT", "1m")
    finally:
        manager.stop_all()

    got = threading.Event()
    with RealTimeDataManager(exchange="sim") as streams:
        streams.start_stream('ETH/USDT:USDT', '5m', 100, lambda frame: got.set())
        assert streams.wait_until_ready('ETH/USDT:USDT', '5m', timeout=GUARD_S)
        assert got.wait(GUARD_S)
        assert len(streams.get_data("ETH/USDT:USDT", "5m")) == 100


def test_the_simulator_serves_perpetuals_on_the_usdm_paths() -> None:
    with SimExchange(SimConfig(speed=600, seed=9)).start_in_thread() as sim:
        with StreamManager("binance-futures", sim.ws_url, sim.rest_url) as manager:
            assert manager.start_stream("ETH/USDT:USDT", "1m", 10) == ("ETHUSDT", "1m")
            assert manager.wait_until_ready("ETHUSDT", "1m", timeout=GUARD_S)
            assert len(manager.get_data("ETHUSDT", "1m")) == 10


def test_errors_through_the_python_api_name_python_arguments() -> None:
    with pytest.raises(MarketKindMismatchError) as info:
        fetch_realtime_data("ETH/USDT:USDT", "1m", 5, exchange="binance", ws_url="ws://127.0.0.1:9",
                            rest_url="http://127.0.0.1:9")
    message = str(info.value)
    assert 'exchange="binance-futures" or exchange="bybit-linear"' in message and "--exchange" not in message
    with pytest.raises(ValueError, match=r'exchange=\'kraken\' is not an exchange\. Valid values: "binance"'):
        StreamManager(exchange="kraken")
    with pytest.raises(ValueError) as bad_url:
        StreamManager(exchange="binance", ws_url="http://user:hunter2@127.0.0.1:9")
    assert str(bad_url.value).startswith("ws_url 'http://user:***@127.0.0.1:9' must start with ws://")
    assert "hunter2" not in str(bad_url.value)
