"""The core packages (market, exchanges, feed, strategies, engine) type-check with mypy.

mypy runs in-process (`mypy.api.run`) with pyproject.toml's [tool.mypy], which names the
packages; its incremental cache lives in pytest's cache directory, so a warm run costs a
few seconds and a cold one (measured: about 8 s on this machine) stays well under 30 s.
Any error fails the suite: there is no list of tolerated ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")


@pytest.fixture(scope="module")
def mypy_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[tuple[str, str, str]]]:
    """mypy's whole output and its errors as (file, line, message)."""
    from mypy import api

    # without pytest's cache (`-p no:cacheprovider`) a cold run in a temporary directory
    pytest_cache = getattr(request.config, "cache", None)
    cache = pytest_cache.mkdir("mypy") if pytest_cache is not None else tmp_path_factory.mktemp("mypy-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        stdout, stderr, _status = api.run(
            ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache), "--no-error-summary",
             "--show-absolute-path"]
        )
    errors: list[tuple[str, str, str]] = []
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            path = Path(match["path"])
            shown = path.relative_to(ROOT).as_posix() if path.is_absolute() else path.as_posix()
            errors.append((shown, match["line"], match["message"]))
    assert not stderr.strip(), f"mypy could not run:\n{stderr}"
    return stdout, errors


def test_the_core_has_no_type_error(mypy_report: tuple[str, list[tuple[str, str, str]]]) -> None:
    output, errors = mypy_report
    found = [f"{path}:{line}: {message}" for path, line, message in errors]
    assert not found, "mypy found type errors in the core:\n" + "\n".join(found) + f"\n\nfull output:\n{output}"


def test_the_error_parser_reads_mypy_lines() -> None:
    match = _ERROR.match('/x/cryptoai_tui/feed/a.py:12: error: Bad thing  [misc]')
    assert match is not None and (match["line"], match["message"]) == ("12", "Bad thing  [misc]")
