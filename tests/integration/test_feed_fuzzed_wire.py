"""Issue 9 §8: the feed stays live over a fuzzed wire.

A loopback WebSocket relay sits between KlineFeed and the simulator and, before every
genuine kline frame, sends mutants of it (NaN and negative prices, swapped high/low,
shifted times, booleans, underscores, duplicated keys, truncated JSON, binary garbage)
that the protocol parser refuses. REST goes straight to the simulator. The public feed
must keep delivering the simulator's closed candles, exactly once and in order, on the
same connection (a hostile frame is no reason to reconnect), counting each mutant.
"""

from __future__ import annotations

import asyncio
import json
import random
from contextlib import suppress

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import ExchangeProtocol
from cryptoai_tui.exchanges.errors import MalformedMessageError
from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.feed import FeedConfig, KlineFeed
from cryptoai_tui.market import CandleEvent
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from tests.unit.test_exchange_fuzz import mutate_frame

#: mutants sent ahead of each genuine kline frame
MUTANTS_PER_FRAME = 2
#: the test fails rather than hangs past this
DEADLINE_S = 25.0


class FuzzingRelay:
    """Relays one client's WebSocket to the simulator, putting refused mutants of every
    kline frame ahead of it. Only mutants the parser refuses are sent, since a mutant that
    happens to be a valid candle would be a different market, not a hostile frame."""

    def __init__(self, upstream: str, protocol: ExchangeProtocol, seed: int) -> None:
        self.upstream = upstream
        self.protocol = protocol
        self.rng = random.Random(seed)
        self.mutants_sent = 0
        self.genuine_sent = 0
        self.url = ""
        self._server: object = None

    async def __aenter__(self) -> FuzzingRelay:
        self._server = await serve(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()  # type: ignore[attr-defined]
        await self._server.wait_closed()  # type: ignore[attr-defined]

    def mutant(self, frame: str) -> str | bytes | None:
        base = json.loads(frame)
        for _ in range(20):
            candidate = mutate_frame(self.rng, base)
            try:
                self.protocol.parse_ws_message(candidate)
            except MalformedMessageError:
                return candidate
        return None

    async def _relay(self, client: ServerConnection) -> None:
        path = client.request.path if client.request is not None else "/"
        async with connect(self.upstream + path, max_size=None) as upstream:
            async def up() -> None:
                async for message in client:
                    await upstream.send(message)

            async def down() -> None:
                async for message in upstream:
                    if isinstance(message, str) and ('"kline"' in message or '"topic":"kline.' in message):
                        for _ in range(MUTANTS_PER_FRAME):
                            bad = self.mutant(message)
                            if bad is not None:
                                await client.send(bad)
                                self.mutants_sent += 1
                        self.genuine_sent += 1
                    await client.send(message)

            tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
            with suppress(ConnectionClosed):
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, ConnectionClosed):
                    await task


@pytest.mark.parametrize("exchange", ["binance", "bybit-spot"])
async def test_feed_keeps_delivering_genuine_closed_candles_between_refused_mutants(exchange: str) -> None:
    # a 1m candle every 60 ms: at 3000x (20 ms) a loaded machine let the relay, which tries
    # up to 40 mutations a frame, fall so far behind that REST carried half the candles
    async with SimExchange(SimConfig(speed=1000, seed=21)) as sim:
        direct = get_protocol(exchange, sim.ws_url, sim.rest_url)
        async with FuzzingRelay(sim.ws_url, direct, seed=77) as relay:
            protocol = get_protocol(exchange, relay.url, sim.rest_url)
            streams = [(name, "1m") for name in sim.market.symbol_names[:3]]
            feed = KlineFeed(protocol, streams, history=5, config=FeedConfig(seed=5, stall_timeout_s=2.0))
            closed: dict[tuple[str, str], list[CandleEvent]] = {stream: [] for stream in streams}
            live_target = 60  # closed candles per stream after the bootstrap

            async def consume() -> None:
                async with feed:
                    async for event in feed:
                        if isinstance(event, CandleEvent) and event.closed:
                            closed[(event.symbol, event.interval)].append(event)
                            if all(len(events) >= 5 + live_target for events in closed.values()):
                                return

            await asyncio.wait_for(consume(), DEADLINE_S)
            counters = feed.counters

        # Many mutants went by, each counted as malformed, none of them a reason to reconnect.
        assert relay.mutants_sent >= MUTANTS_PER_FRAME * relay.genuine_sent // 2 >= 100
        assert counters.messages_malformed >= relay.mutants_sent // 2
        assert counters.messages_malformed <= relay.mutants_sent
        assert counters.reconnects == 0
        for (symbol, interval), events in closed.items():
            got = [event.candle for event in events]
            truth = sim.closed_candles(symbol, interval, got[0].open_time, got[-1].open_time)
            assert got == truth, f"{symbol}: the closed candles differ from the simulator's"
            opens = [candle.open_time for candle in got]
            assert opens == sorted(set(opens)), f"{symbol}: a closed candle came twice or out of order"
            assert sum(not event.backfilled for event in events[5:]) >= live_target // 2, (
                f"{symbol}: the live stream stopped and REST carried the candles")
