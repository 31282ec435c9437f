"""The Strategy Lab: the home screen where a session is put together step by step.

The numbered menu mirrors the original console flow (1 Asset … 6 Start). Each step opens a
picker (a `ModalScreen` that dismisses with the value); the Lab owns the choices and is the
only place that changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from enum import Enum
from typing import TYPE_CHECKING, Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from cryptoai_tui.market.symbol import Symbol, close_matches
from cryptoai_tui.strategies.confluence import Mode, mode_label
from cryptoai_tui.strategies.signal import ConfluenceRule
from cryptoai_tui.tui.catalogue import describe_interval
from cryptoai_tui.tui.screens.asset_picker import AssetPicker
from cryptoai_tui.tui.screens.choice_picker import Choice, ChoicePicker
from cryptoai_tui.tui.messages import SymbolChecked
from cryptoai_tui.tui.screens.help import HelpScreen, bindings_help
from cryptoai_tui.tui.screens.mode_picker import ModePicker
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.services import Services
from cryptoai_tui.tui.session import AppConfig, Endpoint, LabChoices, LabStep
from cryptoai_tui.tui.widgets.lab_menu import LabMenu
from cryptoai_tui.wiring import display_title, is_simulator

if TYPE_CHECKING:  # the live screen (and the feed under it) loads when a session starts
    from cryptoai_tui.engine.strategy_choice import StrategySpec
    from cryptoai_tui.tui.screens.live import LiveOutcome

SUGGESTED_INTERVAL = "1m"  # on the simulator a 1m candle closes every two seconds

def symbol_problem(symbol: str, listed: Sequence[Symbol], exchange_title: str) -> str | None:
    """A sentence saying `symbol` is not listed (with likely meant names), or None if it is."""
    names = [entry.name for entry in listed]
    if symbol in names:
        return None
    return unlisted_sentence(symbol, close_matches(symbol, names), exchange_title)


def unlisted_sentence(symbol: str, suggestions: Sequence[str], exchange_title: str) -> str:
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"{symbol} is not listed on {exchange_title}.{hint} Pick an asset from the list."


class AfterCheck(Enum):
    """What the Lab does once a symbol check says the symbol is listed (or cannot tell)."""

    NOTHING = "nothing"  # only say so if it is not listed
    OPEN_PICKER = "open picker"  # not listed: open the asset picker
    START = "start"  # listed (or the list is unreachable): start the live screen


@dataclass(frozen=True, slots=True)
class PendingCheck:
    endpoint: Endpoint
    symbol: str
    then: AfterCheck


@dataclass
class LabChoicesChanged(Message):
    """The Lab's choice changed; bubbles to the app, which remembers it in the config file."""

    choices: LabChoices


_STEP_KEYS = "open that step (1 Asset, 2 Strategies, 3 Timeframe, 4 Mode, 5 Exchange, 6 Start, 7 Backtest)"


