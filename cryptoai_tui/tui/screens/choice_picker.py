"""A modal that offers a short list of values with one line of explanation each.

Timeframe, confluence mode and exchange are all "pick one of a few", so they share this
screen and differ only in the `Choice` values they pass in.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from cryptoai_tui.tui.screens.help import CHOOSE, MOVE, key_hint

T = TypeVar("T")

_OPTION_PADDING = 2  # an OptionList option is padded by one cell on each side
_MIN_WRAP = 16  # narrower than this, a hanging indent helps nobody: let the text wrap


def hanging_prompt(head: Content, text: str, style: str, width: int | None) -> Content:
    """`head` followed by `text`; when that is wider than `width` cells, `text` wraps into
    lines that start under itself rather than under `head`, so the columns stay readable."""
    room = None if width is None else width - head.cell_length
    if room is None or room < _MIN_WRAP or head.cell_length + len(text) <= width:
        return head + Content.styled(text, style)
    lines = textwrap.wrap(text, room) or [""]
    indent = Content(" " * head.cell_length)
    return Content("\n").join(
        [head + Content.styled(lines[0], style)]
        + [indent + Content.styled(line, style) for line in lines[1:]]
    )


def option_width(options: OptionList) -> int | None:
    """Cells an option's prompt may take in `options`, or None before it is laid out."""
    width = options.scrollable_content_region.width - _OPTION_PADDING
    return width if width > 0 else None


@dataclass(frozen=True, slots=True)
class Choice(Generic[T]):
    value: T
    label: str
    description: str = ""


class ChoicePicker(ModalScreen[T | None], Generic[T]):
    """Dismisses with the chosen value, or None when the user backs out with Esc."""

    # ↑↓ and Enter are the option list's own keys while it has focus; bound here as well they
    # also work after a click elsewhere, and the hint under the list is built from them
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, group=MOVE),
        Binding("down", "move(1)", "Down", show=False, group=MOVE),
        Binding("enter", "choose", "Choose", show=False, group=CHOOSE),
        Binding("escape", "cancel", "Back"),
    ]

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
        options = [
            Option(self._option_prompt(choice, None), id=str(index))
            for index, choice in enumerate(self._choices)
        ]
        with Vertical(classes="picker"):
            yield Label(Content(self._title), classes="picker-title")
            if self._prompt:
                yield Static(Content(self._prompt), classes="picker-prompt")
            yield OptionList(*options, classes="picker-options")
            yield from self.compose_below_options()
            yield Static(self.hint(), classes="picker-hint")
        yield Footer()

    def compose_below_options(self) -> ComposeResult:
        """What a picker adds under its options (the mode picker's K field); nothing here."""
        yield from ()

    def hint(self) -> str:
        """The key hint under the picker, built from its bindings."""
        return key_hint(self.app, self.BINDINGS)

    def _option_prompt(self, choice: Choice[T], width: int | None) -> Content:
        label_width = max((len(choice.label) for choice in self._choices), default=0) + 3
        marker = "● " if choice.value == self._current else "  "
        head = Content.assemble((marker, "$accent"), (choice.label.ljust(label_width), "bold"))
        return hanging_prompt(head, choice.description, "$text-muted", width)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._wrap_descriptions)

    def _wrap_descriptions(self) -> None:
        """Descriptions too long for the list wrap under themselves, not under the labels."""
        options = self.query_one(OptionList)
        width = option_width(options)
        for index, choice in enumerate(self._choices):
            options.replace_option_prompt_at_index(index, self._option_prompt(choice, width))

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

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_choose(self) -> None:
        self.query_one(OptionList).action_select()

    def action_cancel(self) -> None:
        self.dismiss(None)
