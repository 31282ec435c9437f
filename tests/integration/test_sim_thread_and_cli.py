"""The simulator from synchronous code (a background thread) and as `cryptoai-tui sim`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect

from cryptoai_tui.cli import main
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.faults import FaultConfig
from cryptoai_tui.sim.server import SimExchange


def test_a_simulator_in_a_thread_serves_sync_callers_until_stopped() -> None:
    sim = SimExchange(SimConfig(speed=600, start_ms=1_700_000_000_000))
    with sim.start_in_thread() as handle:
        assert handle.ws_url == f"ws://127.0.0.1:{handle.port}" and handle.rest_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{handle.rest_url}/api/v3/ping").json() == {}
        with connect(f"{handle.ws_url}/ws/btcusdt@kline_1m") as ws:
            assert json.loads(ws.recv(timeout=2))["e"] == "kline"
        handle.set_faults(FaultConfig(rest_5xx_rate=1.0))
        assert httpx.get(f"{handle.rest_url}/api/v3/ping").status_code == 503
        # Ground truth is readable from this thread too.
        now = handle.call(sim.now_ms)
        assert sim.closed_candles("BTCUSDT", "1m", now - 5 * 60_000)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{handle.rest_url}/api/v3/ping")


def test_a_busy_port_is_reported_when_starting_in_a_thread() -> None:
    with SimExchange().start_in_thread() as first:
        with pytest.raises(OSError):
            SimExchange(SimConfig(port=first.port)).start_in_thread()


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_the_sim_command_prints_where_to_connect_and_stops_on_ctrl_c_or_sigterm(stop: int, status: int) -> None:
    """Like `stream` and `signals`: 128 + the signal, one "stopped." line, no traceback, and
    the port really closed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cryptoai_tui", "sim", "--port", "0", "--speed", "60", "--symbols", "BTCUSDT",
         "ETHBTC", "--fault", "duplicate=0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        banner = []
        while not banner or "Ctrl+C" not in banner[-1]:
            line = process.stdout.readline() if process.stdout else ""
            assert line, "the simulator exited before printing its banner: " + (process.stderr.read() if process.stderr else "")
            banner.append(line)
        text = "".join(banner)
        ws_url = text.split("--ws-url ", 1)[1].split()[0]
        rest_url = text.split("--rest-url ", 1)[1].split()[0]
        assert ws_url.startswith("ws://127.0.0.1:") and "duplicate (p=0.1)" in text
        symbols = json.loads(httpx.get(f"{rest_url}/api/v3/exchangeInfo").text)["symbols"]
        assert [s["symbol"] for s in symbols] == ["BTCUSDT", "ETHBTC"]
        process.send_signal(stop)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err
    assert "stopped" in err and "Traceback" not in err, err
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{rest_url}/api/v3/exchangeInfo")


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["sim", "--fault", "dorp"], "Unknown fault 'dorp'. Valid faults: drop"),
        (["sim", "--speed", "0"], "speed must be above 0"),
        (["sim", "--replay", "/nonexistent/BTCUSDT-1h.csv"], "does not exist"),
        (["sim", "--symbols", "BTC/USDT!"], "letters and digits"),
    ],
)
def test_bad_sim_options_are_one_sentence_and_exit_2(argv: list[str], phrase: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert phrase in capsys.readouterr().err
