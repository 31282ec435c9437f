"""The `?` screen: what the current screen is for and every key it answers to.

The key list is built from the screen's own BINDINGS (and the app's), never typed a second
time: a binding's `tooltip` is its long explanation, its `description` the footer word
(posting's help screen and Textual's HelpPanel do the same). The one-line key hints under
the pickers' lists are built from BINDINGS too (`key_hint`), so a key changed in one place
cannot leave a hint that names the old one.
"""

from __future__ import annotations

from typing import Collection, Iterable, Sequence

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

KeyHelp = tuple[str, str]  # (keys as the user presses them, what they do)


def bindings_help(app: App[object], *groups: Iterable[BindingType]) -> list[KeyHelp]:
    """One line per action, in binding order: the keys bound to it and what it does.

    Bindings of one action with different keys share a line (`1 2 3` would be three lines
    of the same sentence otherwise); bindings without a description are internal.
    """
    lines: dict[str, tuple[list[str], str]] = {}
    for group in groups:
        for item in group:
            binding = item if isinstance(item, Binding) else Binding(*item)
            for key_binding in Binding.make_bindings([binding]):
                if not key_binding.description:
                    continue
                what = key_binding.tooltip or key_binding.description
                line = lines.setdefault(what, ([], what))
                key = app.get_key_display(key_binding)
                if key not in line[0]:
                    line[0].append(key)
    return [(_key_list(keys), what) for keys, what in lines.values()]


#: Binding groups the pickers share, so their hints read the same: "↑↓ move · Enter choose"
MOVE = Binding.Group("move", compact=True)
CHOOSE = Binding.Group("choose")

# How a hint names keys: as the keycaps read, where the footer's short forms ("esc", "⏎")
# would look like a different key inside a sentence
_HINT_KEYS = {"escape": "Esc", "enter": "Enter", "space": "Space", "up": "↑", "down": "↓", "tab": "Tab"}


def key_hint(app: App[object], *groups: Iterable[BindingType], leave_out: Collection[str] = ()) -> str:
    """`↑↓ move · Enter choose · Esc back` from bindings, in binding order.

    A hint names what the footer shows (`show=True`) plus the keys of a `Binding.Group`
    (hidden from the footer because the list handles them, yet worth saying once); keys of
    one group share its word, joined without a space when the group is compact. `leave_out`
    names actions said elsewhere (the asset picker's status line offers Ctrl+R itself).
    """
    entries: dict[object, tuple[list[str], str, bool]] = {}
    for group in groups:
        for item in group:
            binding = item if isinstance(item, Binding) else Binding(*item)
            for key_binding in Binding.make_bindings([binding]):
                if key_binding.action in leave_out or not (key_binding.show or key_binding.group):
                    continue
                if key_binding.group is not None:
                    slot: object = key_binding.group
                    word, compact = key_binding.group.description, key_binding.group.compact
                else:
                    slot, word, compact = key_binding.action, key_binding.description.lower(), False
                if not word:
                    continue
                keys = entries.setdefault(slot, ([], word, compact))[0]
                key = key_binding.key_display or _HINT_KEYS.get(key_binding.key) or app.get_key_display(key_binding)
                if key not in keys:
                    keys.append(key)
    return " · ".join(
        f"{('' if compact else ' ').join(keys)} {word}" for keys, word, compact in entries.values()
    )


def _key_list(keys: list[str]) -> str:
    """`1…6` for a run of digit keys, else the keys one after another."""
    if len(keys) > 2 and all(key.isdigit() and len(key) == 1 for key in keys):
        numbers = [int(key) for key in keys]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return f"{keys[0]} … {keys[-1]}"
    return " ".join(keys)


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
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
