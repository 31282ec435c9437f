"""The engine takes its source: importing it loads neither the wiring nor the simulator.

(It may load feed/, the layer below it: `feed/__init__` brings KlineFeed for the types.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import cryptoai_tui.engine, cryptoai_tui.engine.history, cryptoai_tui.engine.publisher, cryptoai_tui.engine.realtime
print(json.dumps(sorted(name for name in sys.modules if name.startswith("cryptoai_tui."))))
"""


def test_the_engine_imports_neither_the_wiring_nor_the_simulator() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "cryptoai_tui.engine.realtime" in loaded
    for above_or_beside in ("cryptoai_tui.wiring", "cryptoai_tui.sim", "cryptoai_tui.tui", "cryptoai_tui.commands",
                            "cryptoai_tui.api"):
        assert not [name for name in loaded if name == above_or_beside or name.startswith(above_or_beside + ".")]


def test_no_engine_module_names_the_wiring_or_the_simulator() -> None:
    # lazy imports inside functions would not show in sys.modules above
    for path in (ROOT / "cryptoai_tui" / "engine").glob("*.py"):
        text = path.read_text()
        assert "cryptoai_tui.wiring" not in text and "cryptoai_tui.sim" not in text, path.name
