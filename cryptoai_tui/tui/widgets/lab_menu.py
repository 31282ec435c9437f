"""The Lab's numbered menu: every step with the value currently chosen for it.

The values live in the menu lines themselves so the whole choice is visible at a glance,
as in the original numbered console flow.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cryptoai_tui.market.symbol import split_pair
from cryptoai_tui.tui.catalogue import Catalogue
from cryptoai_tui.tui.session import LabChoices, LabStep

_LABEL_WIDTH = 18
NOT_CHOSEN = "not chosen"


class LabMenu(OptionList):
    """One option per `LabStep`; option ids are the step numbers as strings."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(*(Option(step.title, id=str(step.value)) for step in LabStep), id=id)

    def show_choices(self, choices: LabChoices, catalogue: Catalogue) -> None:
        for step in LabStep:
            self.replace_option_prompt(str(step.value), menu_line(step, choices, catalogue))

    def highlight_step(self, step: LabStep) -> None:
        self.highlighted = self.get_option_index(str(step.value))

    @property
    def highlighted_step(self) -> LabStep | None:
        option = self.highlighted_option
        return LabStep(int(option.id)) if option is not None and option.id else None


def menu_line(step: LabStep, choices: LabChoices, catalogue: Catalogue) -> Content:
    number = (f" {step.value} ", "bold $accent")
    if step is LabStep.START:
        missing = choices.missing()
        if missing:
            needs = ", ".join(s.title.lower() for s in missing)
            state: Content = Content.assemble((f"needs {needs}", "$text-muted"))
        else:
            state = Content.assemble(("ready: press Enter", "$success"))
        return Content.assemble(number, " ", ("▶ " + step.title, "bold"), "   ", state)
    label = step.title.ljust(_LABEL_WIDTH)
    return Content.assemble(number, " ", (label, "bold"), choice_value(step, choices, catalogue))


def choice_value(step: LabStep, choices: LabChoices, catalogue: Catalogue) -> Content:
    muted = "$text-muted"
    if step is LabStep.ASSET:
        if not choices.symbol:
            return Content.styled(NOT_CHOSEN, "$warning")
        base, quote = split_pair(choices.symbol)
        pair = f"  {base} / {quote}" if base and quote else ""
        return Content.assemble((choices.symbol, "bold"), (pair, muted))
    if step is LabStep.STRATEGIES:
        names = choices.strategy_names
        if not names:
            return Content.styled(NOT_CHOSEN, "$warning")
        total = len(catalogue.strategies)
        shown = ", ".join(names) if len(names) <= 4 else ", ".join(names[:4]) + ", …"
        return Content.assemble((shown, "bold"), (f"  ({len(names)} of {total})", muted))
    if step is LabStep.TIMEFRAME:
        if not choices.interval:
            return Content.styled(NOT_CHOSEN, "$warning")
        return Content.styled(choices.interval, "bold")
    if step is LabStep.MODE:
        from cryptoai_tui.strategies.confluence import mode_label

        count = len(choices.strategies)
        label = mode_label(choices.mode, count) if count else choices.mode.name
        return Content.assemble((label, "bold"), (f"  {choices.mode.description}", muted))
    if step is LabStep.EXCHANGE:
        info = catalogue.exchange(choices.exchange)
        where = f"  {choices.ws_url or choices.rest_url}" if (choices.ws_url or choices.rest_url) else ""
        return Content.assemble((info.title, "bold"), (f"  ({info.name}){where}", muted))
    return Content("")
