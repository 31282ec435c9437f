"""The Watchlist screen for screenshots and Pilot tests: the real WatchlistEngine (one real
live engine per symbol) over a replay of the simulator's candles for a fixed moment, with
a frozen clock, so every row is what the engine computed and stays the same run after run.
"""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator, Sequence

from textual.pilot import Pilot

from cryptoai_tui.engine.watchlist import WatchlistEngine, WatchRow
from cryptoai_tui.exchanges.base import Ticker24h
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market import Candle, CandleEvent
from cryptoai_tui.sim.market import MarketModel
from cryptoai_tui.strategies.signal import ConfluenceMode
from cryptoai_tui.tui.app import CryptoAIApp
from cryptoai_tui.tui.screens.watchlist import WatchlistScreen
from cryptoai_tui.tui.session import WatchChoice
from tests.snapshots.apps import AppConfig, btc_replay_factory, build_app, frozen_clock

WATCHED = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "LINKUSDT", "PEPEUSDT",
           "AVAXUSDT", "LTCUSDT")
REPAIRING = "LINKUSDT"  # shown with the repair mark, as while its gap is fetched
MINUTE = 60_000
NOW_MS = 1_700_000_000_000 // MINUTE * MINUTE  # the replayed moment: a minute boundary
CANDLES = 90
CHOICE = WatchChoice("sim", "1m", ("rsi", "macd", "ema_cross", "bollinger", "bos"), ConfluenceMode.ANY,
                     WATCHED, None)


class HeldOpenMultiReplay:
    """Several symbols' statuses and candles, then open until cancelled (a MultiSource)."""

    def __init__(self, items: Sequence[CandleEvent | FeedStatus], repairing: frozenset[tuple[str, str]]) -> None:
        self.items = tuple(items)
        self.counters = FeedCounters()
        self.clock_offset_ms: float | None = None
        self.repairing = repairing

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._events()

    async def _events(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        for item in self.items:
            yield item
        await asyncio.Event().wait()


def _replay(model: MarketModel) -> tuple[list[CandleEvent | FeedStatus], list[Ticker24h], int]:
    items: list[CandleEvent | FeedStatus] = [FeedStatus(ConnectionState.LIVE, "Streaming.")]
    tickers = []
    count = 0
    for symbol in WATCHED:
        closed = model.closed_candles(symbol, "1m", NOW_MS - CANDLES * MINUTE, NOW_MS - MINUTE, NOW_MS)
        forming = model.candle(symbol, "1m", NOW_MS, NOW_MS + 25_000)
        assert forming is not None
        for candle in closed:
            items.append(CandleEvent("sim", symbol, "1m", candle, float(candle.close_time), candle.close_time))
        items.append(CandleEvent("sim", symbol, "1m", forming, float(NOW_MS + 25_000), NOW_MS + 25_000))
        count += len(closed) + 1
        day = model.candle(symbol, "1m", NOW_MS - 1440 * MINUTE)
        assert day is not None
        tickers.append(Ticker24h(symbol, forming.close, day.open, 0.0, 0.0, 0.0,
                                 _turnover(closed + [forming])))
    return items, tickers, count


def _turnover(candles: Sequence[Candle]) -> float:
    return round(sum(c.volume * c.close for c in candles) * 16, 2)  # the last 90 minutes, scaled to a day


class ReplayWatchRunner:
    """A WatchRunner whose feed is the replay above; `done` once every item is applied."""

    def __init__(self, choice: WatchChoice) -> None:
        self.engine = WatchlistEngine(choice.symbols, choice.interval, choice.strategies, choice.mode,
                                      choice.exchange, clock=frozen_clock)
        items, self._tickers, self.expected = _replay(MarketModel(seed=7, symbols=WATCHED))
        self.source = HeldOpenMultiReplay(items, frozenset({(REPAIRING, "1m")}))

    @property
    def done(self) -> bool:
        rows = self.engine.rows()
        applied = sum(self.engine.engine(row.symbol).snapshot.metrics.messages_processed for row in rows)
        return applied >= self.expected

    def changes(self) -> tuple[WatchRow, ...]:
        return self.engine.changes()

    def status(self) -> tuple[ConnectionState, str]:
        snapshot = self.engine.engine(self.engine.symbols[0]).snapshot
        return snapshot.state, snapshot.state_message

    async def start(self) -> None:
        async def tickers() -> list[Ticker24h]:
            return self._tickers

        await self.engine.run(self.source, tickers)

    async def stop(self) -> None:
        await self.engine.stop()


def watch_app() -> CryptoAIApp:
    return build_app(AppConfig(exchange="sim", interval="1m", strategies=CHOICE.strategies,
                               mode=ConfluenceMode.ANY), engine_factory=btc_replay_factory())


async def open_watchlist(pilot: Pilot[None], limit_s: float = 60.0) -> WatchlistScreen:
    """Push the Watchlist over the Lab (as `w` does, with the replay runner) and wait, on
    conditions, until every replayed update is drawn; returns the screen."""
    app = pilot.app
    screen = WatchlistScreen(CHOICE, btc_replay_factory(), exchange_title="Simulated exchange",
                             clock=frozen_clock, watch_factory=ReplayWatchRunner)
    await app.push_screen(screen)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        runner = screen.runner
        if isinstance(runner, ReplayWatchRunner) and runner.done:
            screen.draw_frame()
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            await pilot.pause(0.05)
            return screen
        await pilot.pause(0.02)
    raise AssertionError("the watchlist never finished drawing the replay")
