"""The help screens' key lists come from the bindings, so they cannot drift from the keys."""

from __future__ import annotations

from textual.app import App

from cryptoai_tui.tui.screens.help import bindings_help
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen


def test_every_live_binding_has_a_help_line_and_pause_resume_share_one() -> None:
    lines = dict(bindings_help(App(), LiveScreen.BINDINGS))
    actions = {binding.action for binding in LiveScreen.BINDINGS}
    assert actions == {"back", "pause", "resume", "cycle_mode", "toggle_chart", "switch_to_sim", "help"}
    assert lines["p"] == "pause or resume drawing (the feed keeps running)"
    assert set(lines) == {"esc", "p", "m", "c", "s", "?"}


def test_the_numbered_lab_steps_share_one_line() -> None:
    lines = bindings_help(App(), LabScreen.BINDINGS)
    assert lines[0][0] == "1 … 6" and lines[0][1].startswith("open that step")
    assert [keys for keys, _ in lines] == ["1 … 6", "s", "w", "?"]
