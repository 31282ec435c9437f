"""Turn an exchange name and optional base URLs into a protocol object ready to connect.

This is the one place that knows "sim" is not a real exchange: for it, the built-in
simulated exchange is started in-process on a free loopback port (or, when URLs are
given, an already-running simulator is used) and the Binance spot protocol is pointed
at it. Every command and the app go through here, so `--exchange sim` means the same
thing everywhere.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from cryptoai_tui.exchanges.base import ExchangeProtocol
from cryptoai_tui.exchanges.registry import get_protocol

if TYPE_CHECKING:
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed
    from cryptoai_tui.sim.config import SimConfig

SIM = "sim"
#: The simulated exchange's protocol: it serves Binance spot (and Bybit) wire formats.
SIM_PROTOCOL = "binance"
#: Simulated time runs this much faster than real time when the simulator is started for
#: a user: a 1m candle closes every two seconds, so signals confirm within a minute.
DEMO_SIM_SPEED = 30.0
SIM_DISPLAY_NAME = "the simulated exchange"


def exchange_display_name(exchange: str) -> str:
    """What to call `exchange` in a sentence ("Binance", "the simulated exchange"), or the
    name as given when it is not one we know (the caller's own error says so)."""
    if exchange == SIM:
        return SIM_DISPLAY_NAME
    try:
        return get_protocol(exchange).display_name
    except ValueError:
        return exchange


def demo_sim_config() -> SimConfig:
    """The simulator a user gets from `--exchange sim`: seeded, sped up, no faults."""
    from cryptoai_tui.sim.config import SimConfig

    return SimConfig(speed=DEMO_SIM_SPEED)


@asynccontextmanager
async def open_protocol(
    exchange: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    sim_config: SimConfig | None = None,
) -> AsyncIterator[ExchangeProtocol]:
    """Yield the protocol for `exchange`; for "sim" without URLs, run a simulator meanwhile."""
    if exchange != SIM:
        yield get_protocol(exchange, ws_url, rest_url)
        return
    if ws_url and rest_url:
        yield _sim_protocol(ws_url, rest_url)
        return
    from cryptoai_tui.sim.server import SimExchange

    async with SimExchange(sim_config or demo_sim_config()) as sim:
        yield _sim_protocol(ws_url or sim.ws_url, rest_url or sim.rest_url)


def _sim_protocol(ws_url: str, rest_url: str) -> ExchangeProtocol:
    """Binance's protocol, named as what it talks to, so messages say "simulated exchange"."""
    protocol = get_protocol(SIM_PROTOCOL, ws_url, rest_url)
    protocol.display_name = SIM_DISPLAY_NAME
    return protocol


@asynccontextmanager
async def open_kline_feed(
    exchange: str,
    symbol: str,
    interval: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    history: int = 500,
    feed_config: FeedConfig | None = None,
    sim_config: SimConfig | None = None,
) -> AsyncIterator[KlineFeed]:
    """A started KlineFeed for one stream, the engine's live `CandleSource`.

    The engine never opens a protocol or a simulator itself: commands, the TUI's services
    and tests build its source here, so `--exchange sim` means the same thing everywhere.
    The protocol (and for "sim" without URLs, an in-process simulator) lives as long as the
    feed.
    """
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed

    async with open_protocol(exchange, ws_url, rest_url, sim_config=sim_config) as protocol:
        feed = KlineFeed(protocol, [(symbol, interval)], history=history, config=feed_config or FeedConfig())
        async with feed:
            yield feed
