"""The Strategy Lab: the home screen where a session is put together step by step.

The numbered menu mirrors the original console flow (1 Asset … 6 Start). Each step opens a
picker (a `ModalScreen` that dismisses with the value); the Lab owns the choices and is the
only place that changes them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from cryptoai_tui.market.symbol import Symbol, close_matches
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.catalogue import describe_interval
from cryptoai_tui.tui.screens.asset_picker import AssetPicker
from cryptoai_tui.tui.screens.choice_picker import Choice, ChoicePicker
from cryptoai_tui.tui.screens.help import HelpScreen
from cryptoai_tui.tui.screens.live import SIM_EXCHANGE, LiveOutcome, LiveScreen
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.services import Services
from cryptoai_tui.tui.session import AppConfig, Endpoint, LabChoices, LabStep
from cryptoai_tui.tui.widgets.lab_menu import LabMenu

SUGGESTED_INTERVAL = "1m"  # on the simulator a 1m candle closes every two seconds

LAB_KEYS = (
    ("1 … 6", "open that step (1 Asset, 2 Strategies, 3 Timeframe, 4 Mode, 5 Exchange, 6 Start)"),
    ("↑ ↓ Enter", "move through the steps and open one"),
    ("s", "start the live screen with the current choice"),
    ("Esc", "in a picker: back without changing anything"),
    ("?", "this help"),
    ("q", "quit (Ctrl+Q works everywhere, even while typing)"),
)


def symbol_problem(symbol: str, listed: Sequence[Symbol], exchange_title: str) -> str | None:
    """A sentence saying `symbol` is not listed (with likely meant names), or None if it is."""
    names = [entry.name for entry in listed]
    if symbol in names:
        return None
    suggestions = close_matches(symbol, names)
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"{symbol} is not listed on {exchange_title}.{hint} Pick an asset from the list."


class LabScreen(Screen[None]):
    BINDINGS = [
        Binding("1", "open_step(1)", "Asset", show=False),
        Binding("2", "open_step(2)", "Strategies", show=False),
        Binding("3", "open_step(3)", "Timeframe", show=False),
        Binding("4", "open_step(4)", "Mode", show=False),
        Binding("5", "open_step(5)", "Exchange", show=False),
        Binding("6", "open_step(6)", "Start", show=False),
        Binding("s", "start", "Start"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, config: AppConfig, services: Services) -> None:
        super().__init__()
        self._config = config
        self._services = services
        self.choices = config.initial_choices()
        self._symbol_check: tuple[Endpoint, str, bool] | None = None

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="lab"):
            yield Static(
                Content.assemble(("cryptoai-tui", "bold $accent"), ("  ·  Strategy Lab", "bold")),
                id="lab-title",
            )
            yield Static(
                "Build a session step by step: press a number, or use ↑↓ and Enter.",
                id="lab-intro",
            )
            yield LabMenu(id="lab-menu")
            yield Static("", id="lab-summary")
            yield Static("", id="lab-message")
        yield Footer()

    def on_mount(self) -> None:
        self._show_choices()
        menu = self.query_one(LabMenu)
        menu.highlight_step(self.choices.next_step())
        menu.focus()
        if self.choices.symbol:
            self._check_symbol(self.choices.endpoint, self.choices.symbol)
        if self._config.open_live:
            self.call_after_refresh(self.action_start)

    def _show_choices(self) -> None:
        self.query_one(LabMenu).show_choices(self.choices, self._services.catalogue)
        self.query_one("#lab-summary", Static).update(self.choices.summary(self._exchange_in_sentence()))

    def say(self, text: str, *, error: bool = False) -> None:
        """An inline message under the menu (it stays until the next one, unlike a toast)."""
        message = self.query_one("#lab-message", Static)
        message.update(Content(text))  # names symbols the user typed: never parse it as markup
        message.set_class(error, "-error")
        message.set_class(not error and bool(text), "-info")

    @property
    def message(self) -> str:
        return str(self.query_one("#lab-message", Static).content)

    def _exchange_title(self, name: str | None = None) -> str:
        return self._services.catalogue.exchange(name or self.choices.exchange).title

    def _exchange_in_sentence(self) -> str:
        return self._services.catalogue.exchange(self.choices.exchange).in_sentence

    def _set_choices(self, choices: LabChoices) -> None:
        self.choices = choices
        self._show_choices()
        self.query_one(LabMenu).highlight_step(choices.next_step())

    # --- steps -----------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#lab-menu")
    def _menu_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.action_open_step(int(event.option.id))

    def action_open_step(self, number: int, prompt: str = "") -> None:
        step = LabStep(number)
        self.query_one(LabMenu).highlight_step(step)
        if step is LabStep.START:
            self.action_start()
            return
        catalogue = self._services.catalogue
        choices = self.choices
        if step is LabStep.ASSET:
            endpoint = choices.endpoint
            self.app.push_screen(
                AssetPicker(
                    self._exchange_in_sentence(),
                    lambda: self._services.symbols.load(endpoint),
                    current=choices.symbol,
                    prompt=prompt,
                ),
                self._asset_chosen,
            )
        elif step is LabStep.STRATEGIES:
            self.app.push_screen(
                StrategyPicker(catalogue.strategies, choices.strategy_names, prompt=prompt),
                self._strategies_chosen,
            )
        elif step is LabStep.TIMEFRAME:
            intervals = catalogue.intervals_for(choices.exchange)
            self.app.push_screen(
                ChoicePicker(
                    f"Timeframe on {self._exchange_in_sentence()}",
                    [Choice(name, name, describe_interval(name)) for name in intervals],
                    current=choices.interval,
                    suggested=SUGGESTED_INTERVAL,
                    prompt=prompt,
                ),
                self._interval_chosen,
            )
        elif step is LabStep.MODE:
            self.app.push_screen(
                ChoicePicker(
                    "Confluence mode",
                    [Choice(mode, mode.name, mode.description) for mode in ConfluenceMode],
                    current=choices.mode,
                    prompt=prompt,
                ),
                self._mode_chosen,
            )
        elif step is LabStep.EXCHANGE:
            self.app.push_screen(
                ChoicePicker(
                    "Exchange",
                    [Choice(info.name, info.title, info.description) for info in catalogue.exchanges],
                    current=choices.exchange,
                    prompt=prompt,
                ),
                self._exchange_chosen,
            )

    def _asset_chosen(self, symbol: str | None) -> None:
        if symbol is None:
            return
        self.say(f"Asset {symbol}.")
        self._set_choices(replace(self.choices, symbol=symbol))

    def _strategies_chosen(self, names: tuple[str, ...] | None) -> None:
        if names is None:
            return
        self.say(f"{len(names)} strateg{'y' if len(names) == 1 else 'ies'} chosen.")
        self._set_choices(self.choices.with_strategy_names(names))

    def _interval_chosen(self, interval: str | None) -> None:
        if interval is None:
            return
        self.say(f"Timeframe {interval}.")
        self._set_choices(replace(self.choices, interval=interval))

    def _mode_chosen(self, mode: ConfluenceMode | None) -> None:
        if mode is None:
            return
        self.say(f"Confluence mode {mode.name}: {mode.description}")
        self._set_choices(replace(self.choices, mode=mode))

    def _exchange_chosen(self, exchange: str | None) -> None:
        if exchange is None or exchange == self.choices.exchange:
            return
        self._switch_exchange(exchange)

    def _switch_exchange(self, exchange: str) -> None:
        # URL overrides from the command line belong to the exchange they were given for.
        keep_urls = exchange == self._config.exchange
        choices = replace(
            self.choices,
            exchange=exchange,
            ws_url=self._config.ws_url if keep_urls else None,
            rest_url=self._config.rest_url if keep_urls else None,
        )
        notes = [f"Exchange {self._exchange_title(exchange)}."]
        intervals = self._services.catalogue.intervals_for(exchange)
        if choices.interval and intervals and choices.interval not in intervals:
            notes.append(f"{choices.interval} is not offered there: choose another timeframe.")
            choices = replace(choices, interval=None)
        self.say(" ".join(notes), error=len(notes) > 1)
        self._set_choices(choices)
        if choices.symbol:
            self._check_symbol(choices.endpoint, choices.symbol, open_picker=False)

    # --- symbol check ----------------------------------------------------------------------
    def _check_symbol(self, endpoint: Endpoint, symbol: str, *, open_picker: bool = True) -> None:
        self._symbol_check = (endpoint, symbol, open_picker)
        self._load_symbols_for_check(endpoint)

    @work(exclusive=True, group="symbol-check", exit_on_error=False)
    async def _load_symbols_for_check(self, endpoint: Endpoint) -> tuple[Symbol, ...]:
        return await self._services.symbols.load(endpoint)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failed load says nothing about the symbol: the live screen reports the network.
        if event.worker.group != "symbol-check" or event.state is not WorkerState.SUCCESS:
            return
        if self._symbol_check is None:
            return
        endpoint, symbol, open_picker = self._symbol_check
        if endpoint != self.choices.endpoint or symbol != self.choices.symbol:
            return
        problem = symbol_problem(symbol, event.worker.result or (), self._exchange_in_sentence())
        if problem is None:
            return
        self.say(problem, error=True)
        if not open_picker:
            return
        live = self.app.screen
        if isinstance(live, LiveScreen):
            live.reject(LabStep.ASSET, problem)
        elif self.app.screen is self:
            # Not is_current: that stays true under an open picker, and a second picker would
            # stack on the first. With a picker open, the Lab's message waits for the user.
            self.action_open_step(LabStep.ASSET.value, problem)

    # --- start -----------------------------------------------------------------------------
    def action_start(self) -> None:
        choices = self.choices
        missing = choices.missing()
        if missing:
            sentence = choices.missing_sentence() or ""
            self.say(sentence, error=True)
            self.action_open_step(missing[0].value, sentence)
            return
        listed = self._services.symbols.cached(choices.endpoint)
        assert choices.symbol is not None and choices.interval is not None
        if listed is not None:
            problem = symbol_problem(choices.symbol, listed, self._exchange_in_sentence())
            if problem is not None:
                self.say(problem, error=True)
                self.action_open_step(LabStep.ASSET.value, problem)
                return
        intervals = self._services.catalogue.intervals_for(choices.exchange)
        if intervals and choices.interval not in intervals:
            problem = (
                f"{choices.interval} is not a timeframe {self._exchange_in_sentence()} offers; "
                f"choose one of {', '.join(intervals)}."
            )
            self.say(problem, error=True)
            self.action_open_step(LabStep.TIMEFRAME.value, problem)
            return
        session = choices.session()
        self.say("")
        self.app.push_screen(
            LiveScreen(
                session,
                self._services.engine_factory,
                exchange_title=self._exchange_title(),
                clock=self._services.clock,
                frame_rate=self._services.frame_rate,
            ),
            self._live_closed,
        )

    def _live_closed(self, outcome: LiveOutcome | None) -> None:
        if outcome is None:
            return
        if outcome.mode is not self.choices.mode:
            self._set_choices(replace(self.choices, mode=outcome.mode))
        if outcome.switch_to_sim:
            self._switch_exchange(SIM_EXCHANGE)
            self.say("Switched to the simulated exchange: offline, seeded, candles close every few seconds.")
            self.call_after_refresh(self.action_start)
        elif outcome.rejected_step is not None:
            self.say(outcome.message, error=True)
            self.action_open_step(outcome.rejected_step.value, outcome.message)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(
            "Strategy Lab",
            "Choose an asset, strategies, a timeframe, a confluence mode and an exchange, "
            "then start the live screen. Your choices show next to each step.",
            LAB_KEYS,
        ))
