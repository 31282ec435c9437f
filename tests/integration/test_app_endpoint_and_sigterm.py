"""The app names a URL endpoint in its live header, and quits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.session import AppConfig
from cryptoai_tui.tui.widgets.live_header import LiveHeader
from tests.integration.test_app_flow import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: hang guard only
GUARD_S = 60.0


async def test_with_url_overrides_the_live_header_names_the_endpoint_not_the_market() -> None:
    async with SimExchange(SimConfig(speed=600, seed=13)) as sim:
        config = AppConfig(exchange="binance", ws_url=sim.ws_url, rest_url=sim.rest_url, symbol="BTCUSDT",
                           interval="1m", strategies=("rsi",), mode=ConfluenceMode.ANY)
        app = make_app(config)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen), "the live screen")
            header = app.screen.query_one(LiveHeader)
            await wait_for(pilot, lambda: str(header.content).strip(), "the header")
            first_line = str(header.content).splitlines()[0]
            assert first_line.startswith(f" Binance protocol · 127.0.0.1:{sim.port} · BTCUSDT"), first_line
            await pilot.press("escape")


def test_the_app_quits_on_sigterm_sending_its_close_frames() -> None:
    async def scenario() -> tuple[int, int]:
        async with SimExchange(SimConfig(speed=600, seed=14)) as sim:
            main, terminal = pty.openpty()
            process = subprocess.Popen(
                [sys.executable, "-m", "cryptoai_tui", "--exchange", "binance", "--ws-url", sim.ws_url,
                 "--rest-url", sim.rest_url, "--symbol", "BTCUSDT", "--interval", "1m", "--strategies", "rsi",
                 "--mode", "any"],
                cwd=ROOT, stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
                env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
            )
            os.close(terminal)
            loop = asyncio.get_running_loop()
            loop.add_reader(main, lambda: _drain(main))  # the app's frames go nowhere
            try:
                async def connected() -> None:
                    while sim.stats().kline_messages == 0:
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(connected(), GUARD_S)
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(loop.run_in_executor(None, process.wait), GUARD_S)

                async def closed() -> None:
                    while sim.stats().client_close_frames == 0:
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(closed(), GUARD_S)
                return code, sim.stats().client_close_frames
            finally:
                loop.remove_reader(main)
                os.close(main)
                if process.poll() is None:
                    process.kill()

    code, closes = asyncio.run(scenario())
    assert code == 143
    assert closes >= 1


def _drain(fd: int) -> None:
    try:
        os.read(fd, 65536)
    except OSError:
        pass
