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
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from cryptoai_tui.exchanges.errors import InvalidIntervalError as ExchangeIntervalError
from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.market.interval import InvalidIntervalError
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.services import Clock, EngineFactory, LiveEngine
from cryptoai_tui.tui.live_events import EventKind, LiveEvent, snapshot_events
from cryptoai_tui.tui.screens.help import HelpScreen
from cryptoai_tui.tui.session import LabStep, LiveSession
from cryptoai_tui.tui.widgets.candle_chart import CandleChart
from cryptoai_tui.tui.widgets.event_log import EventLog
from cryptoai_tui.tui.widgets.live_header import LiveHeader, feed_trouble
from cryptoai_tui.tui.widgets.price_panel import PricePanel
from cryptoai_tui.tui.widgets.signal_panel import SignalPanel
from cryptoai_tui.tui.widgets.strategy_table import StrategyTable

SIM_EXCHANGE = "sim"

LIVE_KEYS = (
    ("Esc", "back to the Strategy Lab (stops the feed)"),
    ("p", "pause or resume drawing (the feed keeps running)"),
    ("m", "next confluence mode: ALL → ANY → MAJORITY"),
    ("c", "show or hide the candle chart"),
    ("s", "switch to the simulated exchange (offered while the exchange cannot be reached)"),
    ("?", "this help"),
    ("q", "quit"),
)


@dataclass(frozen=True, slots=True)
class LiveOutcome:
    """Why the live screen closed, for the Lab to act on."""

    mode: ConfluenceMode  # the mode in force when leaving (m may have changed it)
    rejected_step: LabStep | None = None  # the choice the exchange refused
    message: str = ""
    switch_to_sim: bool = False


