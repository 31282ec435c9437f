"""The `?` screen: what the current screen is for and every key it answers to."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

KeyHelp = tuple[str, str]  # (keys as the user presses them, what they do)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, title: str, purpose: str, keys: Sequence[KeyHelp]) -> None:
        super().__init__()
        self._title = title
        self._purpose = purpose
        self._keys = tuple(keys)

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self._keys), default=0) + 3
        lines = [
            Content.assemble((keys.ljust(width), "bold $accent"), what) for keys, what in self._keys
        ]
        with Vertical(classes="picker"):
            yield Label(Content(f"Help · {self._title}"), classes="picker-title")
            yield Static(Content(self._purpose), classes="picker-prompt")
            yield Static(Content("\n").join(lines), id="help-keys")
            yield Static("Esc or ? closes this help", classes="picker-hint")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
