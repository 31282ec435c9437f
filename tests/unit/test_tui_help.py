"""The help screens' key lists come from the bindings, so they cannot drift from the keys."""

from __future__ import annotations

from textual.app import App

from cryptoai_tui.tui.screens.help import bindings_help
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.screens.live import LiveScreen


def test_every_live_binding_has_a_help_line_and_pause_resume_share_one() -> None:
    lines = dict(bindings_help(App(), LiveScreen.BINDINGS))
    actions = {binding.action for binding in LiveScreen.BINDINGS}
    assert actions == {"back", "back_to_watchlist", "pause", "resume", "cycle_mode", "toggle_chart", "switch_to_sim", "help",
                       "app.open_journal", "app.open_alerts",
                       "switch_asset", "switch_strategies", "switch_timeframe"}
    assert lines["p"] == "pause or resume drawing (the feed keeps running)"
    assert lines["esc"].startswith("back to the Strategy Lab, or to the Watchlist")  # one line for both
    assert lines["1"].startswith("switch to another asset")
    assert set(lines) == {"esc", "p", "m", "c", "j", "a", "1", "2", "3", "s", "?"}


def test_the_numbered_lab_steps_share_one_line() -> None:
    lines = bindings_help(App(), LabScreen.BINDINGS)
    assert lines[0][0] == "1 … 7" and lines[0][1].startswith("open that step")
    assert [keys for keys, _ in lines] == ["1 … 7", "s", "j", "a", "w", "?"]


def test_key_hints_are_built_from_the_bindings_groups_first_then_what_the_footer_shows() -> None:
    from textual.binding import Binding

    from cryptoai_tui.tui.screens.help import CHOOSE, MOVE, key_hint

    bindings = [
        Binding("up", "move(-1)", "Up", show=False, group=MOVE),
        Binding("down", "move(1)", "Down", show=False, group=MOVE),
        Binding("enter", "choose", "Choose", show=False, group=CHOOSE),
        Binding("pagedown", "move(10)", "Page down", show=False),  # hidden, no group: not hinted
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+r", "retry", "Retry"),
    ]
    assert key_hint(App(), bindings) == "↑↓ move · Enter choose · Esc back · ^r retry"
    assert key_hint(App(), bindings, leave_out={"retry"}) == "↑↓ move · Enter choose · Esc back"
    # a key rebound in BINDINGS is what the hint says: nothing to edit a second time
    rebound = [Binding("k", "move(-1)", "Up", show=False, group=MOVE), *bindings[1:]]
    assert key_hint(App(), rebound, leave_out={"retry"}).startswith("k↓ move · ")


def test_every_picker_hint_names_only_keys_its_screen_binds() -> None:
    from cryptoai_tui.tui.screens.asset_picker import AssetPicker
    from cryptoai_tui.tui.screens.choice_picker import ChoicePicker
    from cryptoai_tui.tui.screens.help import key_hint
    from cryptoai_tui.tui.screens.strategy_picker import StrategyChecklist, StrategyPicker

    app = App()
    assert key_hint(app, ChoicePicker.BINDINGS) == "↑↓ move · Enter choose · Esc back"
    # the favourite key (Ctrl+F) joined the asset picker's bindings, and so its hint
    assert key_hint(app, AssetPicker.BINDINGS, leave_out={"retry"}) == "↑↓ move · Enter choose · Esc back · ^f star"
    assert key_hint(app, StrategyChecklist.BINDINGS, StrategyPicker.BINDINGS) == (
        "Space toggle · Enter done · a all · n none · Esc back"
    )
