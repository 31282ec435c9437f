"""The confluence mode picker: ALL, ANY, MAJORITY, or "K of N" with K typed in.

"At least K" carries a number, so it cannot be one more fixed choice: the picker is the
shared ChoicePicker plus a K field. Choosing "K of N" moves to the field; Enter there
validates K against the strategies chosen (1..N) and dismisses with the ConfluenceRule, or
says in one sentence what is wrong and stays open.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Label, OptionList, Static

from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import ConfluenceMode, ConfluenceRule
from cryptoai_tui.tui.screens.choice_picker import Choice, ChoicePicker

#: how many strategies there are at most, for the K range before any are chosen
ALL_STRATEGIES = 11


def k_problem(text: str, total: int) -> str | None:
    """A sentence saying why `text` is not a usable K for `total` strategies, or None."""
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= total:
        noun = "strategy" if total == 1 else "strategies"
        return (f"K must be a whole number from 1 to {total} (the {total} {noun} chosen), "
                f"not {value or 'nothing'}.")
    return None


class ModePicker(ChoicePicker[Mode]):
    """Dismisses with a ConfluenceMode, the ConfluenceRule for "at least K", or None (Esc)."""

    def __init__(self, current: Mode, strategies: int, *, prompt: str = "") -> None:
        """`strategies` is N, the number chosen (0: none yet, K may go up to all eleven)."""
        self._total = strategies or ALL_STRATEGIES
        k_current = current if isinstance(current, ConfluenceRule) else None
        self._k_default = k_current.k if k_current is not None else min(3, self._total)
        n = str(strategies) if strategies else "N"
        choices: list[Choice[Mode]] = [Choice(mode, mode.name, mode.description) for mode in ConfluenceMode]
        choices.append(Choice(
            k_current or ConfluenceRule.at_least(self._k_default), f"K of {n}",
            f"A trigger and at least K of the {n} strategies (the trigger's included) on its side; "
            "type K below.",
        ))
        super().__init__("Confluence mode", choices, current=current, prompt=prompt, id="mode-picker")

    def compose_below_options(self) -> ComposeResult:
        with Horizontal(id="mode-k-row"):
            yield Label(f"K (1–{self._total}) ", id="mode-k-label")
            yield Input(str(self._k_default), type="integer", id="mode-k", max_length=3)
        yield Static("", id="mode-k-error", classes="picker-prompt -error")

    def hint(self) -> str:
        return f"{super().hint()} · K of N: type K, Enter"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        event.prevent_default()  # Textual would run ChoicePicker's handler too: it dismisses
        assert event.option.id is not None
        value = self._choices[int(event.option.id)].value
        if isinstance(value, ConfluenceRule):
            self.query_one("#mode-k", Input).focus()
            return
        self.dismiss(value)

    @on(Input.Submitted, "#mode-k")
    def _k_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = k_problem(event.value, self._total)
        error = self.query_one("#mode-k-error", Static)
        error.set_class(problem is not None, "-shown")
        if problem is not None:
            error.update(Content(problem))
            return
        self.dismiss(ConfluenceRule.at_least(int(event.value.strip())))
