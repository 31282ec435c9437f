"""Apps for screenshots and Pilot tests: the real app factory, engine and strategies, fed
by a replay of real BTC candles instead of a socket, with a frozen clock.

What is fixed here and why:
- the clock (event-log times that have no exchange time) is frozen;
- latency and lag figures are measured with the wall clock by the engine, so the engine
  wrapper reports fixed values for those three numbers only; everything else on screen is
  what the real engine computed from the real candles;
- the source holds the line open after its last candle (like a quiet exchange), so the
  screen stays "live" instead of flipping to "stopped" when the replay ends.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import AsyncIterator, Sequence

from textual.pilot import Pilot

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market import Candle, CandleEvent, Symbol
from cryptoai_tui.market.symbol import split_pair
from cryptoai_tui.sim.symbols import DEFAULT_SYMBOLS
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.registry import STRATEGY_NAMES
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import CryptoAIApp, make_app
from cryptoai_tui.tui.screens.live import LiveScreen
from cryptoai_tui.tui.services import EngineFactory, build_engine
from cryptoai_tui.tui.session import AppConfig, Endpoint, LiveSession
from tests.conftest import load_candles

FROZEN_NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
SIZE = (120, 40)
REPLAY_CANDLES = 357  # the BTC 1h window whose last close gives a confirmed ANY-mode BUY
FIXED_LATENCY = (180.0, 420.0)  # p50, p99 in µs
FIXED_LAG_MS = 35.0

SIM_SYMBOL_NAMES = tuple(spec.name for spec in DEFAULT_SYMBOLS)  # the simulator's own listing


def frozen_clock() -> float:
    return FROZEN_NOW


def listed_symbols(names: Sequence[str] = SIM_SYMBOL_NAMES) -> tuple[Symbol, ...]:
    """The simulator's default listing as Symbol values."""
    symbols = []
    for name in names:
        base, quote = split_pair(name)
        assert base is not None and quote is not None
        symbols.append(Symbol(name, base, quote))
    return tuple(symbols)


async def fixed_symbols(endpoint: Endpoint) -> tuple[Symbol, ...]:
    return listed_symbols()


