"""Turn an exchange name and optional base URLs into a protocol object ready to connect.

This is the composition root and the one place that knows "sim" is not a real exchange:
for it, the built-in simulated exchange is started in-process on a free loopback port (or,
when URLs are given, an already-running simulator is used) and the Binance protocol of the
symbol's market kind is pointed at it (spot paths for ETHUSDT, USD-M futures paths for
ETH/USDT:USDT; the simulator serves both on one port). Every command, the app and the
script API go through here, so `--exchange sim` means the same thing everywhere, and the
name a user sees says when the data does not come from the real market.
"""

from __future__ import annotations

import random
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator, Iterable
from urllib.parse import urlsplit

from cryptoai_tui.exchanges.base import ExchangeProtocol
from cryptoai_tui.exchanges.redact import mask_url
from cryptoai_tui.exchanges.registry import EXCHANGE_NAMES, get_protocol
from cryptoai_tui.market.symbol import MarketKind, SymbolRef, parse_symbol

if TYPE_CHECKING:
    from cryptoai_tui.engine.watchlist import TickerReader
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed
    from cryptoai_tui.sim.config import SimConfig

SIM = "sim"
#: The simulated exchange's protocols, by the market kind a symbol names: it serves the
#: Binance spot and USD-M futures wire formats (and Bybit's) on one port.
SIM_PROTOCOLS: dict[MarketKind, str] = {MarketKind.SPOT: "binance", MarketKind.LINEAR: "binance-futures"}
#: kept for callers that only need the spot one
SIM_PROTOCOL = SIM_PROTOCOLS[MarketKind.SPOT]
#: Simulated time runs this much faster than real time when the simulator is started for
#: a user: a 1m candle closes every two seconds, so signals confirm within a minute.
DEMO_SIM_SPEED = 30.0
SIM_DISPLAY_NAME = "the simulated exchange"
#: every name `--exchange` and `exchange=` accept
EXCHANGE_CHOICES: tuple[str, ...] = (*EXCHANGE_NAMES, SIM)

_WS_SCHEMES = ("ws", "wss")
_REST_SCHEMES = ("http", "https")

class EndpointError(ValueError):
    """A base URL that cannot work (wrong scheme, no host); the message says which and why."""


def is_simulator(exchange: str) -> bool:
    """True for the built-in simulated exchange, however the user capitalised it."""
    return exchange.strip().lower() == SIM


def normalise_exchange(exchange: str) -> str:
    """The registry spelling of a user's exchange name (`Binance` -> `binance`)."""
    return exchange.strip().lower()


def market_kind_of(symbols: Iterable[str | SymbolRef] | str | SymbolRef | None) -> MarketKind:
    """The market kind the symbols name: LINEAR when any is written as a perpetual
    (`ETH/USDT:USDT`), else SPOT. Unreadable text counts as spot; the caller's own symbol
    check says what is wrong with it."""
    if symbols is None:
        return MarketKind.SPOT
    items = [symbols] if isinstance(symbols, (str, SymbolRef)) else list(symbols)
    for item in items:
        try:
            ref = parse_symbol(item) if isinstance(item, str) else item
        except ValueError:
            continue
        if ref.kind is MarketKind.LINEAR:
            return MarketKind.LINEAR
    return MarketKind.SPOT


def protocol_name(exchange: str, market_kind: MarketKind = MarketKind.SPOT) -> str:
    """The registry protocol that talks to `exchange` (for "sim", the one of `market_kind`)."""
    if is_simulator(exchange):
        return SIM_PROTOCOLS[market_kind]
    return normalise_exchange(exchange)


def endpoint_label(ws_url: str | None, rest_url: str | None) -> str | None:
    """`127.0.0.1:8765` for URL overrides (both hosts when they differ), None without any.

    Only host and port: a user name or password in the URL is never part of it."""
    places: list[str] = []
    for url in (ws_url, rest_url):
        if not url:
            continue
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            host, port = mask_url(url), None
        if ":" in host:  # an IPv6 literal keeps its brackets
            host = f"[{host}]"
        place = host if port is None else f"{host}:{port}"
        if place and place not in places:
            places.append(place)
    return " · ".join(places) if places else None


