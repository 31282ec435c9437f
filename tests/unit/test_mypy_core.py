"""The core packages (market, exchanges, feed, strategies, engine) type-check with mypy.

mypy runs in-process (`mypy.api.run`) with pyproject.toml's [tool.mypy], which names the
packages; its incremental cache lives in pytest's cache directory, so a warm run costs a
few seconds and a cold one (measured: about 8 s on this machine) stays well under 30 s.

`KNOWN_ERRORS` lists errors in files other engineers own right now; they are matched by
file and message (not line, which moves as those files change), and `test_no_error_is_left`
is a strict xfail that turns red as soon as they are fixed, so the list cannot go stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: (file, message) of errors awaiting the owners of those files; each shows in the xfail
KNOWN_ERRORS: frozenset[tuple[str, str]] = frozenset({
    ("cryptoai_tui/strategies/smc/liquidity_sweep.py",
     'Incompatible types in assignment (expression has type "float", variable has type '
     '"LiquidityLevel")  [assignment]'),
    ("cryptoai_tui/strategies/smc/liquidity_sweep.py",
     'Argument 1 to "price_text" has incompatible type "LiquidityLevel"; expected "float"  [arg-type]'),
    ("cryptoai_tui/strategies/smc/liquidity_sweep.py",
     'Dict entry 0 has incompatible type "str": "LiquidityLevel"; expected "str": "float"  [dict-item]'),
})

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")


@pytest.fixture(scope="module")
def mypy_report(request: pytest.FixtureRequest) -> tuple[str, list[tuple[str, str, str]]]:
    """mypy's whole output and its errors as (file, line, message)."""
    from mypy import api

    cache = request.config.cache.mkdir("mypy") if request.config.cache else ROOT / ".mypy_cache"
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


def test_the_core_has_no_type_error_outside_the_known_list(
    mypy_report: tuple[str, list[tuple[str, str, str]]],
) -> None:
    output, errors = mypy_report
    new = [f"{path}:{line}: {message}" for path, line, message in errors if (path, message) not in KNOWN_ERRORS]
    assert not new, "mypy found type errors in the core:\n" + "\n".join(new) + f"\n\nfull output:\n{output}"


@pytest.mark.xfail(
    strict=True,
    reason="errors left in files owned elsewhere (strategies/smc/liquidity_sweep.py x3): "
           "see KNOWN_ERRORS; remove this mark when they are fixed",
)
def test_no_error_is_left(mypy_report: tuple[str, list[tuple[str, str, str]]]) -> None:
    _output, errors = mypy_report
    assert not errors, "\n".join(f"{path}:{line}: {message}" for path, line, message in errors)


def test_the_error_parser_reads_mypy_lines() -> None:
    match = _ERROR.match('/x/cryptoai_tui/feed/a.py:12: error: Bad thing  [misc]')
    assert match is not None and (match["line"], match["message"]) == ("12", "Bad thing  [misc]")
