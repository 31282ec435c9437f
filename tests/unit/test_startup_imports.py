"""`cryptoai-tui --exchange sim` builds its Lab without numpy, TA-Lib, pandas or the network
clients: they cost about 0.15 s of a 0.45 s start-up budget and nothing before the first
frame needs them (the strategy picker reads `strategies.listing`, not the classes).

Checked in a fresh interpreter, because this test process has imported all of them long ago.
The probe walks the command's own path up to the app object, without the event loop:
parse the arguments, merge the remembered choices, build the config and `make_app`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "talib", "pandas", "httpx", "websockets")

PROBE = """
import json, sys
from dataclasses import replace
from cryptoai_tui.cli import build_parser
from cryptoai_tui.commands.app import config_with_remembered
from cryptoai_tui.commands.running import simulator_settings
from cryptoai_tui.config import LastChoices, Settings
from cryptoai_tui.tui.app import make_app

last = LastChoices(**json.loads(sys.argv[1]))
args = build_parser().parse_args(["--exchange", "sim"])
config = config_with_remembered(args, last)
args.exchange = config.exchange
app = make_app(replace(config, simulator=simulator_settings(args)), settings=Settings(None))
names = [info.name for info in app.services.catalogue.strategies]
heavy = sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)
print(json.dumps({"heavy": heavy, "strategies": names, "chosen": [str(s) for s in config.strategies]}))
"""


def probe(last: dict[str, str]) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(last), json.dumps(HEAVY)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_building_the_lab_loads_no_heavy_module() -> None:
    report = probe({})
    assert report["heavy"] == [], "loaded before the first frame: " + ", ".join(report["heavy"])
    assert len(report["strategies"]) == 11  # the picker still lists every strategy


@pytest.mark.parametrize("remembered", ["rsi;macd", "all"])
def test_remembered_bare_names_load_no_heavy_module(remembered: str) -> None:
    """What the Lab remembers is bare names; reading them must not import the classes."""
    report = probe({"exchange": "sim", "strategies": remembered})
    assert report["chosen"] and report["heavy"] == [], ", ".join(report["heavy"])
