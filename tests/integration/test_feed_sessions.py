"""Connection etiquette against the simulator: heartbeats each exchange's way, and subscribe
messages paced under the incoming-message limit while streams come and go."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.feed import ConnectionState, FeedConfig, FeedStatus, KlineFeed
from cryptoai_tui.market import CandleEvent
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange


async def run_for(feed: KlineFeed, seconds: float) -> list[CandleEvent | FeedStatus]:
    events: list[CandleEvent | FeedStatus] = []

    async def consume() -> None:
        async for event in feed:
            events.append(event)

    async with feed:
        try:
            await asyncio.wait_for(consume(), seconds)
        except TimeoutError:
            pass
    return events


async def run_until(feed: KlineFeed, done: Callable[[CandleEvent | FeedStatus], bool],
                    guard_s: float = 30.0) -> list[CandleEvent | FeedStatus]:
    """Every event up to and including the first one `done` accepts; `guard_s` only stops
    a broken run from hanging."""
    events: list[CandleEvent | FeedStatus] = []

    async def consume() -> None:
        async for event in feed:
            events.append(event)
            if done(event):
                return

    async with feed:
        await asyncio.wait_for(consume(), guard_s)
    return events


async def test_binance_server_pings_are_answered_so_the_connection_lives() -> None:
    # Pings every 0.1 s, a 1 s pong timeout, 2 s of running: the feed must answer all of them,
    # with room for a loaded machine to pause the loop now and then.
    async with SimExchange(SimConfig(speed=120, seed=41, ping_interval_s=0.1, pong_timeout_s=1.0)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m")], history=0,
                         config=FeedConfig(stall_timeout_s=3.0))
        await run_for(feed, 2.0)
        stats = sim.stats()
    assert stats.pings >= 5
    assert stats.pong_timeouts == 0 and feed.counters.reconnects == 0


async def test_bybit_json_pings_keep_an_otherwise_silent_client_connected() -> None:
    async with SimExchange(SimConfig(speed=120, seed=42, idle_timeout_s=0.5)) as sim:
        feed = KlineFeed(get_protocol("bybit-linear", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m")], history=0,
                         config=FeedConfig(stall_timeout_s=2.0, ping_interval_s=0.15))
        events = await run_for(feed, 1.5)
        stats = sim.stats()
    assert stats.idle_closes == 0 and feed.counters.reconnects == 0
    assert any(isinstance(e, CandleEvent) for e in events)


async def test_streams_added_and_removed_live_are_paced_under_the_message_limit() -> None:
    # The simulator closes a Binance connection with 1008 above 5 incoming messages/s, as
    # Binance does; adding ten streams at once sends ten SUBSCRIBE messages.
    async with SimExchange(SimConfig(speed=600, seed=43, max_incoming_per_s=5.0)) as sim:
        protocol = get_protocol("binance", sim.ws_url, sim.rest_url)
        names = list(sim.market.symbol_names[:11])
        feed = KlineFeed(protocol, [(names[0], "1m")], history=0, config=FeedConfig(stall_timeout_s=2.0))
        closed: dict[str, list[CandleEvent]] = {}
        removed_at: dict[str, int] = {}

        async def consume() -> None:
            async for event in feed:
                if isinstance(event, CandleEvent) and event.closed:
                    closed.setdefault(event.symbol, []).append(event)
                    if all(len(closed.get(n, [])) >= 3 for n in names) and not removed_at:
                        for name in names[6:]:
                            removed_at[name] = len(closed[name])
                            await feed.remove_stream(name, "1m")
                    if removed_at and all(len(closed[n]) >= 12 for n in names[:6]):
                        return

        async with feed:
            await sim.wait_for_connections(1)
            for name in names[1:]:
                await feed.add_stream(name, "1m", history=2)
            await asyncio.wait_for(consume(), 20)
        stats = sim.stats()
    assert stats.rate_limit_closes == 0 and feed.counters.reconnects == 0
    assert stats.connections_opened == 1
    for name in names[:6]:
        opens = [event.candle.open_time for event in closed[name]]
        assert opens == list(range(opens[0], opens[0] + 60_000 * len(opens), 60_000))
    for name in names[6:]:
        # An unsubscribed stream stops (one close may have been in flight).
        assert len(closed[name]) <= removed_at[name] + 1


async def test_status_sentences_walk_through_connecting_bootstrap_and_live() -> None:
    async with SimExchange(SimConfig(speed=60, seed=44)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("ETHUSDT", "5m")], history=1200,
                         config=FeedConfig(stall_timeout_s=2.0))
        # Until the stream is live (the last status this test reads), not for a fixed second:
        # two pages of history may take longer than that on a loaded machine.
        events = await run_until(feed, lambda e: isinstance(e, FeedStatus) and e.state is ConnectionState.LIVE
                                 and e.symbol == "ETHUSDT")
        assert feed.clock_offset_ms is not None  # the simulator's clock is ahead of ours
    statuses = [e for e in events if isinstance(e, FeedStatus)]
    states = [s.state for s in statuses]
    assert states[0] in (ConnectionState.BOOTSTRAPPING, ConnectionState.CONNECTING)
    progress = [(s.progress, s.total) for s in statuses if s.state is ConnectionState.BOOTSTRAPPING]
    assert progress[0] == (0, 1200) and (1200, 1200) in progress  # two pages of 1000
    loaded = next(s for s in statuses if s.state is ConnectionState.LIVE and s.symbol == "ETHUSDT")
    assert loaded.message == "Loaded 1200 closed ETHUSDT 5m candles."
    history = [e for e in events if isinstance(e, CandleEvent)][:1200]
    assert len(history) == 1200 and all(e.closed and not e.backfilled for e in history)
    assert statuses.index(loaded) > 0