def display_title(exchange: str, title: str, ws_url: str | None = None, rest_url: str | None = None) -> str:
    """What a header calls the endpoint: `title` as it is for the real exchange, but
    "Binance protocol · 127.0.0.1:8765" when URLs point elsewhere, so data from a simulator or
    a proxy cannot pass for the real market."""
    where = endpoint_label(ws_url, rest_url)
    if where is None:
        return title
    if is_simulator(exchange):
        return f"{title} · {where}"
    return f"{title} protocol · {where}"


def exchange_display_name(exchange: str, ws_url: str | None = None, rest_url: str | None = None) -> str:
    """What to call `exchange` in a sentence ("Binance", "the simulated exchange",
    "Binance protocol · 127.0.0.1:8765" with URL overrides), or the name as given when it is
    not one we know (the caller's own error says so)."""
    if is_simulator(exchange):
        title = SIM_DISPLAY_NAME
    else:
        try:
            title = get_protocol(normalise_exchange(exchange)).display_name
        except ValueError:
            return exchange
    return display_title(exchange, title, ws_url, rest_url)


def check_endpoint_urls(
    ws_url: str | None, rest_url: str | None, *, ws_name: str = "--ws-url", rest_name: str = "--rest-url"
) -> None:
    """Refuse a base URL that can never connect, before anything starts.

    `ws_name`/`rest_name` are how the caller's user wrote them (`--ws-url` on the command
    line, `ws_url=` in Python), so the sentence names what they typed."""
    for url, name, schemes, example in (
        (ws_url, ws_name, _WS_SCHEMES, "ws://127.0.0.1:8765"),
        (rest_url, rest_name, _REST_SCHEMES, "http://127.0.0.1:8765"),
    ):
        if url is None:
            continue
        shown = mask_url(url)
        if not url.strip():
            raise EndpointError(f"{name} is empty; give a URL such as {example}, or leave it out.")
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise EndpointError(f"{name} {shown!r} is not a URL; give one such as {example}.") from None
        if parts.scheme.lower() not in schemes:
            wanted = " or ".join(f"{scheme}://" for scheme in schemes)
            raise EndpointError(
                f"{name} {shown!r} must start with {wanted}, e.g. {example}."
            )
        if not host:
            raise EndpointError(f"{name} {shown!r} names no host; give one such as {example}.")


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """The simulator a run starts for "sim" (`--seed`, `--sim-speed`), as a value the
    command hands down to `open_protocol`, so nothing about one run is left in the module
    for the next run (or the next test) to inherit.

    `seed` None means the fixed demo seed, so library callers and tests see the same market
    every time; `fresh` draws a new one for a user's run.
    """

    seed: int | None = None
    speed: float = DEMO_SIM_SPEED

    @classmethod
    def fresh(cls, seed: int | None = None, speed: float | None = None) -> SimulatorSettings:
        """A user's run: `seed` as given, else a new random one, so each run shows a
        different market and the printed seed reproduces it."""
        if seed is None:
            seed = random.SystemRandom().randrange(1, 2**31)
        return cls(seed=seed, speed=DEMO_SIM_SPEED if speed is None else speed)

    def sim_config(self) -> SimConfig:
        """The SimConfig to start: sped up, no faults, seeded as these settings say."""
        from cryptoai_tui.sim.config import SimConfig

        if self.seed is None:
            return SimConfig(speed=self.speed)
        return SimConfig(speed=self.speed, seed=self.seed)

    @property
    def effective_seed(self) -> int:
        """The seed the simulator will really use (the demo seed when none was given)."""
        return self.sim_config().seed


def demo_sim_config() -> SimConfig:
    """The simulator `--exchange sim` gets when no settings are handed down: the fixed demo
    seed at the demo speed."""
    return SimulatorSettings().sim_config()


def describe_protocol(
    exchange: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    market_kind: MarketKind = MarketKind.SPOT,
) -> ExchangeProtocol:
    """The protocol object for `exchange`, named as what it talks to, without starting
    anything: for checking symbols and intervals before a connection (a simulator's URLs
    are not known yet, so "sim" gets the protocol's default bases here)."""
    protocol = get_protocol(protocol_name(exchange, market_kind), ws_url, rest_url)
    protocol.display_name = exchange_display_name(exchange, ws_url, rest_url)
    return protocol


