"""The Watchlist screen: one row per symbol, sorted by any column, filtered as you type.

The watchlist runs in a worker owned by this screen (leaving for the Lab stops it; opening
a symbol's live screen does not, so Esc there comes back to the same rows, sort, filter and
cursor). A timer hands the rows changed since the last frame to the table once per frame,
so a flood of updates costs one batch per frame, never slow keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Callable, Protocol

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from cryptoai_tui.engine.watchlist import WatchlistEngine, WatchRow
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.tui.screens.help import HelpScreen, bindings_help
from cryptoai_tui.tui.services import Clock, EngineFactory
from cryptoai_tui.tui.session import WatchChoice
from cryptoai_tui.tui.widgets.watch_table import WatchTable

if TYPE_CHECKING:
    from cryptoai_tui.wiring import SimulatorSettings


class WatchRunner(Protocol):
    """What the screen runs: `WatchSession` (a watchlist plus its feed), or a test double."""

    def changes(self) -> tuple[WatchRow, ...]: ...

    def status(self) -> tuple[ConnectionState, str]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


WatchFactory = Callable[[WatchChoice], WatchRunner]


class WatchSession:
    """A `WatchlistEngine` with the way to open its feed: started and stopped by the screen."""

    def __init__(self, choice: WatchChoice, *, history: int | None = None,
                 simulator: SimulatorSettings | None = None) -> None:
        """`history`: closed candles each symbol loads first (default: `watch`'s);
        `simulator`: the one to start for "sim" (`--seed`, `--sim-speed`)."""
        self.choice = choice
        self.history = history
        self.simulator = simulator
        self.engine: WatchlistEngine | None = None
        self._stopped = False
        self._opening: asyncio.Task[None] | None = None

    def changes(self) -> tuple[WatchRow, ...]:
        return self.engine.changes() if self.engine is not None else ()

    def status(self) -> tuple[ConnectionState, str]:
        engine = self.engine
        if engine is None:
            return ConnectionState.CONNECTING, "Finding the symbols to watch…"
        snapshot = engine.engine(engine.symbols[0]).snapshot
        return snapshot.state, snapshot.state_message

    async def start(self) -> None:
        from cryptoai_tui.engine.watchlist import WATCH_HISTORY
        from cryptoai_tui.wiring import open_watch_feed

        if self._stopped:
            return
        choice = self.choice
        self._opening = asyncio.current_task()
        try:
            async with open_watch_feed(choice.exchange, choice.symbols, choice.interval, choice.ws_url,
                                       choice.rest_url, top=choice.top,
                                       history=self.history if self.history is not None else WATCH_HISTORY,
                                       simulator=self.simulator,
                                       ) as (feed, names, tickers):
                self._opening = None
                if self._stopped:
                    return
                self.engine = WatchlistEngine(names, choice.interval, choice.strategies, choice.mode,
                                              choice.exchange)
                await self.engine.run(feed, tickers)
        finally:
            self._opening = None

    async def stop(self) -> None:
        self._stopped = True
        opening = self._opening
        if opening is not None and opening is not asyncio.current_task() and not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opening
        if self.engine is not None:
            await self.engine.stop()


def watch_for_choice(choice: WatchChoice) -> WatchRunner:
    return WatchSession(choice)


class WatchlistScreen(Screen[None]):
    CSS_PATH = "watchlist.tcss"
    BINDINGS = [
        Binding("escape", "back", "Lab", tooltip="clear the filter, or back to the Strategy Lab (stops the watchlist)"),
        Binding("ctrl+r", "reverse", "Reverse", tooltip="reverse the sort order"),
        Binding("backspace", "erase", "Erase", show=False, tooltip="erase the last letter of the filter"),
        Binding("question_mark", "help", "Help", tooltip="this help"),
        # Letters filter here (q included): Ctrl+Q quits, as everywhere.
        Binding("q", "type('Q')", "Filter", show=False),
        Binding("ctrl+q", "app.quit", "Quit", tooltip="quit"),
    ]

    def __init__(
        self,
        choice: WatchChoice,
        live_factory: EngineFactory,
        *,
        exchange_title: str,
        clock: Clock = time.time,
        frame_rate: float = 15.0,
        watch_factory: WatchFactory = watch_for_choice,
        expected_clock_rate: float | None = None,
    ) -> None:
        super().__init__()
        self.choice = choice
        self._live_factory = live_factory
        self._watch_factory = watch_factory
        self._exchange_title = exchange_title
        self._clock = clock
        self._frame_period = 1.0 / max(1.0, frame_rate)
        self._expected_clock_rate = expected_clock_rate
        self.runner: WatchRunner | None = None
        self.filter_text = ""
        self.failure: str | None = None
        self.frames = 0
        self.frames_skipped = 0
        self.rows_drawn = 0
        self._last_frame: float | None = None
        self._frame_timer: Timer | None = None
        self._collector_calmed = False
        self._restore_collector: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="watch-title")
        yield Static("", id="watch-filter")
        yield WatchTable(self._clock, id="watch-table")
        yield Static("", id="watch-status")
        yield Footer()

    def _title(self) -> Content:
        choice = self.choice
        names = ", ".join(spec.name for spec in choice.strategies)
        return Content.assemble(
            ("Watchlist", "bold $accent"),
            f"  ·  {choice.interval}  ·  {choice.mode.name}  ·  {self._exchange_title}  ·  {names}",
        )

    def on_mount(self) -> None:
        self._show_filter()
        self.query_one(WatchTable).focus()
        self.runner = self._watch_factory(self.choice)
        self._run()
        self._frame_timer = self.set_interval(self._frame_period, self.draw_frame, name="watch-frames")

    @work(exclusive=True, group="watchlist", exit_on_error=False)
    async def _run(self) -> None:
        assert self.runner is not None
        try:
            await self.runner.start()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the exchange refused (unknown symbol, ban) or is unreachable
            from cryptoai_tui.exchanges.redact import mask_secrets

            self.failure = mask_secrets(str(error)) or type(error).__name__
            self._show_status()

    def draw_frame(self) -> int:
        """Hand this frame's changed rows to the table; returns how many. Frames the timer
        could not keep (the loop was busy) are counted in `frames_skipped`."""
        now = time.monotonic()
        if self._last_frame is not None:
            late = int((now - self._last_frame) / self._frame_period + 0.5) - 1
            self.frames_skipped += max(0, late)
        self._last_frame = now
        if self.runner is None or not self.is_current:
            return 0  # under the live screen: the rows wait, changes pile up as one batch
        self.frames += 1
        changed = self.runner.changes()
        table = self.query_one(WatchTable)
        if changed:
            table.update_rows(changed)
            self.rows_drawn += len(changed)
            if not self._collector_calmed and table.rows and all(
                    row.state is ConnectionState.LIVE and row.price is not None for row in table.rows.values()):
                from cryptoai_tui.engine.watchlist import calm_collector

                self._collector_calmed = True
                self._restore_collector = calm_collector()  # every row is built and live: see there
        table.tick()
        self._show_status()
        return len(changed)

    def _show_status(self) -> None:
        status = self.query_one("#watch-status", Static)
        if self.failure is not None:
            status.update(Content(self.failure))
            status.set_class(True, "-error")
            return
        if self.runner is None:
            return
        state, message = self.runner.status()
        table = self.query_one(WatchTable)
        shown = len(table.order)
        total = len(table.rows)
        counts = f"{shown} of {total} symbols" if self.filter_text else f"{total} symbols"
        text = counts if state is ConnectionState.LIVE else f"{counts}  ·  {message}"
        status.update(Content(text))
        status.set_class(state in (ConnectionState.ERROR, ConnectionState.STALLED), "-error")

    def _show_filter(self) -> None:
        table = self.query_one(WatchTable)
        label = table.column_label(table.sort_key)
        order = "descending" if table.sort_reverse else "ascending"
        typed = self.filter_text or "type to filter"
        self.query_one("#watch-filter", Static).update(Content.assemble(
            ("Filter: ", "bold"), (typed, "" if self.filter_text else "$text-muted"),
            f"    Sort: {label} {order}",
        ))

    # --- keys ------------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """Letters and digits typed anywhere on the screen filter the rows."""
        character = event.character
        if character is not None and len(character) == 1 and character.isalnum() and character.isascii():
            event.stop()
            event.prevent_default()
            self.set_filter(self.filter_text + character.upper())

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.query_one(WatchTable).set_filter(text)
        self._show_filter()
        self._show_status()

    def action_type(self, letter: str) -> None:
        self.set_filter(self.filter_text + letter)

    def action_erase(self) -> None:
        if self.filter_text:
            self.set_filter(self.filter_text[:-1])

    def action_sort(self, step: int) -> None:
        self.query_one(WatchTable).cycle_sort(step)
        self._show_filter()

    def action_reverse(self) -> None:
        self.query_one(WatchTable).reverse()
        self._show_filter()

    def action_back(self) -> None:
        if self.filter_text:
            self.set_filter("")
            return
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(
            "Watchlist",
            "One row per symbol, every closed candle evaluated by the strategies you chose in the "
            "Lab. Type letters to filter, ←→ to sort by another column, Ctrl+R to reverse, Enter to "
            "open the live screen for the highlighted symbol (Esc there comes back here). "
            "Feed shows the age of each symbol's last update; ⟳ marks a stream whose history or "
            "gap is being fetched.",
            bindings_help(self.app, self.BINDINGS, self.app.BINDINGS),
        ))

    @on(WatchTable.Opened)
    def _open_live(self, message: WatchTable.Opened) -> None:
        from cryptoai_tui.tui.screens.live import LiveScreen

        message.stop()
        self.app.push_screen(LiveScreen(
            self.choice.live_session(message.symbol),
            self._live_factory,
            exchange_title=self._exchange_title,
            clock=self._clock,
            frame_rate=1.0 / self._frame_period,
            expected_clock_rate=self._expected_clock_rate,
            from_watchlist=True,
        ))

    async def on_unmount(self) -> None:
        if self._frame_timer is not None:
            self._frame_timer.stop()
        if self.runner is not None:
            await self.runner.stop()
        if self._restore_collector is not None:
            self._restore_collector()
            self._restore_collector = None
