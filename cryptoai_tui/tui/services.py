"""What the TUI needs from an engine and from an exchange, as types the app is built with.

The app never constructs an engine or a REST client itself: `make_app` receives these
callables, so the CLI wires the real ones and tests wire real ones pointed at a replay or
the simulator, without any screen knowing the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol, Sequence

from cryptoai_tui.market.symbol import Symbol
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.catalogue import Catalogue
from cryptoai_tui.tui.session import Endpoint, LiveSession


class LiveEngine(Protocol):
    """The slice of `RealtimeStrategyEngine` the live screen uses."""

    @property
    def snapshot(self) -> Snapshot: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def set_mode(self, mode: ConfluenceMode) -> object: ...

    @property
    def exchange_clock_rate(self) -> float | None:
        """Exchange seconds per local second when that is not 1 (a sped-up simulator)."""
        ...


EngineFactory = Callable[[LiveSession], LiveEngine]
SymbolsLoader = Callable[[Endpoint], Awaitable[Sequence[Symbol]]]
Clock = Callable[[], float]  # seconds since the epoch, like time.time


def engine_for_session(session: LiveSession) -> LiveEngine:
    """The real engine for a session; "sim" starts the simulated exchange in-process."""
    from cryptoai_tui.engine import RealtimeStrategyEngine

    return RealtimeStrategyEngine(
        session.symbol,
        session.interval,
        session.strategy_spec,
        session.mode,
        session.exchange,
        ws_url=session.ws_url,
        rest_url=session.rest_url,
    )


async def load_exchange_symbols(endpoint: Endpoint) -> Sequence[Symbol]:
    """The exchange's symbol list over REST (the simulator's, for "sim")."""
    from cryptoai_tui.wiring import open_protocol
    from cryptoai_tui.exchanges.rest import RestClient

    async with open_protocol(endpoint.exchange, endpoint.ws_url, endpoint.rest_url) as protocol:
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


@dataclass(frozen=True, slots=True)
class Services:
    """Everything the screens need from outside the UI, handed down from the app factory."""

    catalogue: Catalogue
    symbols: SymbolDirectory
    engine_factory: EngineFactory
    clock: Clock
    frame_rate: float = 15.0