@asynccontextmanager
async def open_protocol(
    exchange: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    sim_config: SimConfig | None = None,
    simulator: SimulatorSettings | None = None,
    market_kind: MarketKind = MarketKind.SPOT,
) -> AsyncIterator[ExchangeProtocol]:
    """Yield the protocol for `exchange`; for "sim" without URLs, run a simulator meanwhile.

    The simulator started is `sim_config` when given (tests with faults), else the one
    `simulator` describes (a command's `--seed`/`--sim-speed`), else the demo one.
    `market_kind` matters only for "sim", which serves both: it picks the spot or the USD-M
    futures paths (`market_kind_of(symbols)` gives it from what the user typed)."""
    if not is_simulator(exchange):
        yield describe_protocol(exchange, ws_url, rest_url)
        return
    if ws_url and rest_url:
        yield _sim_protocol(ws_url, rest_url, market_kind, named_by_url=True)
        return
    from cryptoai_tui.sim.server import SimExchange

    config = sim_config or (simulator or SimulatorSettings()).sim_config()
    async with SimExchange(config) as sim:
        yield _sim_protocol(ws_url or sim.ws_url, rest_url or sim.rest_url, market_kind,
                            named_by_url=bool(ws_url or rest_url))


def _sim_protocol(ws_url: str, rest_url: str, market_kind: MarketKind, *, named_by_url: bool) -> ExchangeProtocol:
    """Binance's protocol of `market_kind`, named as what it talks to, so messages say
    "simulated exchange" (with the endpoint when the user gave one)."""
    protocol = get_protocol(SIM_PROTOCOLS[market_kind], ws_url, rest_url)
    protocol.display_name = (
        exchange_display_name(SIM, ws_url, rest_url) if named_by_url else SIM_DISPLAY_NAME
    )
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
    simulator: SimulatorSettings | None = None,
) -> AsyncIterator[KlineFeed]:
    """A started KlineFeed for one stream, the engine's live `CandleSource`.

    The engine never opens a protocol or a simulator itself: commands, the TUI's services
    and tests build its source here, so `--exchange sim` means the same thing everywhere.
    The protocol (and for "sim" without URLs, an in-process simulator) lives as long as the
    feed.
    """
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed

    async with open_protocol(exchange, ws_url, rest_url, sim_config=sim_config, simulator=simulator,
                             market_kind=market_kind_of(symbol)) as protocol:
        feed = KlineFeed(protocol, [(symbol, interval)], history=history, config=feed_config or FeedConfig())
        async with feed:
            yield feed


@asynccontextmanager
async def open_watch_feed(
    exchange: str,
    symbols: Sequence[str],
    interval: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    top: int | None = None,
    history: int | None = None,
    feed_config: FeedConfig | None = None,
    sim_config: SimConfig | None = None,
    simulator: SimulatorSettings | None = None,
) -> AsyncIterator[tuple[KlineFeed, list[str], TickerReader]]:
    """A started KlineFeed of every watched symbol (one connection where the exchange
    allows), the symbols it watches (`symbols`, then the `top` most-traded by 24 h quote
    volume), and the reader of the 24 h tickers: what the `watch` command and the app's
    Watchlist screen both read. Unknown symbols are refused with close
    matches before anything connects (Binance would otherwise acknowledge them and stay
    silent)."""
    import httpx

    from cryptoai_tui.engine.watchlist import WATCH_HISTORY
    from cryptoai_tui.exchanges.base import top_by_turnover
    from cryptoai_tui.exchanges.rest import RestClient
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed

    async with open_protocol(exchange, ws_url, rest_url, sim_config=sim_config, simulator=simulator,
                             market_kind=market_kind_of(symbols)) as protocol:
        async with httpx.AsyncClient() as http:
            rest = RestClient(protocol, http)
            names = list(symbols)
            if top is not None:
                names.extend(top_by_turnover(await rest.get_tickers(), top))
            names = list(dict.fromkeys(names))
            feed = KlineFeed(protocol, [(name, interval) for name in names],
                             history=WATCH_HISTORY if history is None else history,
                             config=feed_config or FeedConfig(), http=http)
            await feed.validate()
            async with feed:
                yield feed, [symbol for symbol, _ in feed.streams], rest.get_tickers
