"""The simulator's REST endpoints: Binance spot, Binance USD-M and Bybit v5 market data.

A plain function of (path, query, exchange clock) -> HttpReply, so it is tested without
sockets; the server only moves bytes. Bodies and error replies are built by the same
protocol objects the client parses with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import parse_qs, urlsplit

from cryptoai_tui.exchanges.base import ExchangeProtocol, HttpReply, Ticker24h
from cryptoai_tui.exchanges.binance import BinanceProtocol, BinanceSpot, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitProtocol, BybitSpot
from cryptoai_tui.exchanges.errors import (
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    RateLimitedError,
)
from cryptoai_tui.market import MarketKind, Symbol
from cryptoai_tui.sim.faults import FaultConfig, FaultDice, FaultKind
from cryptoai_tui.sim.market import MarketModel

_COMPACT = (",", ":")
_JSON = {"Content-Type": "application/json;charset=UTF-8"}
#: quotes of the contracts the simulated linear (USD-M / Bybit linear) market lists
LINEAR_QUOTES = ("USDT", "USDC")
#: Binance weights of the endpoints (rest-api.md); reported in X-MBX-USED-WEIGHT-1M
_WEIGHTS = {"ping": 1, "time": 1, "exchangeInfo": 20, "klines": 2, "uiKlines": 2, "ticker/24hr": 80}
#: the rolling window of a 24 h ticker, in the hourly candles it is summed from
_TICKER_HOURS = 24
#: errors.md -1023 START_TIME_GREATER_THAN_END_TIME
_CODE_START_AFTER_END = -1023


@dataclass
class RestCounters:
    """What the REST side did, for SimExchange.stats()."""

    requests: int = 0
    rate_limited: int = 0
    banned: int = 0
    unavailable: int = 0


class RestRouter:
    """Answers the REST paths of every protocol the simulator speaks."""

    def __init__(self, market: MarketModel, now_ms: Callable[[], int], faults: Callable[[], FaultConfig],
                 seed: int, real_time: Callable[[], float]) -> None:
        self._market = market
        self._now_ms = now_ms
        self._faults = faults
        self._real_time = real_time
        self._dice = FaultDice(seed, "rest")
        self._banned_until: float | None = None
        self._weight_minute = -1
        self._weight_used = 0
        self.counters = RestCounters()
        self._binance_spot = BinanceSpot()
        self._binance_usdm = BinanceUsdm()
        self._bybit = {"spot": BybitSpot(), "linear": BybitLinear()}
        self._binance_routes: dict[str, tuple[BinanceProtocol, str]] = {}
        for protocol in (self._binance_spot, self._binance_usdm):
            root = protocol.klines_path.rsplit("/", 1)[0]
            for endpoint in _WEIGHTS:
                self._binance_routes[f"{root}/{endpoint}"] = (protocol, endpoint)

    def handle(self, path_and_query: str) -> HttpReply:
        parts = urlsplit(path_and_query)
        path = parts.path.rstrip("/")
        params = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        binance = self._binance_routes.get(path)
        if binance is not None:
            protocol, endpoint = binance
            reply = self._fault_reply(protocol) or self._binance(protocol, endpoint, params)
            return self._with_weight(reply, _WEIGHTS[endpoint])
        if path.startswith("/v5/market/"):
            category = params.get("category") or "linear"
            protocol = self._bybit.get(category, self._bybit["linear"])
            return self._fault_reply(protocol) or self._bybit_reply(path.rsplit("/", 1)[1], params)
        return HttpReply(404, {"Content-Type": "text/plain"}, f"No such endpoint: {path or '/'}\n")

    # --- faults -------------------------------------------------------------------
    def _fault_reply(self, protocol: ExchangeProtocol) -> HttpReply | None:
        self.counters.requests += 1
        faults = self._faults()
        now_real = self._real_time()
        if self._banned_until is not None and now_real < self._banned_until:
            self.counters.banned += 1
            return self._ban_reply(protocol, self._banned_until - now_real)
        self._banned_until = None
        if self._dice.roll(FaultKind.REST_418, faults.rest_418_rate):
            self._banned_until = now_real + faults.ban_s
            self.counters.banned += 1
            return self._ban_reply(protocol, faults.ban_s)
        if self._dice.roll(FaultKind.REST_429, faults.rest_429_rate):
            self.counters.rate_limited += 1
            reply = protocol.encode_rest_error(RateLimitedError(faults.retry_after_s), server_time=self._now_ms())
            return _exact_retry_after(reply, faults.retry_after_s)
        if self._dice.roll(FaultKind.REST_5XX, faults.rest_5xx_rate):
            self.counters.unavailable += 1
            return protocol.encode_rest_error(ExchangeUnavailableError("simulated outage"),
                                              server_time=self._now_ms())
        return None

    def _ban_reply(self, protocol: ExchangeProtocol, seconds_left: float) -> HttpReply:
        reply = protocol.encode_rest_error(IpBannedError(seconds_left), server_time=self._now_ms())
        return _exact_retry_after(reply, seconds_left)

    def _with_weight(self, reply: HttpReply, weight: int) -> HttpReply:
        minute = self._now_ms() // 60_000
        if minute != self._weight_minute:
            self._weight_minute, self._weight_used = minute, 0
        self._weight_used += weight
        used = str(self._weight_used)
        return HttpReply(reply.status, {**reply.headers, "X-MBX-USED-WEIGHT-1M": used,
                                        "x-mbx-used-weight": used}, reply.body)

    # --- Binance --------------------------------------------------------------------
    def _binance(self, protocol: BinanceProtocol, endpoint: str, params: Mapping[str, str]) -> HttpReply:
        now = self._now_ms()
        if endpoint == "ping":
            return _json_reply({})
        if endpoint == "time":
            return _json_reply(protocol.encode_server_time(now))
        listed = self._listed(protocol)
        if endpoint == "ticker/24hr":
            return self._binance_tickers(protocol, listed, params, now)
        if endpoint == "exchangeInfo":
            wanted = _exchange_info_filter(params)
            if wanted is None:
                return protocol.encode_rest_error(
                    ValueError("Illegal characters found in parameter 'symbols'; legal range is "
                               "'^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."),
                    server_time=now)
            if wanted:
                names = {s.name for s in listed}
                missing = [w for w in wanted if w not in names]
                if missing:
                    return protocol.encode_rest_error(InvalidSymbolError(missing[0]), server_time=now)
                listed = [s for s in listed if s.name in wanted]
            return _json_reply(protocol.encode_symbols(listed, now))
        try:
            query = protocol.parse_klines_request(params)
        except (ValueError, InvalidIntervalError) as exc:
            return protocol.encode_rest_error(exc, server_time=now)
        if query.symbol not in {s.name for s in listed}:
            return protocol.encode_rest_error(InvalidSymbolError(query.symbol), server_time=now)
        if query.start_time is not None and query.end_time is not None and query.start_time > query.end_time:
            return HttpReply(400, _JSON, json.dumps(
                {"code": _CODE_START_AFTER_END, "msg": "Start time is greater than end time."},
                separators=_COMPACT))
        candles = self._market.klines(
            query.symbol, query.interval, now_ms=now, start_time=query.start_time,
            end_time=query.end_time, limit=query.limit or protocol.rest_kline_limit_default,
        )
        return _json_reply(protocol.encode_klines(candles, query.symbol, query.interval))

    # --- Bybit --------------------------------------------------------------------
    def _bybit_reply(self, endpoint: str, params: Mapping[str, str]) -> HttpReply:
        now = self._now_ms()
        category = params.get("category")
        if endpoint == "time":
            return _json_reply(self._bybit["linear"].encode_server_time(now))
        if endpoint == "instruments-info":
            protocol = self._bybit.get(category or "")
            if protocol is None:
                return self._bybit["linear"].encode_rest_error(
                    ValueError("params error: category must be spot or linear" if category else
                               "params error: category is required"), server_time=now)
            return self._instruments(protocol, params, now)
        if endpoint == "tickers":
            protocol = self._bybit.get(category or "")
            if protocol is None:
                return self._bybit["linear"].encode_rest_error(
                    ValueError("params error: category must be spot or linear" if category else
                               "params error: category is required"), server_time=now)
            listed = self._listed(protocol)
            symbol = params.get("symbol")
            if symbol:
                if symbol not in {s.name for s in listed}:
                    return protocol.encode_rest_error(InvalidSymbolError(symbol), server_time=now)
                listed = [s for s in listed if s.name == symbol]
            return _json_reply(protocol.encode_tickers([self._ticker(s.name, now) for s in listed], now))
        if endpoint == "kline":
            protocol = self._bybit.get(category or "linear")
            if protocol is None:
                return self._bybit["linear"].encode_rest_error(
                    ValueError(f"params error: category {category} is not served by the simulator"),
                    server_time=now)
            try:
                query = protocol.parse_klines_request(params)
            except (ValueError, InvalidIntervalError) as exc:
                return protocol.encode_rest_error(exc, server_time=now)
            if query.symbol not in {s.name for s in self._listed(protocol)}:
                return protocol.encode_rest_error(InvalidSymbolError(query.symbol), server_time=now)
            # Bybit's start/end semantics are undocumented (exchanges.md §8): the newest
            # `limit` candles inside [start, end] is the reading that never skips data.
            candles = self._market.klines(
                query.symbol, query.interval, now_ms=now, start_time=query.start_time,
                end_time=query.end_time, limit=query.limit or protocol.rest_kline_limit_default,
                newest_in_window=True,
            )
            return _json_reply(protocol.encode_klines(candles, query.symbol, query.interval, server_time=now))
        return HttpReply(404, {"Content-Type": "text/plain"}, f"No such endpoint: /v5/market/{endpoint}\n")

    def _instruments(self, protocol: BybitProtocol, params: Mapping[str, str], now: int) -> HttpReply:
        listed = self._listed(protocol)
        symbol = params.get("symbol")
        if symbol:
            listed = [s for s in listed if s.name == symbol]
        if not isinstance(protocol, BybitLinear):
            return _json_reply(protocol.encode_symbols(listed, now))
        try:
            limit = min(max(int(params.get("limit") or 500), 1), 1000)
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return protocol.encode_rest_error(ValueError("params error: limit and cursor must be integers"),
                                              server_time=now)
        page = listed[offset:offset + limit]
        following = offset + limit
        cursor = str(following) if following < len(listed) else None
        return _json_reply(protocol.encode_symbols(page, now, next_cursor=cursor))

    def _binance_tickers(self, protocol: BinanceProtocol, listed: list[Symbol], params: Mapping[str, str],
                         now: int) -> HttpReply:
        """`ticker/24hr`: every listed symbol as an array, or one object for `symbol=`."""
        symbol = params.get("symbol")
        if symbol:
            if symbol not in {s.name for s in listed}:
                return protocol.encode_rest_error(InvalidSymbolError(symbol), server_time=now)
            return _json_reply(protocol.encode_tickers([self._ticker(symbol, now)], now)[0])
        return _json_reply(protocol.encode_tickers([self._ticker(s.name, now) for s in listed], now))

    def _ticker(self, symbol: str, now: int) -> Ticker24h:
        """A symbol's rolling 24 h statistics from the market's own hourly candles (the
        forming hour included), so the ticker agrees with the klines a client also reads."""
        hours = self._market.klines(symbol, "1h", now_ms=now, limit=_TICKER_HOURS + 1)
        if len(hours) > _TICKER_HOURS:
            hours = hours[1:]  # the forming hour plus the 23 before it span the last day
        if not hours:
            return Ticker24h(symbol, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        volume = sum(candle.volume for candle in hours)
        turnover = sum(candle.volume * candle.close for candle in hours)
        return Ticker24h(symbol, hours[-1].close, hours[0].open, max(c.high for c in hours),
                         min(c.low for c in hours), round(volume, 8), round(turnover, 8))

    def _listed(self, protocol: ExchangeProtocol) -> list[Symbol]:
        symbols = list(self._market.symbols)
        if protocol.market_kind is MarketKind.LINEAR:
            return [s for s in symbols if s.quote in LINEAR_QUOTES]
        return symbols


def _json_reply(body: object) -> HttpReply:
    return HttpReply(200, _JSON, json.dumps(body, separators=_COMPACT))


def _exact_retry_after(reply: HttpReply, seconds: float) -> HttpReply:
    """Keep a fractional Retry-After (the protocol rounds up to whole seconds, as real
    exchanges do) so tests can ask for a 0.05 s wait and still run in moments."""
    if "Retry-After" not in reply.headers:
        return reply
    return HttpReply(reply.status, {**reply.headers, "Retry-After": f"{max(seconds, 0.0):.3f}".rstrip("0").rstrip(".") or "0"},
                     reply.body)


def _exchange_info_filter(params: Mapping[str, str]) -> list[str] | None:
    """Symbols asked for by `symbol=` or `symbols=["A","B"]`; [] for all; None if unreadable."""
    if params.get("symbol"):
        return [params["symbol"]]
    raw = params.get("symbols")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value
