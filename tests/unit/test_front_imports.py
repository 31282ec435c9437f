"""The import rules of the front end, read from the source (the static graph; the
subprocess probe in test_import_layers covers what loads lazily)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cryptoai_tui"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function, TYPE_CHECKING included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sim_sessions_do_not_import_the_server_that_imports_them() -> None:
    assert "cryptoai_tui.sim.server" not in imported_modules(PACKAGE / "sim" / "sessions.py")
    assert "cryptoai_tui.sim.context" in imported_modules(PACKAGE / "sim" / "sessions.py")


def test_commands_do_not_import_the_parser_that_dispatches_to_them() -> None:
    for path in (PACKAGE / "commands").glob("*.py"):
        assert "cryptoai_tui.cli" not in imported_modules(path), path.name


def test_feed_and_exchanges_know_neither_the_script_api_the_wiring_nor_the_simulator() -> None:
    for folder in ("feed", "exchanges"):
        for path in (PACKAGE / folder).glob("*.py"):
            names = imported_modules(path)
            assert not {"cryptoai_tui.api", "cryptoai_tui.wiring"} & names, path
            assert not any(name.startswith("cryptoai_tui.sim") for name in names), path


def test_only_wiring_spells_the_simulators_exchange_name() -> None:
    """'sim' as a string literal compared or assigned outside wiring.py (the command-line
    choice list and the exchange picker's entry excepted) means a special case crept back."""
    allowed = {PACKAGE / "wiring.py", PACKAGE / "cli.py", PACKAGE / "tui" / "catalogue.py"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path in allowed or PACKAGE / "sim" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == "sim":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
