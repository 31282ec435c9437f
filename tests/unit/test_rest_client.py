"""RestClient (and the feed's pager over it) against a real HTTP server on 127.0.0.1 that
answers with the protocols' own encoders: paging, newest-first reversal, cursors, bounds,
every error path, no retries."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from cryptoai_tui.exchanges import get_protocol
from cryptoai_tui.exchanges.base import ExchangeProtocol, HttpReply
from cryptoai_tui.exchanges.bybit import BybitLinear
from cryptoai_tui.exchanges.errors import (
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    MalformedMessageError,
    RateLimitedError,
    RegionBlockedError,
)
from cryptoai_tui.exchanges.rest import MAX_KLINES_REPLY_BYTES, RestClient
from cryptoai_tui.feed.backoff import BackoffPolicy
from cryptoai_tui.feed.history import HistoryClient
from cryptoai_tui.market import Candle, Interval, Symbol

MINUTE = 60_000
T0 = 1_700_000_040_000 - 1_700_000_040_000 % MINUTE
SERVER_TIME = 1_700_000_000_123


def minute_candles(count: int, start: int = T0) -> list[Candle]:
    return [
        Candle(start + i * MINUTE, 100 + i, 101 + i, 99 + i, 100.5 + i, 1.5, start + (i + 1) * MINUTE - 1, True)
        for i in range(count)
    ]


@dataclass
class LoopbackExchange:
    """A real HTTP/1.1 server speaking one protocol. Binance fills a capped window from its
    start; this server's Bybit fills it from its end, the less convenient reading of the docs,
    so paging is proven against both."""

    protocol: ExchangeProtocol
    candles: list[Candle] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    symbols_page: int = 2
    #: replies served (once each, in order) before normal routing
    queued: list[HttpReply] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hang: bool = False
    server_time: int = SERVER_TIME

    def route(self, path: str, params: dict[str, str]) -> HttpReply:
        proto = self.protocol
        if self.queued:
            return self.queued.pop(0)
        if path == proto.time_path:
            return _json(proto.encode_server_time(self.server_time))
        if path == proto.symbols_path:
            start = int(params.get("cursor") or 0)
            if isinstance(proto, BybitLinear):
                page = self.symbols[start:start + self.symbols_page]
                more = start + self.symbols_page < len(self.symbols)
                return _json(proto.encode_symbols(page, SERVER_TIME,
                                                  next_cursor=str(start + self.symbols_page) if more else None))
            return _json(proto.encode_symbols(self.symbols, SERVER_TIME))
        if path == proto.klines_path:
            try:
                query = proto.parse_klines_request(params)
            except (ValueError, InvalidIntervalError) as exc:
                return proto.encode_rest_error(exc, server_time=SERVER_TIME)
            if query.symbol != "BTCUSDT":
                return proto.encode_rest_error(InvalidSymbolError(query.symbol), server_time=SERVER_TIME)
            rows = [c for c in self.candles
                    if (query.start_time is None or c.open_time >= query.start_time)
                    and (query.end_time is None or c.open_time <= query.end_time)]
            limit = query.limit or proto.rest_kline_limit_default
            from_start = query.start_time is not None and proto.name.startswith("binance")
            rows = rows[:limit] if from_start else rows[-limit:]
            return _json(proto.encode_klines(rows, query.symbol, query.interval))
        return HttpReply(404, {"Content-Type": "text/plain"}, "Not Found")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            parts = urlsplit(target)
            params = dict(parse_qsl(parts.query))
            self.requests.append((parts.path, params))
            if self.hang:
                await asyncio.sleep(3600)
            reply = self.route(parts.path, params)
            body = reply.body.encode()
            lines = [f"HTTP/1.1 {reply.status} X", f"Content-Length: {len(body)}", "Connection: close"]
            lines += [f"{k}: {v}" for k, v in reply.headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def _json(payload: object) -> HttpReply:
    return HttpReply(200, {"Content-Type": "application/json"}, json.dumps(payload))


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """serve(name, **fields) -> (server, client) with the client's REST base on the server."""
    servers: list[asyncio.Server] = []
    clients: list[RestClient] = []

    async def start(name: str, timeout: float = 5.0, **fields: object) -> tuple[LoopbackExchange, RestClient]:
        exchange = LoopbackExchange(get_protocol(name), **fields)  # type: ignore[arg-type]
        server = await asyncio.start_server(exchange.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        client = RestClient(get_protocol(name, rest_url=f"http://127.0.0.1:{port}"), timeout=timeout)
        clients.append(client)
        return exchange, client

    yield start
    for client in clients:
        await client.aclose()
    for server in servers:
        server.close()
    for server in servers:
        await server.wait_closed()


# --- plain requests ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["binance", "binance-futures", "bybit-spot"])
async def test_server_time(serve, name: str) -> None:
    _, client = await serve(name)
    assert await client.get_server_time() == SERVER_TIME


async def test_bybit_linear_symbols_follow_cursors(serve) -> None:
    listed = [Symbol(f"C{i}USDT", f"C{i}", "USDT", "Trading") for i in range(5)]
    server, client = await serve("bybit-linear", symbols=listed)
    assert await client.get_symbols() == listed
    assert [params.get("cursor") for _, params in server.requests] == [None, "2", "4"]


@pytest.mark.parametrize("name", ["binance", "bybit-spot"])
async def test_unpaginated_symbols_take_one_request(serve, name: str) -> None:
    listed = [Symbol(f"C{i}USDT", f"C{i}", "USDT", "TRADING") for i in range(5)]
    server, client = await serve(name, symbols=listed)
    symbols = await client.get_symbols()
    assert [s.name for s in symbols] == [s.name for s in listed]
    assert len(server.requests) == 1


@pytest.mark.parametrize("name", ["binance", "bybit-spot"])
async def test_get_klines_returns_oldest_first(serve, name: str) -> None:
    candles = minute_candles(10)
    _, client = await serve(name, candles=candles)
    assert await client.get_klines("BTCUSDT", "1m", limit=4) == candles[-4:]
    assert await client.get_klines("btcusdt", Interval.parse("1m"), start_time=T0, end_time=T0 + 2 * MINUTE) == candles[:3]


# --- paging (feed/history.py is the one pager) and bounds -------------------------------

def history_of(client: RestClient) -> HistoryClient:
    return HistoryClient(client.protocol, client._client, backoff=BackoffPolicy(0.01, 0.02))


@pytest.mark.parametrize("name,pages", [("binance", 11), ("binance-futures", 7), ("bybit-linear", 11)])
async def test_history_pages_through_10k_candles_without_duplicates(serve, name: str, pages: int) -> None:
    candles = minute_candles(10_500)
    server, client = await serve(name, candles=candles, server_time=candles[-1].close_time + 1)
    seen: list[int] = []
    got = await history_of(client).closed_since("BTCUSDT", Interval.parse("1m"), T0,
                                                progress=lambda done, of: seen.append(done))
    assert got == candles
    assert sum(1 for path, _ in server.requests if path == client.protocol.klines_path) == pages
    assert seen[-1] == 10_500 and seen == sorted(seen)


async def test_history_skips_holes_and_keeps_only_closed_rows(serve) -> None:
    candles = minute_candles(3000)
    with_hole = candles[:1200] + candles[2400:]
    # the exchange's clock is inside the last candle: that one is still forming
    _, client = await serve("binance", candles=with_hole, server_time=candles[-1].open_time + 5)
    got = await history_of(client).closed_since("BTCUSDT", Interval.parse("1m"), candles[100].open_time)
    assert got == candles[100:1200] + candles[2400:-1]


@pytest.mark.parametrize("name,n", [("binance", 2500), ("binance-futures", 2500), ("bybit-spot", 2500), ("binance", 1)])
async def test_history_last_closed_returns_the_newest_n(serve, name: str, n: int) -> None:
    candles = minute_candles(4000)
    _, client = await serve(name, candles=candles, server_time=candles[-1].close_time + 1)
    assert await history_of(client).last_closed("BTCUSDT", Interval.parse("1m"), n) == candles[-n:]


async def test_a_server_clock_a_year_ahead_is_reported_and_not_used_for_paging(serve) -> None:
    candles = minute_candles(1300)
    year = 365 * 86_400_000
    server, client = await serve("binance", candles=candles, server_time=candles[-1].close_time + 1 + year)
    said: list[str] = []
    history = HistoryClient(client.protocol, client._client, on_clock=said.append)
    got = await history.closed_since("BTCUSDT", Interval.parse("1m"), candles[200].open_time)
    assert got == candles[200:]
    klines = sum(1 for path, _ in server.requests if path == client.protocol.klines_path)
    assert klines <= 4  # two pages of candles and at most two empty ones, not the 525 of a year
    assert len(said) == 1 and "clock" in said[0] and "newest candle" in said[0]
    # the bootstrap of the newest candles judges by the candles too, instead of "Loaded 0"
    newest = await history.last_closed("BTCUSDT", Interval.parse("1m"), 100)
    assert newest == candles[-101:-1]


async def test_a_reply_with_more_rows_than_the_page_limit_is_refused(serve) -> None:
    proto = get_protocol("binance")
    rows = minute_candles(1001)
    _, client = await serve("binance", queued=[_json(proto.encode_klines(rows, "BTCUSDT", "1m"))])
    with pytest.raises(MalformedMessageError, match="1001 kline rows where a page holds at most 1000") as caught:
        await client.get_klines("BTCUSDT", "1m", limit=1000)
    assert caught.value.reason == "too many rows"


async def test_rows_in_descending_order_are_refused_not_cut_short(serve) -> None:
    proto = get_protocol("binance")
    rows = minute_candles(20)
    _, client = await serve("binance", queued=[_json(proto.encode_klines(rows[::-1], "BTCUSDT", "1m"))])
    with pytest.raises(MalformedMessageError, match="not after the row before it") as caught:
        await client.get_klines("BTCUSDT", "1m", limit=20)
    assert caught.value.reason == "rows out of order"


async def test_a_reply_over_the_byte_cap_is_refused_without_reading_it_all(serve) -> None:
    huge = "[" + ",".join(["[1,\"1\",\"1\",\"1\",\"1\",\"1\",2,\"1\",1,\"1\",\"1\",\"0\"]"] * 150_000) + "]"
    assert len(huge) > MAX_KLINES_REPLY_BYTES
    _, client = await serve("binance", queued=[HttpReply(200, {"Content-Type": "application/json"}, huge)])
    with pytest.raises(MalformedMessageError, match="more than 4 MiB") as caught:
        await client.get_klines("BTCUSDT", "1m", limit=1000)
    assert caught.value.reason == "reply too large"


# --- errors ------------------------------------------------------------------------------

async def test_429_raises_with_retry_after_and_is_not_retried(serve) -> None:
    proto = get_protocol("binance")
    server, client = await serve("binance", queued=[proto.encode_rest_error(RateLimitedError(17))])
    with pytest.raises(RateLimitedError) as info:
        await client.get_server_time()
    assert info.value.retry_after == 17.0
    assert len(server.requests) == 1


async def test_418_ban(serve) -> None:
    proto = get_protocol("binance")
    _, client = await serve("binance", queued=[proto.encode_rest_error(IpBannedError(300))])
    with pytest.raises(IpBannedError) as info:
        await client.get_klines("BTCUSDT", "1m")
    assert info.value.retry_after == 300.0


async def test_bybit_10006_uses_the_reset_header(serve) -> None:
    proto = get_protocol("bybit-spot")
    _, client = await serve("bybit-spot", queued=[proto.encode_rest_error(RateLimitedError(2), server_time=SERVER_TIME)])
    with pytest.raises(RateLimitedError) as info:
        await client.get_klines("BTCUSDT", "1m")
    assert info.value.retry_after == 2.0


@pytest.mark.parametrize("name,reply_for", [("binance", "binance"), ("binanceus", "binanceus"), ("bybit-linear", "bybit-linear")])
async def test_region_blocks_json_and_html(serve, name: str, reply_for: str) -> None:
    reply = get_protocol(reply_for).encode_rest_error(RegionBlockedError("x", ""))
    _, client = await serve(name, queued=[reply])
    with pytest.raises(RegionBlockedError) as info:
        await client.get_symbols()
    assert "--exchange" in str(info.value)


@pytest.mark.parametrize("name", ["binance", "bybit-spot"])
async def test_unknown_symbol_names_the_symbol(serve, name: str) -> None:
    _, client = await serve(name, candles=minute_candles(5))
    with pytest.raises(InvalidSymbolError) as info:
        await client.get_klines("DOGEBTC", "1m")
    assert info.value.symbol == "DOGEBTC" and "DOGEBTC" in str(info.value)


async def test_5xx_is_unavailable(serve) -> None:
    proto = get_protocol("binance")
    _, client = await serve("binance", queued=[proto.encode_rest_error(ExchangeUnavailableError("x"))])
    with pytest.raises(ExchangeUnavailableError, match="HTTP 503"):
        await client.get_server_time()


async def test_non_json_success_body_is_malformed(serve) -> None:
    page = HttpReply(200, {"Content-Type": "text/html"}, "<html><body>captive portal</body></html>")
    _, client = await serve("binance", queued=[page])
    with pytest.raises(MalformedMessageError, match="not JSON: 'captive portal'"):
        await client.get_server_time()


async def test_connection_refused_is_unavailable_with_a_plain_sentence() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with RestClient(get_protocol("binance", rest_url=f"http://127.0.0.1:{port}")) as client:
        with pytest.raises(ExchangeUnavailableError) as info:
            await client.get_server_time()
    message = str(info.value)
    assert message.startswith(f"Cannot reach 127.0.0.1:{port}: ")
    assert "refused" in message
    assert message.endswith("Check your network, or use --exchange sim for the offline simulator.")


async def test_a_silent_server_times_out_as_unavailable(serve) -> None:
    _, client = await serve("binance", timeout=0.2, hang=True)
    with pytest.raises(ExchangeUnavailableError, match=r"no answer within 0.2 s"):
        await client.get_server_time()


async def test_borrowed_http_client_is_left_open() -> None:
    async with httpx.AsyncClient() as http:
        async with RestClient(get_protocol("binance"), client=http):
            pass
        assert not http.is_closed
    owned = RestClient(get_protocol("binance"))
    await owned.aclose()
    assert owned._client.is_closed
