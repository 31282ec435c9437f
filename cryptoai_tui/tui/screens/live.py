"""The live screen: one session's price, verdict, strategy table, chart and events.

The engine runs in a worker owned by this screen (leaving the screen cancels it) and only
ever replaces its newest Snapshot; a timer here draws that snapshot at a bounded frame
rate and skips frames whose sequence it has already drawn. A flood of messages therefore
costs skipped frames, never slow keys.

The asset, strategies and timeframe can be changed in place (keys 1-3, as in the Lab): the
old engine is stopped and its worker awaited before the new one starts, and the screen
forgets the old engine before stopping it, so no frame of the old choice is drawn after
the switch.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import ScreenResume, ScreenSuspend
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker

from cryptoai_tui.exchanges.errors import InvalidIntervalError as ExchangeIntervalError
from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.market.interval import InvalidIntervalError
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.confluence import Mode, next_mode
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.tui.catalogue import describe_interval
from cryptoai_tui.tui.services import Clock, EngineFactory, LiveEngine, Services
from cryptoai_tui.tui.live_events import EventKind, LiveEvent, snapshot_events
from cryptoai_tui.tui.messages import EngineStopped
from cryptoai_tui.tui.screens.asset_picker import AssetPicker
from cryptoai_tui.tui.screens.choice_picker import Choice, ChoicePicker
from cryptoai_tui.tui.screens.help import HelpScreen, bindings_help
from cryptoai_tui.tui.screens.strategy_picker import StrategyPicker
from cryptoai_tui.tui.session import LabStep, LiveSession
from cryptoai_tui.tui.widgets.candle_chart import CandleChart
from cryptoai_tui.tui.widgets.event_log import EventLog
from cryptoai_tui.tui.widgets.live_header import LiveHeader, feed_trouble
from cryptoai_tui.tui.widgets.price_panel import PricePanel
from cryptoai_tui.tui.widgets.signal_panel import SignalPanel
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable

from cryptoai_tui.wiring import SIM as SIM_EXCHANGE

SIM_LAG_NOTE = (
    "Lag is the time from the exchange stamping a message to this app receiving it. The "
    "simulator's clock runs faster than real time (a 1m candle closes every few seconds): "
    "while it does, its stamps cannot be compared with ours and lag shows —. It is "
    "measured on a real exchange, or on a simulator running at --sim-speed 1."
)

@dataclass(frozen=True, slots=True)
class LiveOutcome:
    """Why the live screen closed, for the Lab to act on."""

    mode: Mode  # the mode in force when leaving (m may have changed it)
    rejected_step: LabStep | None = None  # the choice the exchange refused
    message: str = ""
    switch_to_sim: bool = False
    session: LiveSession | None = None  # the choice in force when leaving (1-3 may have changed it)


@dataclass
class LiveSessionStarted(Message):
    """The live screen started an engine on `session` (at open or after a switch).

    Bubbles to the app, which remembers the choice for the next run; the screen itself
    knows nothing about config files.
    """

    session: LiveSession


_SWITCH_GROUP = Binding.Group("Switch", compact=True)


_BACK_TIP = "back to the Strategy Lab, or to the Watchlist it was opened from (stops this feed)"


class LiveScreen(Screen[LiveOutcome]):
    # Short or narrow terminals drop borders and the event log (see app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        # One key, labelled by where Esc goes back to (the Lab, or the Watchlist it came from)
        Binding("escape", "back", "Lab", tooltip=_BACK_TIP),
        Binding("escape", "back_to_watchlist", "Watchlist", tooltip=_BACK_TIP),
        Binding("p", "pause", "Pause", tooltip="pause or resume drawing (the feed keeps running)"),
        Binding("p", "resume", "Resume", tooltip="pause or resume drawing (the feed keeps running)"),
        Binding("m", "cycle_mode", "Mode", tooltip="next confluence mode: ALL → ANY → MAJORITY"),
        Binding("c", "toggle_chart", "Chart", tooltip="show or hide the candle chart"),
        # One footer entry, "123 Switch", so an 80-column footer still shows ? Help and q Quit.
        Binding("1", "switch_asset", "Asset", tooltip="switch to another asset here (the feed restarts)",
                group=_SWITCH_GROUP),
        Binding("2", "switch_strategies", "Strategies",
                tooltip="switch to other strategies here (the engine restarts)", group=_SWITCH_GROUP),
        Binding("3", "switch_timeframe", "Timeframe",
                tooltip="switch to another timeframe here (the feed restarts)", group=_SWITCH_GROUP),
        # j and a are not in the footer (an 80-column footer would lose q Quit); ? Help lists them
        Binding("j", "app.open_journal", "Journal", show=False,
                tooltip="the signal journal: every confirmed signal, graded"),
        Binding("a", "app.open_alerts", "Alerts", show=False,
                tooltip="price and signal alerts: rules and deliveries"),
        Binding(
            "s", "switch_to_sim", "Use simulator",
            tooltip="switch to the simulated exchange (offered while the exchange cannot be reached)",
        ),
        Binding("question_mark", "help", "Help", tooltip="this help"),
    ]

    paused: reactive[bool] = reactive(False, bindings=True, init=False)
    """Drawing is stopped (the feed keeps running); the footer offers p Resume meanwhile."""
    troubled: reactive[bool] = reactive(False, bindings=True, init=False)
    """The feed cannot reach the exchange (or stopped): the footer offers s Use simulator."""
    mode: reactive[Mode] = reactive(ConfluenceMode.MAJORITY, init=False)
    """The confluence mode in force; `m` changes it, the engine and the header follow."""
    failure: reactive[str | None] = reactive(None, init=False)
    """Why the session stopped (the engine refused the choice or the feed ended), or None."""

    def __init__(
        self,
        session: LiveSession,
        engine_factory: EngineFactory,
        *,
        exchange_title: str,
        clock: Clock,
        frame_rate: float = 15.0,
        expected_clock_rate: float | None = None,
        services: Services | None = None,
        from_watchlist: bool = False,
    ) -> None:
        """`expected_clock_rate` is the exchange clock's known speed (the in-app simulator's),
        used for the candle countdown until the engine has measured the real one.
        `services` (the symbol list and the catalogue) enable switching in place; without
        them the 1-3 keys are not offered."""
        super().__init__()
        self._services = services
        self._from_watchlist = from_watchlist
        self._engine_worker: Worker[None] | None = None
        self._switch_lock = asyncio.Lock()
        self.engines_started = 0  # how many engines this screen has run (1 + the switches)
        self._expected_clock_rate = expected_clock_rate
        self.session = session
        self._engine_factory = engine_factory
        self._exchange_title = exchange_title
        self._clock = clock
        self._frame_period = 1.0 / max(1.0, frame_rate)
        self.engine: LiveEngine | None = None
        self.set_reactive(LiveScreen.mode, session.mode)
        self.drawn_sequence = -1
        self.frames_drawn = 0
        self._previous: Snapshot | None = None
        self._frame_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield LiveHeader(self.session, self._exchange_title, id="live-header")
        with Horizontal(id="live-top"):
            yield PricePanel(id="price-panel")
            yield SignalPanel(id="signal-panel")
        yield StrategyTable(interval=self.session.interval, id="strategy-table")
        with Horizontal(id="live-bottom"):
            yield CandleChart(id="candle-chart")
            yield EventLog(self._clock, id="event-log")
        yield Footer()

    def on_mount(self) -> None:
        header = self.query_one(LiveHeader)
        if self.session.exchange == SIM_EXCHANGE:
            header.tooltip = SIM_LAG_NOTE  # "lag —" on the simulator explains itself
        header.show(None)
        try:
            self.engine = self._engine_factory(self.session)
        except ValueError as error:  # a choice the engine refuses: say so, keep the app
            self.failure = str(error)
            return
        self._start_engine(self.engine)
        self._frame_timer = self.set_interval(self._frame_period, self.draw_newest, name="live-frames")

    def _start_engine(self, engine: LiveEngine) -> None:
        self.engines_started += 1
        self._engine_worker = self._run_engine(engine)
        self.post_message(LiveSessionStarted(self.session))

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def _run_engine(self, engine: LiveEngine) -> None:
        """Run the engine until it ends, then say how in one typed message.

        An engine replaced by a switch ends because it was told to: its ending is not news,
        and reporting it would put the old choice's failure on the new one.
        """
        try:
            hooks = self._services.session_hooks if self._services is not None else None
            if hooks is None:
                await engine.start()
            else:  # the journal and the alerts ride along with the session (issue 13)
                from cryptoai_tui.tui.notifications import InAppNotifier

                async with hooks(engine, InAppNotifier(self.app), self._warn):
                    await engine.start()
        except Exception as error:  # every ending is reported, none kills the app
            if engine is self.engine:
                self.post_message(EngineStopped(error))
        else:
            if engine is self.engine:
                self.post_message(EngineStopped(None))

    def _warn(self, text: str) -> None:
        self.notify(text, severity="warning", timeout=8, markup=False)

    # --- drawing -------------------------------------------------------------------------
    def draw_newest(self) -> bool:
        """Draw the engine's newest snapshot if it is new; returns whether a frame was drawn."""
        # A modal pushed on top suspends the timer only when its message arrives; until
        # then a tick must not draw behind it (is_current stays true under a modal), and a
        # screen already popped (on its way out) draws nothing either.
        if self.paused or self.engine is None or not self.is_active:
            return False
        snapshot = self.engine.snapshot
        if snapshot.sequence == self.drawn_sequence:
            return False
        with self.app.batch_update():
            self._draw(snapshot)
        self.drawn_sequence = snapshot.sequence
        self.frames_drawn += 1
        return True

    def _draw(self, snapshot: Snapshot) -> None:
        troubled = self.failure is not None or feed_trouble(snapshot) is not None
        offer_sim = troubled and self.session.exchange != SIM_EXCHANGE
        self.query_one(LiveHeader).show(snapshot, paused=self.paused, failure=self.failure)
        assert self.engine is not None
        self.query_one(PricePanel).show(snapshot, clock_rate=self.clock_rate)
        self.query_one(SignalPanel).show(snapshot, offer_sim=offer_sim, failure=self.failure)
        self.query_one(StrategyTable).show_rows(snapshot.rows, snapshot.last_triggers, snapshot.labels)
        self.query_one(CandleChart).show(snapshot.recent_candles, snapshot.recent_signals, snapshot.interval)
        self.query_one(EventLog).add(snapshot_events(self._previous, snapshot))
        self._previous = snapshot
        self.troubled = troubled

    @property
    def clock_rate(self) -> float | None:
        """Exchange seconds per real second for the countdown: measured, else the known one.

        The engine measures the rate only after a few seconds of messages; until then a
        sped-up simulator's countdown would be read as real seconds (48 -> 33 -> 18 s for a
        candle closing every 2 s), so the speed the app started the simulator with is used.
        """
        measured = self.engine.exchange_clock_rate if self.engine is not None else None
        return measured if measured is not None else self._expected_clock_rate

    def _show_header(self) -> None:
        snapshot = self.engine.snapshot if self.engine is not None else None
        self.query_one(LiveHeader).show(snapshot, paused=self.paused, failure=self.failure)

    def watch_failure(self, failure: str | None) -> None:
        if failure is None:
            return
        started = self.engine is not None
        self.query_one(EventLog).add([LiveEvent(EventKind.ERROR, f"feed stopped: {failure}" if started else failure)])
        self._show_header()
        # A feed that ran and stopped can be tried on the simulator; a refused choice cannot.
        self.troubled = started

    def watch_mode(self, mode: Mode) -> None:
        if self.engine is not None:
            self.engine.set_mode(mode)
        self.notify(f"Confluence mode {mode.name}: {mode.description}", timeout=3, markup=False)
        if not self.draw_newest():
            self._show_header()  # paused: no frame, but the header names the new mode

    def watch_paused(self, paused: bool) -> None:
        self._show_header()
        if not paused:
            self.draw_newest()

    def on_screen_suspend(self, event: ScreenSuspend) -> None:
        """A modal (help) covers the screen: stop drawing what nobody sees."""
        if self._frame_timer is not None:
            self._frame_timer.pause()

    def on_screen_resume(self, event: ScreenResume) -> None:
        if self._frame_timer is not None:
            self._frame_timer.resume()

    # --- engine outcome --------------------------------------------------------------------
    def on_engine_stopped(self, message: EngineStopped) -> None:
        error = message.error
        if error is None:
            self.draw_newest()
            return
        step = _rejected_step(error)
        text = str(error) or type(error).__name__
        if step is not None:
            self._leave(LiveOutcome(self.mode, rejected_step=step, message=text, session=self._session_now()))
            return
        self.failure = text
        self.drawn_sequence = -1  # draw the final snapshot with the failure on it
        self.draw_newest()

    # --- keys ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_to_sim":
            return self.troubled and self.session.exchange != SIM_EXCHANGE
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        if action in ("switch_asset", "switch_strategies", "switch_timeframe"):
            return self._services is not None
        if action == "back":
            return not self._from_watchlist
        if action == "back_to_watchlist":
            return self._from_watchlist
        return True

    # Leaving never waits for the feed: the engine is stopped as the screen unmounts.
    def action_back(self) -> None:
        self._leave(LiveOutcome(self.mode, session=self._session_now()))

    def action_back_to_watchlist(self) -> None:
        self.action_back()

    def action_switch_to_sim(self) -> None:
        self._leave(LiveOutcome(self.mode, switch_to_sim=True, session=self._session_now()))

    def _session_now(self) -> LiveSession:
        return replace(self.session, mode=self.mode)

    # --- switching in place ------------------------------------------------------------------
    def action_switch_asset(self) -> None:
        services = self._services
        if services is None:
            return
        endpoint = self.session.endpoint
        self.app.push_screen(
            AssetPicker(
                services.catalogue.exchange(self.session.exchange).in_sentence,
                lambda: services.symbols.load(endpoint),
                current=self.session.symbol,
                prompt="The live screen switches to the asset you choose; Esc keeps "
                       f"{self.session.symbol}.",
            ),
            self._asset_chosen,
        )

    def action_switch_strategies(self) -> None:
        if self._services is None:
            return
        self.app.push_screen(
            StrategyPicker(self._services.catalogue.strategies, self.session.strategy_names),
            self._strategies_chosen,
        )

    def action_switch_timeframe(self) -> None:
        services = self._services
        if services is None:
            return
        exchange = services.catalogue.exchange(self.session.exchange)
        self.app.push_screen(
            ChoicePicker(
                f"Timeframe on {exchange.in_sentence}",
                [Choice(name, name, describe_interval(name))
                 for name in services.catalogue.intervals_for(self.session.exchange)],
                current=self.session.interval,
            ),
            self._interval_chosen,
        )

    def _asset_chosen(self, symbol: str | None) -> None:
        if symbol and symbol != self.session.symbol:
            self.switch_to(replace(self._session_now(), symbol=symbol))

    def _strategies_chosen(self, names: tuple[str, ...] | None) -> None:
        if names and names != self.session.strategy_names:
            # Strategies that stay chosen keep their parameters; new ones get defaults.
            by_name = {spec.name: spec for spec in self.session.strategies}
            specs = tuple(by_name.get(name) or StrategySpec(name) for name in names)
            self.switch_to(replace(self._session_now(), strategies=specs))

    def _interval_chosen(self, interval: str | None) -> None:
        if interval and interval != self.session.interval:
            self.switch_to(replace(self._session_now(), interval=interval))

    def switch_to(self, session: LiveSession) -> Worker[None]:
        """Restart the screen on `session`; switches run one after another, never interleaved."""
        return self.run_worker(self._switch(session), group="switch", exit_on_error=False)

    async def _switch(self, session: LiveSession) -> None:
        async with self._switch_lock:
            try:
                engine = self._engine_factory(session)
            except ValueError as error:  # a choice the engine refuses: keep the running one
                self.notify(f"Cannot switch to {session.symbol} {session.interval}: {error}",
                            severity="error", markup=False)
                return
            old, self.engine = self.engine, None  # from here on no frame of the old choice
            await self._stop_old(old)
            self.session = session
            self.set_reactive(LiveScreen.failure, None)
            self.troubled = False
            self.drawn_sequence = -1
            self._previous = None
            await self._replace_session_widgets()
            self.query_one(EventLog).add([LiveEvent(
                EventKind.MODE, f"switched to {session.symbol} {session.interval}, "
                                f"{len(session.strategies)} strategies",
            )])
            self.engine = engine
            self._start_engine(engine)
            if self._frame_timer is None:
                self._frame_timer = self.set_interval(self._frame_period, self.draw_newest, name="live-frames")
            self._show_header()

    async def _stop_old(self, old: LiveEngine | None) -> None:
        """Stop the old engine and wait for its worker to end, so no task outlives it."""
        if old is not None:
            await old.stop()
        worker = self._engine_worker
        self._engine_worker = None
        if worker is not None and not worker.is_finished:
            worker.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await worker.wait()

    async def _replace_session_widgets(self) -> None:
        """The header and the table are built for one session (symbol, interval): new ones."""
        header = self.query_one(LiveHeader)
        tooltip = header.tooltip
        await header.remove()
        fresh = LiveHeader(self.session, self._exchange_title, id="live-header")
        fresh.tooltip = tooltip
        await self.mount(fresh, before="#live-top")
        await self.query_one(StrategyTable).remove()
        await self.mount(StrategyTable(interval=self.session.interval, id="strategy-table"), after="#live-top")

    def action_pause(self) -> None:
        self.paused = True

    def action_resume(self) -> None:
        self.paused = False

    def action_cycle_mode(self) -> None:
        self.mode = next_mode(self.mode)

    def action_toggle_chart(self) -> None:
        """Tall screens show or hide the chart; short ones swap it with the table."""
        if self.has_class("-short"):
            self.toggle_class("-show-chart")
        else:
            self.toggle_class("-hide-chart")

    @property
    def chart_visible(self) -> bool:
        if self.has_class("-short"):
            return self.has_class("-show-chart")
        return not self.has_class("-hide-chart")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(
            "Live",
            "Live signals for one asset: every kline update runs the chosen strategies; the "
            "verdict is provisional until the candle closes, then confirmed."
            + (" " + SIM_LAG_NOTE if self.session.exchange == SIM_EXCHANGE else ""),
            bindings_help(self.app, self.BINDINGS, self.app.BINDINGS),
        ))

    async def _stop_engine(self) -> None:
        if self.engine is not None:
            await self.engine.stop()

    def _leave(self, outcome: LiveOutcome) -> None:
        """Dismiss with `outcome`, once: a screen already popped ignores later reasons."""
        if self not in self.app.screen_stack:
            return
        if not self.is_active:
            # dismiss() pops the top screen: close what covers this one (help) first, then
            # leave in a later turn, when this screen is on top again.
            self.pop_until_active()
            self.app.call_later(self._leave, outcome)
            return
        self.dismiss(outcome)

    async def on_unmount(self) -> None:
        await self._stop_engine()


def _rejected_step(error: BaseException | None) -> LabStep | None:
    """Which Lab step to send the user to when the exchange refuses a choice."""
    if isinstance(error, InvalidSymbolError):
        return LabStep.ASSET
    if isinstance(error, (ExchangeIntervalError, InvalidIntervalError)):
        return LabStep.TIMEFRAME
    return None
