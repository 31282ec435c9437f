"""The layers in pyproject.toml's [tool.importlinter] hold, and the check really bites.

import-linter runs as users run it (`lint-imports`, with this venv's interpreter) so the
failure message is the contract's own text: which layer imported which, along which chain.
A second test plants bad imports in a copy of the package and expects both contracts to
break, so a contract that matches nothing (a renamed layer, a typo) cannot pass silently.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "cryptoai_tui"

# click's entry point, run by the interpreter under test (the `lint-imports` script may
# belong to another environment on PATH)
_LINT = ("-c", "from importlinter.cli import lint_imports_command; lint_imports_command()")


def _lint(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [sys.executable, *_LINT, str(PYPROJECT), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def _contract_names() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_the_package_keeps_its_import_contracts() -> None:
    result = _lint(ROOT, ROOT)
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"import-linter found a broken contract:\n{report}"
    for name in _contract_names():
        assert f"{name} KEPT" in report, report


def test_a_bad_import_breaks_each_contract(tmp_path: Path) -> None:
    """Upward imports (feed -> tui, sim -> feed) break the layers; pandas at import time in
    the engine breaks the forbidden contract; each is named with its module and line."""
    copy = tmp_path / "cryptoai_tui"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    planted = {
        "feed/status.py": "from cryptoai_tui.tui import app as _planted_tui\n",
        "sim/clock.py": "from cryptoai_tui import feed as _planted_feed\n",
        "engine/history.py": "import pandas as _planted_pandas\n",
    }
    for relative, line in planted.items():
        with (copy / relative).open("a", encoding="utf-8") as handle:
            handle.write(line)

    result = _lint(tmp_path, tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    for name in _contract_names():
        assert f"{name} BROKEN" in report, report
    assert "cryptoai_tui.feed is not allowed to import cryptoai_tui.tui" in report, report
    assert "cryptoai_tui.sim is not allowed to import cryptoai_tui.feed" in report, report
    assert "cryptoai_tui.engine.history -> pandas" in report, report


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_level_imports(tree: ast.Module, target: str) -> list[int]:
    """Lines importing `target` outside any function (a TYPE_CHECKING block does not run)."""
    lines: list[int] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or _is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == target for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == target:
            lines.append(node.lineno)
        pending.extend(ast.iter_child_nodes(node))
    return lines


def _ignored_imports() -> list[tuple[str, str]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []
    for contract in config["tool"]["importlinter"]["contracts"]:
        for expression in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in expression.split("->"))
            pairs.append((importer, imported))
    return pairs


@pytest.mark.parametrize(("importer", "imported"), _ignored_imports())
def test_every_allowed_import_is_made_inside_a_function(importer: str, imported: str) -> None:
    """The contracts skip these imports because they are lazy; that must stay true."""
    relative = Path(*importer.split(".")[1:])
    path = PACKAGE / relative.with_suffix(".py")
    if not path.exists():
        path = PACKAGE / relative / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _module_level_imports(tree, imported) == [], (
        f"{importer} imports {imported} at import time; move it into the function that needs it"
    )


def test_the_lazy_import_check_sees_a_module_level_import() -> None:
    tree = ast.parse("import pandas\nif TYPE_CHECKING:\n    import pandas\ndef f():\n    import pandas\n")
    assert _module_level_imports(tree, "pandas") == [1]
