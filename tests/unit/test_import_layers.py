"""Layers point down: nothing below tui/ may pull in textual, and pandas stays off start-up.

Checked in a fresh interpreter because this test process has long since imported both.
Every module of the listed packages is imported (found by walking them), so a module added
later is covered without editing this list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CORE_PACKAGES = (
    "cryptoai_tui.market",
    "cryptoai_tui.exchanges",
    "cryptoai_tui.feed",
    "cryptoai_tui.strategies",
    "cryptoai_tui.sim",
    "cryptoai_tui.engine",
)
CORE_MODULES = ("cryptoai_tui.snapshot", "cryptoai_tui.replay", "cryptoai_tui.commands.signals", "cryptoai_tui.cli")

PROBE = """
import importlib, json, pkgutil, sys
packages, modules = json.loads(sys.argv[1])
imported, culprits = [], {}

def load(name):
    module = importlib.import_module(name)
    imported.append(name)
    for heavy in ("textual", "pandas"):
        if heavy in sys.modules and heavy not in culprits:
            culprits[heavy] = name
    return module

for name in packages:
    package = load(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        load(info.name)
for name in modules:
    load(name)
print(json.dumps({"imported": imported, "culprits": culprits}))
"""


def test_core_layers_import_neither_textual_nor_pandas() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([CORE_PACKAGES, CORE_MODULES])],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "cryptoai_tui.engine.realtime" in report["imported"]
    assert report["culprits"] == {}, "first loaded while importing: " + ", ".join(
        f"{heavy} <- {module}" for heavy, module in report["culprits"].items()
    )


# What `cryptoai-tui --exchange sim` does before its first frame: parse the command line,
# build the config and the app, and mount the Lab (headless here). The network clients, pandas,
# numpy, TA-Lib and the live screen must still be unloaded then; they load when a session needs them.
STARTUP_PROBE = """
import asyncio, json, sys
DEFERRED = ("httpx", "websockets", "pandas", "numpy", "talib", "cryptoai_tui.tui.screens.live",
            "cryptoai_tui.feed.kline_feed", "cryptoai_tui.sim.server")

def loaded():
    return sorted(name for name in DEFERRED if name in sys.modules)

from cryptoai_tui.cli import build_parser
from cryptoai_tui.commands.app import config_from_args
from cryptoai_tui.tui.app import make_app
from cryptoai_tui.tui.screens.lab import LabScreen

report = {}
app = make_app(config_from_args(build_parser().parse_args(["--exchange", "sim"])))
report["built"] = loaded()

async def first_frame():
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        report["lab_shown"] = isinstance(app.screen, LabScreen)
        report["mounted"] = loaded()

asyncio.run(first_frame())
from cryptoai_tui.tui.screens.live import LiveScreen  # noqa: F401  (the probe sees a real load)
report["after_live_import"] = loaded()
from cryptoai_tui.feed import KlineFeed  # noqa: F401  (what starting a session imports)
report["after_feed_import"] = loaded()
print(json.dumps(report))
"""


def test_app_start_up_loads_no_network_client_pandas_or_live_screen() -> None:
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["lab_shown"]
    assert report["built"] == [], "loaded by building the app: " + ", ".join(report["built"])
    assert report["mounted"] == [], "loaded by the Lab's first frame: " + ", ".join(report["mounted"])
    # The probe does see these modules when they load: opening the live screen loads it, and
    # the feed (asked for when a session starts) brings the network clients.
    assert "cryptoai_tui.tui.screens.live" in report["after_live_import"]
    assert {"httpx", "websockets", "cryptoai_tui.feed.kline_feed"} <= set(report["after_feed_import"])
