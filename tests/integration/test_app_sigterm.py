"""SIGTERM ends the app like q: the live screen unmounts, the engine stops, and the app's
exit status is 143 (128 + SIGTERM, as for `stream` and `signals`).

Before, a `kill` (or a terminal multiplexer closing) killed the process with status 143 and
left the terminal in the app's alternate screen. The app runs headless in its own process,
so the signal reaches a real event loop and not this test runner.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from tests.snapshots.apps import build_app, live_config, settle_live

app = build_app(live_config())
stopped = []

async def auto_pilot(pilot):
    live = await settle_live(pilot)
    engine = live.engine.engine
    original = engine.stop
    async def stop():
        stopped.append(True)
        await original()
    engine.stop = stop
    sys.__stdout__.write("ready\\n")
    sys.__stdout__.flush()
    # returning leaves the app running: only the signal ends it

app.run(headless=True, auto_pilot=auto_pilot)
sys.__stdout__.write(f"exited engine_stopped={bool(stopped)} return_code={app.return_code}\\n")
"""


def test_sigterm_exits_the_app_cleanly_and_stops_the_engine() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)  # only stops a broken run from hanging
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.strip() == "exited engine_stopped=True return_code=143", err