class LiveScreen(Screen[LiveOutcome]):
    # Short or narrow terminals drop borders and the event log (see app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Lab"),
        Binding("p", "pause", "Pause"),
        Binding("m", "cycle_mode", "Mode"),
        Binding("c", "toggle_chart", "Chart"),
        Binding("s", "switch_to_sim", "Use simulator"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        session: LiveSession,
        engine_factory: EngineFactory,
        *,
        exchange_title: str,
        clock: Clock,
        frame_rate: float = 15.0,
    ) -> None:
        super().__init__()
        self.session = session
        self._engine_factory = engine_factory
        self._exchange_title = exchange_title
        self._clock = clock
        self._frame_period = 1.0 / max(1.0, frame_rate)
        self.engine: LiveEngine | None = None
        self.mode = session.mode
        self.paused = False
        self.drawn_sequence = -1
        self.frames_drawn = 0
        self.failure: str | None = None
        self._previous: Snapshot | None = None
        self._frame_timer: Timer | None = None
        self._troubled = False
        self._pending_outcome: LiveOutcome | None = None
        self._leaving = False

    def compose(self) -> ComposeResult:
        yield LiveHeader(self.session, self._exchange_title, id="live-header")
        with Horizontal(id="live-top"):
            yield PricePanel(id="price-panel")
            yield SignalPanel(id="signal-panel")
        yield StrategyTable(id="strategy-table")
        with Horizontal(id="live-bottom"):
            yield CandleChart(id="candle-chart")
            yield EventLog(self._clock, id="event-log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LiveHeader).show(None)
        try:
            self.engine = self._engine_factory(self.session)
        except ValueError as error:  # a choice the engine refuses: say so, keep the app
            self.failure = str(error)
            self.query_one(LiveHeader).show(None, failure=self.failure)
            self.query_one(EventLog).add([LiveEvent(EventKind.ERROR, self.failure)])
            return
        self._run_engine()
        self._frame_timer = self.set_interval(self._frame_period, self.draw_newest, name="live-frames")

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def _run_engine(self) -> None:
        assert self.engine is not None
        await self.engine.start()

    # --- drawing -------------------------------------------------------------------------
    def draw_newest(self) -> bool:
        """Draw the engine's newest snapshot if it is new; returns whether a frame was drawn.

        Also called directly by tests, so a screenshot does not wait for the timer.
        """
        # A modal pushed on top suspends the timer only when its message arrives; until
        # then a tick must not draw behind it (is_current stays true under a modal).
        if self.paused or self.engine is None or self._leaving or self.app.screen is not self:
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
        self.query_one(PricePanel).show(snapshot, clock_rate=self.engine.exchange_clock_rate)
        self.query_one(SignalPanel).show(snapshot, offer_sim=offer_sim, failure=self.failure)
        self.query_one(StrategyTable).show_rows(snapshot.rows)
        self.query_one(CandleChart).show(snapshot.recent_candles, snapshot.recent_signals)
        self.query_one(EventLog).add(snapshot_events(self._previous, snapshot))
        self._previous = snapshot
        if troubled != self._troubled:
            self._troubled = troubled
            self.refresh_bindings()

    def _redraw_header(self) -> None:
        snapshot = self.engine.snapshot if self.engine is not None else None
        self.query_one(LiveHeader).show(snapshot, paused=self.paused, failure=self.failure)

    def on_screen_suspend(self, event: ScreenSuspend) -> None:
        """A modal (help) covers the screen: stop drawing what nobody sees."""
        if self._frame_timer is not None:
            self._frame_timer.pause()

    def on_screen_resume(self, event: ScreenResume) -> None:
        if self._pending_outcome is not None:
            self._leave(self._pending_outcome)
            return
        if self._frame_timer is not None:
            self._frame_timer.resume()

    # --- engine outcome --------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "engine":
            return
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            step = _rejected_step(error)
            message = str(error) or type(error).__name__
            if step is not None:
                self._leave(LiveOutcome(self.mode, rejected_step=step, message=message))
                return
            self.failure = message
            self.query_one(EventLog).add([LiveEvent(EventKind.ERROR, f"feed stopped: {message}")])
            if self.engine is not None:
                self.drawn_sequence = -1  # draw the final snapshot with the failure on it
                self.draw_newest()
        elif event.state is WorkerState.SUCCESS:
            self.draw_newest()

    # --- keys ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_to_sim":
            return self._troubled and self.session.exchange != SIM_EXCHANGE
        return True

    # Leaving never waits for the feed: the engine is stopped as the screen unmounts.
    def action_back(self) -> None:
        self._leave(LiveOutcome(self.mode))

    def action_switch_to_sim(self) -> None:
        self._leave(LiveOutcome(self.mode, switch_to_sim=True))

    def reject(self, step: LabStep, message: str) -> None:
        """The Lab found out the exchange does not offer this choice: go back and fix it."""
        self._leave(LiveOutcome(self.mode, rejected_step=step, message=message))

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._redraw_header()
        if not self.paused:
            self.draw_newest()

    def action_cycle_mode(self) -> None:
        self.mode = self.mode.next()
        if self.engine is not None:
            self.engine.set_mode(self.mode)
        self.notify(f"Confluence mode {self.mode.name}: {self.mode.description}", timeout=3, markup=False)
        if not self.draw_newest():
            self._redraw_header()  # paused: no frame, but the header names the new mode

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
            "verdict is provisional until the candle closes, then confirmed.",
            LIVE_KEYS,
        ))

    async def _stop_engine(self) -> None:
        if self.engine is not None:
            await self.engine.stop()

    def _leave(self, outcome: LiveOutcome) -> None:
        # dismiss() pops whatever screen is on top, so a second reason to leave (the engine
        # failing as the Lab's symbol check rejects the same symbol) must not dismiss again:
        # it would pop the picker the first outcome opened, before that picker mounted.
        if self._leaving:
            return
        # dismiss() pops the top screen: with help open on top, wait until it closes.
        if self.is_current:
            self._pending_outcome = None
            # The pop completes a few loop turns later; a screen on its way out draws nothing.
            self._leaving = True
            self.dismiss(outcome)
        else:
            self._pending_outcome = outcome

    async def on_unmount(self) -> None:
        await self._stop_engine()


def _rejected_step(error: BaseException | None) -> LabStep | None:
    """Which Lab step to send the user to when the exchange refuses a choice."""
    if isinstance(error, InvalidSymbolError):
        return LabStep.ASSET
    if isinstance(error, (ExchangeIntervalError, InvalidIntervalError)):
        return LabStep.TIMEFRAME
    return None
