"""A modal that offers a short list of values with one line of explanation each.

Timeframe, confluence mode and exchange are all "pick one of a few", so they share this
screen and differ only in the `Choice` values they pass in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Choice(Generic[T]):
    value: T
    label: str
    description: str = ""


class ChoicePicker(ModalScreen[T | None], Generic[T]):
    """Dismisses with the chosen value, or None when the user backs out with Esc."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(
        self,
        title: str,
        choices: Sequence[Choice[T]],
        *,
        current: T | None = None,
        suggested: T | None = None,
        prompt: str = "",
        id: str | None = None,
    ) -> None:
        """`current` is marked and highlighted; without one, `suggested` is highlighted."""
        super().__init__(id=id)
        self._title = title
        self._choices = tuple(choices)
        self._current = current
        self._suggested = suggested
        self._prompt = prompt

    def compose(self) -> ComposeResult:
        label_width = max((len(choice.label) for choice in self._choices), default=0) + 3
        options = [
            Option(self._option_prompt(choice, label_width), id=str(index))
            for index, choice in enumerate(self._choices)
        ]
        with Vertical(classes="picker"):
            yield Label(self._title, classes="picker-title")
            if self._prompt:
                yield Static(self._prompt, classes="picker-prompt")
            yield OptionList(*options, classes="picker-options")
            yield Static("↑↓ move · Enter choose · Esc back", classes="picker-hint")
        yield Footer()

    def _option_prompt(self, choice: Choice[T], label_width: int) -> Content:
        marker = "● " if choice.value == self._current else "  "
        return Content.assemble(
            (marker, "$accent"),
            (choice.label.ljust(label_width), "bold"),
            (choice.description, "$text-muted"),
        )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        wanted = self._current if self._current is not None else self._suggested
        for index, choice in enumerate(self._choices):
            if choice.value == wanted:
                options.highlighted = index
                break
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.dismiss(self._choices[int(event.option.id)].value)

    def action_cancel(self) -> None:
        self.dismiss(None)
