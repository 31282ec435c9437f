"""How KlineFeed says no: bad input fails fast and plainly, an unreachable or hostile exchange
gives status sentences and retries, never a traceback."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.exchanges.errors import InvalidIntervalError, InvalidSymbolError, IpBannedError, RegionBlockedError
from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.feed import ConnectionState, FeedConfig, FeedStatus, KlineFeed
from cryptoai_tui.feed.connect_errors import NeverConnectedError
from cryptoai_tui.market import CandleEvent
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.faults import FaultConfig
from cryptoai_tui.sim.server import SimExchange

QUICK = FeedConfig(seed=1, backoff_base_s=0.02, backoff_cap_s=0.1, stall_timeout_s=0.5, connect_timeout_s=1.0,
                   rest_timeout_s=1.0, region_block_retry_s=0.3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def statuses_until(feed: KlineFeed, enough: int, timeout: float = 10.0) -> list[FeedStatus]:
    seen: list[FeedStatus] = []

    async def consume() -> None:
        async with feed:
            async for event in feed:
                if isinstance(event, FeedStatus):
                    seen.append(event)
                    if len(seen) >= enough:
                        return

    await asyncio.wait_for(consume(), timeout)
    return seen


async def test_unknown_symbol_names_close_matches() -> None:
    async with SimExchange(SimConfig(seed=1)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m"), ("ETHUSDX", "1m")])
        with pytest.raises(InvalidSymbolError) as caught:
            await feed.validate()
    assert caught.value.symbol == "ETHUSDX"
    assert "ETHUSDT" in caught.value.suggestions
    assert str(caught.value).startswith("Unknown symbol 'ETHUSDX' on Binance. Did you mean ETHUSDT")


def test_bad_interval_lists_the_exchange_intervals() -> None:
    with pytest.raises(InvalidIntervalError) as caught:
        KlineFeed(get_protocol("bybit-spot"), [("BTCUSDT", "7m")])
    message = str(caught.value)
    assert "'7m'" in message and "Bybit" in message
    assert "1m, 3m, 5m" in message


async def test_unknown_symbol_without_validate_ends_the_feed_with_a_typed_error() -> None:
    async with SimExchange(SimConfig(seed=1)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("NOPEUSDT", "1m")], history=10,
                         config=QUICK)
        seen: list[FeedStatus] = []
        with pytest.raises(InvalidSymbolError):
            async with feed:
                async for event in feed:
                    if isinstance(event, FeedStatus):
                        seen.append(event)
    assert seen[-1].state is ConnectionState.ERROR
    assert "NOPEUSDT" in seen[-1].message


async def test_ip_ban_stops_the_feed_with_a_plain_error() -> None:
    faults = FaultConfig(rest_418_rate=1.0, ban_s=30.0)
    async with SimExchange(SimConfig(seed=1, faults=faults)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m")], history=10,
                         config=QUICK)
        seen: list[FeedStatus] = []
        with pytest.raises(IpBannedError) as caught:
            async with feed:
                async for event in feed:
                    if isinstance(event, FeedStatus):
                        seen.append(event)
        assert sim.stats().rest_banned == 1  # stopped at once; retrying would extend the ban
    assert "banned this IP" in str(caught.value)
    assert seen[-1].state is ConnectionState.ERROR and seen[-1].message == str(caught.value)


async def test_rate_limits_wait_the_retry_after_and_then_succeed() -> None:
    faults = FaultConfig(rest_429_rate=0.5, retry_after_s=0.05)
    async with SimExchange(SimConfig(seed=3, speed=60, faults=faults)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m")], history=2500,
                         config=QUICK)
        closed: list[CandleEvent] = []
        waits: list[FeedStatus] = []

        async def consume() -> None:
            async with feed:
                async for event in feed:
                    if isinstance(event, CandleEvent):
                        closed.append(event)
                    elif event.retry_in is not None:
                        waits.append(event)
                    elif event.state is ConnectionState.LIVE and event.symbol:
                        return

        await asyncio.wait_for(consume(), 20)
        assert sim.stats().rest_rate_limited >= 1
    assert len(closed) == 2500  # three pages, each retried on its own
    assert any("429" in w.message and w.retry_in == pytest.approx(0.05) for w in waits)


async def test_refused_connection_reports_and_retries_with_backoff() -> None:
    """The app's feed (no attempt limit) retries a refused connection for as long as it runs."""
    port = free_port()
    protocol = get_protocol("binance", f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    feed = KlineFeed(protocol, [("BTCUSDT", "1m")], history=0, config=replace(QUICK, connect_attempts=None))
    seen = await statuses_until(feed, enough=24)
    retries = [s for s in seen if s.state is ConnectionState.RECONNECTING]
    assert len(retries) >= 10, "well past the default limit of four attempts"
    assert all("refused the connection" in s.message for s in retries)
    assert all(s.retry_in is not None and 0 <= s.retry_in <= QUICK.backoff_cap_s for s in retries)


async def test_a_feed_that_never_connects_gives_up_after_its_attempts_with_a_sentence() -> None:
    """A command's feed (the default limit) ends: every attempt said why it failed, and the
    last error says the feed gave up, so `stream` and `signals` can exit 2."""
    port = free_port()
    protocol = get_protocol("binance", f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    config = replace(QUICK, connect_attempts=3)
    feed = KlineFeed(protocol, [("BTCUSDT", "1m")], history=0, config=config)
    seen: list[FeedStatus] = []

    async def consume() -> None:
        async with feed:
            async for event in feed:
                if isinstance(event, FeedStatus):
                    seen.append(event)

    with pytest.raises(NeverConnectedError) as raised:
        await asyncio.wait_for(consume(), 10)
    message = str(raised.value)
    assert "refused the connection" in message and "Gave up after 3 attempts" in message, message
    assert [s.state for s in seen].count(ConnectionState.CONNECTING) == 3
    assert FeedConfig().connect_attempts is not None, "commands get a limit by default"


async def test_a_feed_that_connected_once_keeps_trying_past_the_limit() -> None:
    """Only a feed that never connected gives up: once the exchange answered, an outage is
    ridden out with backoff however long it lasts."""
    sim = SimExchange(SimConfig(seed=4, speed=600))
    await sim.start()
    protocol = get_protocol("binance", sim.ws_url, sim.rest_url)
    feed = KlineFeed(protocol, [("BTCUSDT", "1m")], history=0, config=replace(QUICK, connect_attempts=2))
    seen: list[FeedStatus] = []
    gone: list[bool] = []

    async def consume() -> None:
        async with feed:
            async for event in feed:
                if isinstance(event, FeedStatus):
                    seen.append(event)
                    if event.state is ConnectionState.LIVE and not gone:
                        gone.append(True)
                        await sim.stop()  # the exchange goes away after the first session
                    refused = [s for s in seen if "refused the connection" in s.message]
                    if len(refused) >= 5:
                        return

    try:
        await asyncio.wait_for(consume(), 20)
    finally:
        await sim.stop()
    assert gone, "the feed went live before the exchange went away"


async def test_region_block_is_said_plainly_and_retried_slowly() -> None:
    # A real server answering the WebSocket upgrade the way Binance answers a US IP.
    blocked = BinanceSpot().encode_rest_error(RegionBlockedError("Binance", ""))

    def refuse(connection: ServerConnection, request: Request) -> Response:
        return Response(blocked.status, "Unavailable For Legal Reasons", Headers(blocked.headers),
                        blocked.body.encode())

    async def never(connection: ServerConnection) -> None:
        raise AssertionError("no WebSocket should open")

    async with serve(never, "127.0.0.1", 0, process_request=refuse) as server:
        port = server.sockets[0].getsockname()[1]
        protocol = get_protocol("binance", f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
        feed = KlineFeed(protocol, [("BTCUSDT", "1m")], history=0, config=QUICK)
        seen = await statuses_until(feed, enough=4)
    errors = [s for s in seen if s.state is ConnectionState.ERROR]
    assert errors, [s.message for s in seen]
    assert "refuses connections from this location" in errors[0].message
    assert "--exchange binanceus" in errors[0].message
    assert errors[0].retry_in == QUICK.region_block_retry_s
    json.loads(blocked.body)  # the exchange's own JSON body, parsed by the protocol


async def test_callback_style_run_delivers_events_and_stops_on_cancel() -> None:
    async with SimExchange(SimConfig(seed=2, speed=600)) as sim:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, sim.rest_url), [("BTCUSDT", "1m")], history=3,
                         config=QUICK)
        closed: list[CandleEvent] = []
        done = asyncio.Event()

        async def on_event(event: CandleEvent | FeedStatus) -> None:
            if isinstance(event, CandleEvent) and event.closed:
                closed.append(event)
                if len(closed) >= 6:
                    done.set()

        runner = asyncio.ensure_future(feed.run(on_event))
        await asyncio.wait_for(done.wait(), 10)
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        opens = [event.candle.open_time for event in closed]
        assert opens == sorted(set(opens))
        assert await _connections_close(sim), "the socket outlived the cancelled run"


async def _connections_close(sim: SimExchange) -> bool:
    for _ in range(100):
        if sim.connections == 0:
            return True
        await asyncio.sleep(0.01)
    return False
