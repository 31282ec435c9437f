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
