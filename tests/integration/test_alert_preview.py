"""`alert preview` over the exchange's REST history: the simulator replaying real candles
serves it on loopback, so the REST preview must count what a CSV preview of the same
candles counts, with and without the cooldown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cryptoai_tui.cli import main
from cryptoai_tui.replay import write_candles_csv
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from tests.conftest import CANDLES_DIR, load_candles

HISTORY = 300


def _fired(text: str) -> tuple[int, int | None]:
    match = re.search(r"would have fired (\d+) times over (\d+) candles.*?(?:\((\d+) without)?", text)
    assert match, text
    found = re.search(r"\((\d+) without", text)
    return int(match.group(1)), int(found.group(1)) if found else None


@pytest.mark.parametrize("cooldown", ["0s", "12h"])
def test_rest_preview_counts_what_the_csv_preview_of_the_same_candles_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cooldown: str,
) -> None:
    candles = load_candles("BTCUSDT-1h.csv", limit=HISTORY)
    level = sorted(c.close for c in candles)[HISTORY // 2]  # a level the price crosses often
    rule = f"price crosses above {level}"
    csv_path = tmp_path / "history.csv"
    write_candles_csv(csv_path, candles)
    common = ["--symbol", "BTCUSDT", "--interval", "1h", "--frequency", "every", "--cooldown", cooldown]

    assert main(["alert", "preview", rule, "--replay", str(csv_path), *common]) == 0
    from_csv = _fired(capsys.readouterr().out)

    config = SimConfig(replay=(CANDLES_DIR / "BTCUSDT-1h.csv",), replay_history=HISTORY)
    with SimExchange(config).start_in_thread() as sim:
        code = main(["alert", "preview", rule, *common, "--candles", str(HISTORY),
                     "--exchange", "sim", "--ws-url", sim.ws_url, "--rest-url", sim.rest_url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"over {HISTORY} candles (BTCUSDT 1h on sim)" in out.out
    from_rest = _fired(out.out)
    assert from_rest == from_csv
    assert from_rest[0] > 1
    if cooldown != "0s":
        assert from_rest[1] is not None and from_rest[1] > from_rest[0]  # the cooldown held some back


def test_rest_preview_needs_a_symbol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alert", "preview", "price above 1", "--interval", "1h"]) == 2
    assert "needs --symbol" in capsys.readouterr().err


def test_a_bad_rule_is_refused_with_the_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alert", "preview", "price sideways 5", "--symbol", "BTCUSDT", "--interval", "1h"]) == 2
    err = capsys.readouterr().err
    assert "is not a rule cryptoai-tui reads" in err and "price above|below" in err
