"""What the TUI needs from an engine and from an exchange, as types the app is built with.

The app never constructs an engine or a REST client itself: `make_app` receives these
callables, so the CLI wires the real ones and tests wire real ones pointed at a replay or
the simulator, without any screen knowing the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Callable, Protocol, Sequence

from cryptoai_tui.market.symbol import Symbol
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.tui.catalogue import Catalogue
from cryptoai_tui.tui.session import Endpoint, LiveSession

if TYPE_CHECKING:  # Snapshot too: only annotations here, and it loads the feed's status types
    from cryptoai_tui.snapshot import Snapshot
    from cryptoai_tui.alerts.book import Alert
    from cryptoai_tui.alerts.rules import AlertRule
    from cryptoai_tui.engine import CandleSource, RealtimeStrategyEngine
    from cryptoai_tui.wiring import SimulatorSettings


class LiveEngine(Protocol):
    """What the live screen runs: `SessionEngine` (an engine plus its source), or a test double."""

    @property
    def snapshot(self) -> Snapshot: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def set_mode(self, mode: Mode) -> object: ...

    @property
    def exchange_clock_rate(self) -> float | None:
        """Exchange seconds per local second when that is not 1 (a sped-up simulator)."""
        ...


EngineFactory = Callable[[LiveSession], LiveEngine]
SymbolsLoader = Callable[[Endpoint], Awaitable[Sequence[Symbol]]]
Clock = Callable[[], float]  # seconds since the epoch, like time.time


def build_engine(session: LiveSession) -> RealtimeStrategyEngine:
    """The engine a session runs, before any source exists (its first Snapshot names the
    exchange as users know it); ValueError with a sentence for a choice it refuses."""
    from cryptoai_tui.engine import EngineOptions, RealtimeStrategyEngine
    from cryptoai_tui.wiring import exchange_display_name

    return RealtimeStrategyEngine(
        session.symbol,
        session.interval,
        session.strategies,
        session.mode,
        session.exchange,
        options=EngineOptions(venue=exchange_display_name(session.exchange)),
    )


SourceOpener = Callable[[], AbstractAsyncContextManager["CandleSource"]]


class SessionEngine:
    """An engine with the way to open its source: what the live screen starts and stops.

    The engine itself only consumes a source; opening one (a protocol, a KlineFeed, for
    "sim" an in-process simulator) belongs to the composition root, so it happens here,
    inside `start`, and lives exactly as long as the run.
    """

    def __init__(self, engine: RealtimeStrategyEngine, open_source: SourceOpener) -> None:
        self.engine = engine
        self._open_source = open_source
        self._opening: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def snapshot(self) -> Snapshot:
        return self.engine.snapshot

    @property
    def exchange_clock_rate(self) -> float | None:
        return self.engine.exchange_clock_rate

    def set_mode(self, mode: Mode) -> object:
        return self.engine.set_mode(mode)

    async def start(self) -> None:
        """Open the source and run the engine on it until the source ends or `stop()`."""
        if self._stopped:
            return
        self._opening = asyncio.current_task()
        try:
            async with self._open_source() as source:
                self._opening = None
                if self._stopped:
                    return
                await self.engine.run(source)
        finally:
            self._opening = None

    async def stop(self) -> None:
        """Stop the engine, or the opening of its source if it has not started yet."""
        self._stopped = True
        opening = self._opening
        if opening is not None and opening is not asyncio.current_task() and not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await opening
        await self.engine.stop()


def engine_for_session(session: LiveSession, simulator: SimulatorSettings | None = None) -> LiveEngine:
    """The real engine for a session over a live KlineFeed; "sim" starts the simulated
    exchange in-process (wiring knows how), as `simulator` says (`make_app` binds it from
    the AppConfig).

    Unlike a command's, this feed never gives up on an exchange it cannot reach: the live
    screen counts down to each retry and offers the simulator, and the user decides."""
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.wiring import open_kline_feed

    engine = build_engine(session)
    patient = FeedConfig(connect_attempts=None)
    return SessionEngine(
        engine,
        lambda: open_kline_feed(session.exchange, engine.symbol, engine.interval.name,
                                session.ws_url, session.rest_url, feed_config=patient, simulator=simulator),
    )


async def load_exchange_symbols(endpoint: Endpoint, simulator: SimulatorSettings | None = None) -> Sequence[Symbol]:
    """The exchange's symbol list over REST (the simulator's, for "sim")."""
    from cryptoai_tui.wiring import open_protocol
    from cryptoai_tui.exchanges.rest import RestClient

    async with open_protocol(endpoint.exchange, endpoint.ws_url, endpoint.rest_url,
                             simulator=simulator) as protocol:
        async with RestClient(protocol) as client:
            return await client.get_symbols()


class SymbolDirectory:
    """Symbol lists per endpoint, loaded once: the Lab checks a preselected symbol and the
    asset picker lists them, and neither should make the other wait for a second download.

    Failures are not remembered, so a retry really asks the exchange again.
    """

    def __init__(self, loader: SymbolsLoader) -> None:
        self._loader = loader
        self._loaded: dict[Endpoint, tuple[Symbol, ...]] = {}

    def cached(self, endpoint: Endpoint) -> tuple[Symbol, ...] | None:
        return self._loaded.get(endpoint)

    async def load(self, endpoint: Endpoint) -> tuple[Symbol, ...]:
        known = self._loaded.get(endpoint)
        if known is not None:
            return known
        symbols = tuple(await self._loader(endpoint))
        self._loaded[endpoint] = symbols
        return symbols


AlertCallback = Callable[["Alert", "AlertRule"], None]
SessionHooks = Callable[[LiveEngine, AlertCallback, Callable[[str], None]], AbstractAsyncContextManager[None]]
"""Runs around a live session: (engine, in-app alert callback, warn) -> context manager."""


def journal_and_alert_hooks(journal_path: Path | None, config_path: Path | None) -> SessionHooks:
    """The journal recorder and the armed alerts around every live session of the app.

    A journal or config that cannot be used is said through `warn` (a toast) and that part is
    left off for the session: the live screen still runs."""

    @contextlib.asynccontextmanager
    async def hooks(live: LiveEngine, on_alert: AlertCallback, warn: Callable[[str], None]) -> AsyncIterator[None]:
        from cryptoai_tui.engine import RealtimeStrategyEngine

        engine = getattr(live, "engine", None)
        if not isinstance(engine, RealtimeStrategyEngine):
            yield  # a test double without a real engine: nothing to record
            return
        from cryptoai_tui.config import ConfigError, load_config
        from cryptoai_tui.journal.hooks import HooksPlan, session_hooks
        from cryptoai_tui.journal.store import JournalError, JournalStore

        rules: tuple[AlertRule, ...] = ()
        if config_path is not None:
            try:
                rules = load_config(config_path).alerts
            except ConfigError as error:
                warn(f"Alerts are off for this session: {error}")
        path = journal_path
        if path is not None:
            try:
                JournalStore(path).close()
            except JournalError as error:
                warn(f"The journal is off for this session: {error}")
                path = None
        plan = HooksPlan(journal_path=path, rules=rules, on_alert=on_alert, close_timeout_s=5.0, warn=warn)
        async with session_hooks(engine, plan):
            yield

    return hooks


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the screens need from outside the UI, handed down from the app factory."""

    catalogue: Catalogue
    symbols: SymbolDirectory
    engine_factory: EngineFactory
    clock: Clock
    frame_rate: float = 15.0
    #: the journal file the Journal screen reads and sessions write (None: journal off)
    journal_path: Path | None = None
    #: the config file whose alert rules sessions fire and the Alerts screen edits
    config_path: Path | None = None
    #: what runs around each live session (the journal recorder, the alerts); None: nothing
    session_hooks: SessionHooks | None = None