class LabScreen(Screen[None]):
    BINDINGS = [
        *(Binding(str(step.value), f"open_step({step.value})", step.title, show=False, tooltip=_STEP_KEYS)
          for step in LabStep),
        Binding("s", "start", "Start", tooltip="start the live screen with the current choice"),
        Binding("j", "app.open_journal", "Journal", tooltip="the signal journal: every confirmed signal, graded"),
        Binding("a", "app.open_alerts", "Alerts", tooltip="price and signal alerts: rules and deliveries"),
        Binding("w", "watchlist", "Watchlist",
                tooltip="watch the chosen asset and the most-traded ones with these strategies"),
        Binding("question_mark", "help", "Help", tooltip="this help"),
    ]

    launching: reactive[bool] = reactive(False, init=False)
    """A straight-to-live launch is being validated: show one line, not the Lab."""

    def __init__(self, config: AppConfig, services: Services) -> None:
        super().__init__()
        self._config = config
        self._services = services
        self.choices = config.initial_choices()
        self._pending_check: PendingCheck | None = None

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # A straight-to-live launch shows only this line until the live screen opens (or the
        # choice is refused and the Lab appears to fix it), so the Lab never flashes by.
        yield Static("", id="lab-launch")
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
        if self._config.open_live:
            self.launching = True
            self.action_start()
        elif self.choices.symbol:
            self._check_symbol(self.choices.endpoint, self.choices.symbol, AfterCheck.OPEN_PICKER)

    def watch_launching(self, launching: bool) -> None:
        self.set_class(launching, "-launching")
        choices = self.choices
        self.query_one("#lab-launch", Static).update(Content(
            f"Starting {choices.symbol} {choices.interval} on {self._exchange_in_sentence()}…"
            if launching else ""
        ))

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
        self.post_message(LabChoicesChanged(choices))  # the app remembers them for the next run
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
        if step is LabStep.BACKTEST:
            self.action_backtest()
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
                ModePicker(choices.mode, len(choices.strategies), prompt=prompt), self._mode_chosen,
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

    def _mode_chosen(self, mode: Mode | None) -> None:
        if mode is None:
            return
        self.say(f"Confluence mode {mode_label(mode, len(self.choices.strategies))}: {mode.description}")
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
            self._check_symbol(choices.endpoint, choices.symbol, AfterCheck.NOTHING)

    # --- symbol check ----------------------------------------------------------------------
    def _check_symbol(self, endpoint: Endpoint, symbol: str, then: AfterCheck) -> None:
        """Ask (in the background) whether `symbol` is listed; `SymbolChecked` answers."""
        self._pending_check = PendingCheck(endpoint, symbol, then)
        self._load_symbols_for_check(endpoint, symbol)

    @work(exclusive=True, group="symbol-check", exit_on_error=False)
    async def _load_symbols_for_check(self, endpoint: Endpoint, symbol: str) -> None:
        try:
            listed = await self._services.symbols.load(endpoint)
        except Exception:  # a failed load says nothing about the symbol
            self.post_message(SymbolChecked(endpoint, symbol, None))
            return
        names = [entry.name for entry in listed]
        listed_here = symbol in names
        suggestions = () if listed_here else tuple(close_matches(symbol, names))
        self.post_message(SymbolChecked(endpoint, symbol, listed_here, suggestions))

    def on_symbol_checked(self, message: SymbolChecked) -> None:
        pending = self._pending_check
        if pending is None or (pending.endpoint, pending.symbol) != (message.endpoint, message.symbol):
            return  # an answer to a question no longer asked
        self._pending_check = None
        if (message.endpoint, message.symbol) != (self.choices.endpoint, self.choices.symbol):
            return
        if message.listed is False:
            problem = unlisted_sentence(message.symbol, message.suggestions, self._exchange_in_sentence())
            self._refuse_symbol(problem, open_picker=pending.then is not AfterCheck.NOTHING)
        elif pending.then is AfterCheck.START:
            # Listed, or the list cannot be loaded: then the live screen says why the
            # network fails, which the Lab cannot (asking again would only loop).
            self.action_start(symbol_checked=True)

    def _refuse_symbol(self, problem: str, *, open_picker: bool) -> None:
        """The exchange does not list the chosen symbol: drop it (Start is not "ready" with a
        symbol that cannot run), say why, and open the picker unless one is already open."""
        self.launching = False
        self._set_choices(replace(self.choices, symbol=None))
        self.say(problem, error=True)
        # Not is_current: that stays true under an open picker, and a second picker would
        # stack on the first. With a picker open, the Lab's message waits for the user.
        if open_picker and self.is_active:
            self.action_open_step(LabStep.ASSET.value, problem)

    # --- start -----------------------------------------------------------------------------
    def action_start(self, symbol_checked: bool = False) -> None:
        """Validate the whole choice, then push the live screen; never the other way round.

        `symbol_checked`: a `SymbolChecked` for exactly this choice did not refuse the symbol.
        """
        from cryptoai_tui.tui.screens.live import LiveScreen

        choices = self.choices
        missing = choices.missing()
        if missing:
            self.launching = False
            sentence = choices.missing_sentence() or ""
            self.say(sentence, error=True)
            self.action_open_step(missing[0].value, sentence)
            return
        assert choices.symbol is not None and choices.interval is not None
        intervals = self._services.catalogue.intervals_for(choices.exchange)
        if intervals and choices.interval not in intervals:
            self.launching = False
            problem = (
                f"{choices.interval} is not a timeframe {self._exchange_in_sentence()} offers; "
                f"choose one of {', '.join(intervals)}."
            )
            self.say(problem, error=True)
            self.action_open_step(LabStep.TIMEFRAME.value, problem)
            return
        problem = strategies_problem(choices.strategies)
        if problem is not None:
            self.launching = False
            self.say(problem, error=True)
            self.action_open_step(LabStep.STRATEGIES.value, problem)
            return
        problem = mode_problem(choices.mode, len(choices.strategies))
        if problem is not None:
            self.launching = False
            self.say(problem, error=True)
            self.action_open_step(LabStep.MODE.value, problem)
            return
        listed = self._services.symbols.cached(choices.endpoint)
        if listed is None and not symbol_checked:
            # Not known yet: ask, and start when the answer says the symbol is listed (or the
            # list cannot be loaded; the live screen then reports the network).
            if self._pending_check is None or self._pending_check.then is not AfterCheck.START:
                self.say(f"Checking that {self._exchange_in_sentence()} lists {choices.symbol}…")
                self._check_symbol(choices.endpoint, choices.symbol, AfterCheck.START)
            return
        problem = symbol_problem(choices.symbol, listed, self._exchange_in_sentence()) if listed else None
        if problem is not None:
            self._refuse_symbol(problem, open_picker=True)
            return
        self.say("")
        session = choices.session()
        self.app.push_screen(
            LiveScreen(
                session,
                self._services.engine_factory,
                exchange_title=display_title(session.exchange, self._exchange_title(), session.ws_url, session.rest_url),
                clock=self._services.clock,
                frame_rate=self._services.frame_rate,
                expected_clock_rate=self._expected_clock_rate(choices),
                services=self._services,
            ),
            self._live_closed,
        )
        # Under the live screen from now on: Esc there shows the full Lab.
        self.call_after_refresh(setattr, self, "launching", False)

    def action_backtest(self) -> None:
        """The Backtest screen on the current choice; a missing step is opened first."""
        from cryptoai_tui.tui.screens.backtest import BacktestScreen

        missing = self.choices.missing()
        if missing:
            sentence = (self.choices.missing_sentence() or "").replace("before starting", "before a backtest")
            self.say(sentence, error=True)
            self.action_open_step(missing[0].value, sentence)
            return
        problem = strategies_problem(self.choices.strategies)
        if problem is not None:
            self.say(problem, error=True)
            self.action_open_step(LabStep.STRATEGIES.value, problem)
            return
        self.say("")
        self.app.push_screen(BacktestScreen(self.choices, self._exchange_title()))

    def action_watchlist(self) -> None:
        """The watchlist of the Lab's interval, strategies and mode over the chosen asset and
        the most-traded symbols; what is missing opens its step, as Start does."""
        from cryptoai_tui.tui.screens.watchlist import WatchlistScreen, WatchSession
        from cryptoai_tui.tui.session import WatchChoice

        try:
            choice = WatchChoice.from_lab(self.choices)
        except ValueError as error:
            self.say(str(error), error=True)
            missing = [step for step in self.choices.missing() if step is not LabStep.ASSET]
            self.action_open_step(missing[0].value, str(error))
            return
        problem = strategies_problem(choice.strategies)
        if problem is not None:
            self.say(problem, error=True)
            self.action_open_step(LabStep.STRATEGIES.value, problem)
            return
        self.say("")
        self.app.push_screen(WatchlistScreen(
            choice,
            self._services.engine_factory,
            watch_factory=partial(WatchSession, simulator=self._config.simulator),
            exchange_title=display_title(choice.exchange, self._exchange_title(), choice.ws_url, choice.rest_url),
            clock=self._services.clock,
            frame_rate=self._services.frame_rate,
            expected_clock_rate=self._expected_clock_rate(self.choices),
        ))

    def _expected_clock_rate(self, choices: LabChoices) -> float | None:
        """The in-app simulator's speed (None for a real exchange or an outside simulator)."""
        app_rate = getattr(self.app, "sim_speed", None)
        if not is_simulator(choices.exchange) or choices.ws_url or choices.rest_url:
            return None
        return app_rate if app_rate and app_rate != 1 else None

    def _live_closed(self, outcome: LiveOutcome | None) -> None:
        self.launching = False
        if outcome is None:
            return
        if outcome.mode != self.choices.mode:
            self._set_choices(replace(self.choices, mode=outcome.mode))
        live = outcome.session  # the live screen may have switched asset, strategies or timeframe
        if live is not None and (live.symbol, live.interval, live.strategies) != (
                self.choices.symbol, self.choices.interval, self.choices.strategies):
            self._set_choices(replace(self.choices, symbol=live.symbol, interval=live.interval,
                                      strategies=live.strategies))
        if outcome.switch_to_sim:
            from cryptoai_tui.tui.screens.live import SIM_EXCHANGE

            self._switch_exchange(SIM_EXCHANGE)
            self.say("Switched to the simulated exchange: offline, seeded, candles close every few seconds.")
            self.call_after_refresh(self.action_start)
        elif outcome.rejected_step is LabStep.ASSET:
            self._refuse_symbol(outcome.message, open_picker=True)
        elif outcome.rejected_step is not None:
            self.say(outcome.message, error=True)
            self.action_open_step(outcome.rejected_step.value, outcome.message)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(
            "Strategy Lab",
            "Choose an asset, strategies, a timeframe, a confluence mode and an exchange, "
            "then start the live screen. Your choices show next to each step. "
            "In the menu, ↑ ↓ move and Enter opens a step; in a picker, Esc goes back.",
            bindings_help(self.app, self.BINDINGS, self.app.BINDINGS),
        ))


def strategies_problem(specs: Sequence[StrategySpec]) -> str | None:
    """A sentence naming what is wrong with the strategy parameters, or None when they run:
    a bad value, or one that can never warm up in the live window (refused before live,
    with the largest value that fits)."""
    from cryptoai_tui.engine import EngineOptions
    from cryptoai_tui.strategies.registry import check_fits

    try:
        check_fits([spec.create() for spec in specs], EngineOptions().window)
    except (ValueError, KeyError) as error:
        return f"{error} Choose the strategies again, or fix --strategies."
    return None


def mode_problem(mode: Mode, strategies: int) -> str | None:
    """A sentence when "at least K" asks for more strategies than are chosen, else None."""
    try:
        ConfluenceRule.of(mode).check(strategies)
    except ValueError as error:
        return str(error)
    return None
