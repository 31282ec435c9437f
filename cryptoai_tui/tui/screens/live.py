"""The live screen: one session's price, verdict, strategy table, chart and events.

The engine runs in a worker owned by this screen (leaving the screen cancels it) and only
ever replaces its newest Snapshot; a timer here draws that snapshot at a bounded frame
rate and skips frames whose sequence it has already drawn. A flood of messages therefore
costs skipped frames, never slow keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import ScreenResume, ScreenSuspend
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer

from cryptoai_tui.exchanges.errors import InvalidIntervalError as ExchangeIntervalError
from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.market.interval import InvalidIntervalError
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.confluence import Mode, next_mode
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.services import Clock, EngineFactory, LiveEngine, SessionHooks
from cryptoai_tui.tui.live_events import EventKind, LiveEvent, snapshot_events
from cryptoai_tui.tui.messages import EngineStopped
from cryptoai_tui.tui.screens.help import HelpScreen, bindings_help
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


class LiveScreen(Screen[LiveOutcome]):
    # Short or narrow terminals drop borders and the event log (see app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Lab", tooltip="back to the Strategy Lab (stops the feed)"),
        Binding("p", "pause", "Pause", tooltip="pause or resume drawing (the feed keeps running)"),
        Binding("p", "resume", "Resume", tooltip="pause or resume drawing (the feed keeps running)"),
        Binding("m", "cycle_mode", "Mode", tooltip="next confluence mode: ALL → ANY → MAJORITY"),
        Binding("c", "toggle_chart", "Chart", tooltip="show or hide the candle chart"),
        Binding("j", "app.open_journal", "Journal", tooltip="the signal journal: every confirmed signal, graded"),
        # not in the footer (an 80-column footer would lose q Quit); listed in ? Help
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
        hooks: SessionHooks | None = None,
    ) -> None:
        """`expected_clock_rate` is the exchange clock's known speed (the in-app simulator's),
        used for the candle countdown until the engine has measured the real one."""
        super().__init__()
        self._expected_clock_rate = expected_clock_rate
        self._hooks = hooks
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
        self._run_engine()
        self._frame_timer = self.set_interval(self._frame_period, self.draw_newest, name="live-frames")

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def _run_engine(self) -> None:
        """Run the engine until it ends, then say how in one typed message."""
        assert self.engine is not None
        try:
            if self._hooks is None:
                await self.engine.start()
            else:  # the journal and the alerts ride along with the session (issue 13)
                from cryptoai_tui.tui.notifications import InAppNotifier

                async with self._hooks(self.engine, InAppNotifier(self.app), self._warn):
                    await self.engine.start()
        except Exception as error:  # every ending is reported, none kills the app
            self.post_message(EngineStopped(error))
        else:
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
            self._leave(LiveOutcome(self.mode, rejected_step=step, message=text))
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
        return True

    # Leaving never waits for the feed: the engine is stopped as the screen unmounts.
    def action_back(self) -> None:
        self._leave(LiveOutcome(self.mode))

    def action_switch_to_sim(self) -> None:
        self._leave(LiveOutcome(self.mode, switch_to_sim=True))

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
