"""Choose any of the strategies, grouped Classic / Smart Money, with a line on each."""

from __future__ import annotations

from typing import Iterable

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from cryptoai_tui.tui.catalogue import STRATEGY_GROUPS, StrategyInfo
from cryptoai_tui.tui.screens.choice_picker import hanging_prompt, option_width
from cryptoai_tui.tui.screens.help import key_hint

_HEADING_PREFIX = "group:"


class StrategyChecklist(OptionList):
    """An option list whose options are check boxes: Space or a click toggles, Enter confirms.

    Group headings are disabled options, so the cursor skips them.
    """

    BINDINGS = [
        Binding("space", "toggle", "Toggle"),
        Binding("enter", "confirm", "Done"),
        Binding("a", "select_all", "All"),
        Binding("n", "select_none", "None"),
    ]

    class Confirmed(Message):
        """The user is done choosing."""

    class Changed(Message):
        def __init__(self, chosen: tuple[str, ...]) -> None:
            super().__init__()
            self.chosen = chosen

    def __init__(self, strategies: Iterable[StrategyInfo], chosen: Iterable[str], *, id: str | None = None) -> None:
        self._strategies = tuple(strategies)
        self._chosen = set(chosen)
        self._title_width = max((len(info.title) for info in self._strategies), default=0) + 2
        self._wrap_width: int | None = None
        super().__init__(*self._build_options(), id=id)

    def _build_options(self) -> list[Option]:
        options: list[Option] = []
        groups = list(STRATEGY_GROUPS) + sorted(
            {info.group for info in self._strategies} - set(STRATEGY_GROUPS)
        )
        for group in groups:
            members = [info for info in self._strategies if info.group == group]
            if not members:
                continue
            heading = Content.styled(f"{group} ({len(members)})", "bold $secondary")
            options.append(Option(heading, id=f"{_HEADING_PREFIX}{group}", disabled=True))
            options.extend(Option(self._prompt(info), id=info.name) for info in members)
        return options

    def _prompt(self, info: StrategyInfo) -> Content:
        checked = info.name in self._chosen
        box = ("[x] ", "bold $success") if checked else ("[ ] ", "$text-muted")
        head = Content.assemble(
            "  ", box, (info.title.ljust(self._title_width), "bold"), (f"{info.name:<17}", "$accent"),
        )
        return hanging_prompt(head, info.description, "$text-muted", self._wrap_width)

    @property
    def chosen(self) -> tuple[str, ...]:
        """Chosen names in catalogue order (a stable order reads better in the table)."""
        return tuple(info.name for info in self._strategies if info.name in self._chosen)

    def on_mount(self) -> None:
        if self.highlighted is not None and self._options[self.highlighted].disabled:
            self.action_cursor_down()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        """Descriptions too long for the list wrap under themselves, not under the titles."""
        width = option_width(self)
        if width != self._wrap_width:
            self._wrap_width = width
            self._replace_prompts()

    def _replace_prompts(self) -> None:
        for info in self._strategies:
            self.replace_option_prompt(info.name, self._prompt(info))

    def _refresh_prompts(self) -> None:
        self._replace_prompts()
        self.post_message(self.Changed(self.chosen))

    def action_toggle(self) -> None:
        option = self.highlighted_option
        if option is None or option.disabled or option.id is None:
            return
        self._chosen ^= {option.id}
        self._refresh_prompts()

    def action_select(self) -> None:
        """A click (or OptionList's own select) toggles, like a check box."""
        self.action_toggle()

    def action_confirm(self) -> None:
        self.post_message(self.Confirmed())

    def action_select_all(self) -> None:
        self._chosen = {info.name for info in self._strategies}
        self._refresh_prompts()

    def action_select_none(self) -> None:
        self._chosen = set()
        self._refresh_prompts()


class StrategyPicker(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the chosen names, or None on Esc. Confirming an empty choice is refused."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def __init__(
        self, strategies: Iterable[StrategyInfo], chosen: Iterable[str] = (), *, prompt: str = ""
    ) -> None:
        super().__init__()
        self._strategies = tuple(strategies)
        self._initial = tuple(chosen)
        self._prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker picker-wide"):
            yield Label("Strategies", classes="picker-title")
            yield Static(Content(self._prompt), id="strategy-message", classes="picker-prompt")
            yield StrategyChecklist(self._strategies, self._initial, id="strategy-list")
            yield Static("", id="strategy-count", classes="picker-hint")
        yield Footer()

    def on_mount(self) -> None:
        checklist = self.query_one(StrategyChecklist)
        checklist.focus()
        self._show_count(checklist.chosen)
        self._show_message(bool(self._prompt))

    @on(StrategyChecklist.Changed)
    def _chosen_changed(self, event: StrategyChecklist.Changed) -> None:
        self._show_count(event.chosen)
        message = self.query_one("#strategy-message", Static)
        if event.chosen and message.has_class("-error"):
            message.remove_class("-error")
            self._show_message(False)  # the refusal no longer applies

    def _show_message(self, visible: bool) -> None:
        """Show or hide the line above the list; while shown the list is kept shorter
        (app.tcss), so on a 24-row terminal the hint under it is not pushed off."""
        self.query_one("#strategy-message", Static).display = visible
        self.set_class(visible, "-prompted")

    def _show_count(self, chosen: tuple[str, ...]) -> None:
        keys = key_hint(self.app, StrategyChecklist.BINDINGS, self.BINDINGS)
        self.query_one("#strategy-count", Static).update(f"{len(chosen)} of {len(self._strategies)} chosen · {keys}")

    @on(StrategyChecklist.Confirmed)
    def _confirmed(self) -> None:
        chosen = self.query_one(StrategyChecklist).chosen
        if not chosen:
            message = self.query_one("#strategy-message", Static)
            message.update("Choose at least one strategy: Space toggles the highlighted one, a picks all.")
            self._show_message(True)
            message.add_class("-error")
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