class HeldOpenReplay:
    """Replays statuses and candles, then stays open until cancelled (a CandleSource)."""

    def __init__(self, items: Sequence[CandleEvent | FeedStatus]) -> None:
        self.items = tuple(items)
        self.counters = FeedCounters()
        self.clock_offset_ms: float | None = None

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._events()

    async def _events(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        for item in self.items:
            if isinstance(item, FeedStatus) and item.state is ConnectionState.RECONNECTING:
                # a feed counts each retry it announces; so does this stand-in
                self.counters = replace(self.counters, reconnects=self.counters.reconnects + 1)
            yield item
            await asyncio.sleep(0)
        await asyncio.Event().wait()


def replay_items(
    symbol: str, interval: str, candles: Sequence[Candle], *, forming: Candle | None = None,
    forming_at: int | None = None,
) -> list[CandleEvent | FeedStatus]:
    """A bootstrap status, LIVE, the candles as closed events, then one forming update."""
    items: list[CandleEvent | FeedStatus] = [
        FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading history.", symbol, interval, len(candles), len(candles)),
        FeedStatus(ConnectionState.LIVE, "Streaming.", symbol, interval),
    ]
    for candle in candles:
        items.append(CandleEvent("binance", symbol, interval, candle, float(candle.close_time), candle.close_time))
    if forming is not None:
        at = forming_at if forming_at is not None else forming.open_time
        items.append(CandleEvent("binance", symbol, interval, forming, float(at), at))
    return items


class FixedClockEngine:
    """The real engine, with its three wall-clock figures (latency p50/p99, lag) fixed."""

    def __init__(
        self, engine: RealtimeStrategyEngine, source: HeldOpenReplay, expected_messages: int,
        expected_state: ConnectionState = ConnectionState.LIVE,
    ) -> None:
        self.engine = engine
        self.source = source
        self.expected_messages = expected_messages
        self.expected_state = expected_state
        self._first = engine.snapshot
        self._first_served = False

    @property
    def snapshot(self) -> Snapshot:
        """The first snapshot until the replay is fully applied (and the first has been read
        at least once), then the newest.

        A screen may skip any number of snapshots; showing it exactly the first and the last
        makes what the event log collects independent of how fast this machine replays,
        even when the replay finishes before the screen's first frame.
        """
        if self.done and self._first_served:
            snapshot = self.engine.snapshot
        else:
            snapshot = self._first
            self._first_served = True
        # Whether the engine has enough samples yet depends on the machine's speed too, so
        # the figures are fixed outright rather than only when present.
        metrics = replace(
            snapshot.metrics,
            latency_p50_us=FIXED_LATENCY[0],
            latency_p99_us=FIXED_LATENCY[1],
            exchange_lag_ms=FIXED_LAG_MS,
        )
        return replace(snapshot, metrics=metrics)

    @property
    def done(self) -> bool:
        """Every replayed item has been applied and published."""
        snapshot = self.engine.snapshot
        return (
            snapshot.metrics.messages_processed >= self.expected_messages
            and snapshot.state is self.expected_state
        )

    async def start(self) -> None:
        await self.engine.run(self.source)

    async def stop(self) -> None:
        await self.engine.stop()

    def set_mode(self, mode: ConfluenceMode) -> object:
        return self.engine.set_mode(mode)

    @property
    def exchange_clock_rate(self) -> float | None:
        return None  # like the fixed lag above: the replay stands for a real-time exchange


def btc_replay_factory(count: int = REPLAY_CANDLES, *, with_forming: bool = True) -> EngineFactory:
    """An engine factory replaying the first `count` BTC 1h candles (plus a forming one)."""
    candles = load_candles("BTCUSDT-1h.csv", limit=count + 1)
    closed, following = candles[:count], candles[count]
    forming = None
    at = None
    if with_forming:
        # 25 minutes into the next hour, the price 40 % of the way to where that hour closed
        at = following.open_time + 25 * 60_000
        close = following.open + 0.4 * (following.close - following.open)
        forming = Candle(following.open_time, following.open, max(following.open, close),
                         min(following.open, close), close, following.volume * 0.4,
                         following.close_time, closed=False)

    def factory(session: LiveSession) -> FixedClockEngine:
        items = replay_items(session.symbol, session.interval, closed, forming=forming, forming_at=at)
        return FixedClockEngine(build_engine(session), HeldOpenReplay(items), count + (1 if forming else 0))

    return factory


def status_factory(*statuses: FeedStatus) -> EngineFactory:
    """An engine factory whose feed only reports statuses (bootstrapping, reconnecting ...)."""

    def factory(session: LiveSession) -> FixedClockEngine:
        return FixedClockEngine(build_engine(session), HeldOpenReplay(statuses), 0, statuses[-1].state)

    return factory


def live_config(mode: ConfluenceMode = ConfluenceMode.ANY, **changes: object) -> AppConfig:
    config = AppConfig(
        exchange="binance", symbol="BTCUSDT", interval="1h", strategies=STRATEGY_NAMES, mode=mode
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def build_app(config: AppConfig, **overrides: object) -> CryptoAIApp:
    """The real factory with test collaborators: frozen clock, fixed listing, BTC replay."""
    options: dict[str, object] = {
        "symbols_loader": fixed_symbols,
        "engine_factory": btc_replay_factory(),
        "clock": frozen_clock,
    }
    options.update(overrides)
    return make_app(config, **options)  # type: ignore[arg-type]


async def settle_live(pilot: Pilot[None], limit_s: float = 30.0) -> LiveScreen:
    """Wait (on conditions, not time) until the replay is fully drawn; returns the screen.

    The limit only stops a broken run from hanging: a deadline, not a count of polls, so a
    loaded machine replaying slowly is not mistaken for one that never finishes.
    """
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        screen = pilot.app.screen
        if isinstance(screen, LiveScreen) and screen.engine is not None:
            engine = screen.engine
            if isinstance(engine, FixedClockEngine) and engine.done:
                # Twice: if no frame was drawn before the replay finished, the first call draws
                # the first snapshot and the second the last; otherwise the second is a no-op.
                screen.draw_newest()
                screen.draw_newest()
                # Let the footer catch up with bindings the frame switched on (s: simulator).
                await pilot.pause()
                await pilot.wait_for_scheduled_animations()
                await pilot.pause(0.05)
                return screen
        await pilot.pause(0.02)
    raise AssertionError("the live screen never finished drawing the replay")
