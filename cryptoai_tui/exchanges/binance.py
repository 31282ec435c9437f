"""Binance wire protocol: spot (binance.com), Binance.US and USD-M futures.

The three share one payload grammar and differ in hosts, paths, limits and intervals, so
one class holds the grammar and three subclasses hold the endpoint sets. Reference:
shared/reference/exchanges.md §1-3; payload shapes are pinned by tests/data/fixtures.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from cryptoai_tui.exchanges import refusals
from cryptoai_tui.exchanges.base import (
    CLOUDFRONT_BLOCK_PAGE,
    JSON,
    ClientRequest,
    ConnectionLimits,
    ControlKind,
    ControlMessage,
    ExchangeProtocol,
    HttpReply,
    KlineMessage,
    KlinesQuery,
    RequestKind,
    RestRequest,
    ShutdownNotice,
    Ticker24h,
    WsMessage,
    body_snippet,
    format_decimal,
    frame_excerpt,
    is_cloudfront_block,
    looks_like_html,
    optional_int_param,
    retry_after_seconds,
)
from cryptoai_tui.exchanges.errors import (
    ExchangeError,
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    MalformedMessageError,
    RateLimitedError,
    RegionBlockedError,
)
from cryptoai_tui.market import Candle, Interval, MarketKind, Symbol

_COMPACT = (",", ":")
# The per-frame checks, bound once: module attribute lookups are a measurable share of a
# kline parse, the hot path of every feed.
_decimal = refusals.decimal
_time_ms = refusals.time_ms
_flag = refusals.flag
_symbol = refusals.symbol
_candle = refusals.candle
#: the sentence this exchange answers a non-integer query parameter with
_NOT_AN_INT = "Data sent for parameter '{name}' is not valid."

_SPOT_INTERVALS: tuple[str, ...] = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)
_NO_SECOND_INTERVALS: tuple[str, ...] = _SPOT_INTERVALS[1:]
_INTERVAL_VALUES: dict[str, Interval] = {name: Interval.parse(name) for name in _SPOT_INTERVALS}
#: longest REST row accepted (Binance sends 12 values; a few more may be added one day)
_MAX_ROW_VALUES = 32

_METHODS = {
    "SUBSCRIBE": RequestKind.SUBSCRIBE,
    "UNSUBSCRIBE": RequestKind.UNSUBSCRIBE,
    "LIST_SUBSCRIPTIONS": RequestKind.LIST_SUBSCRIPTIONS,
    "SET_PROPERTY": RequestKind.SET_PROPERTY,
    "GET_PROPERTY": RequestKind.GET_PROPERTY,
}

#: Binance REST error codes the client maps to typed errors (errors.md).
CODE_TOO_MANY_REQUESTS = -1003
CODE_INTERNAL = -1001
CODE_ILLEGAL_CHARS = -1100
CODE_MANDATORY_PARAM = -1102
CODE_BAD_INTERVAL = -1120
CODE_BAD_SYMBOL = -1121
CODE_INVALID_PARAMETER = -1130

GEO_BLOCK_MESSAGE = (
    "Service unavailable from a restricted location according to 'b. Eligibility' in "
    "https://www.binance.com/en/terms. Please contact customer service if you believe you "
    "received this message in error."
)
SYMBOL_LEGAL_RANGE = "^[A-Z0-9-_.]{1,20}$"


class BinanceProtocol(ExchangeProtocol):
    """The Binance grammar: lowercase `<symbol>@kline_<interval>` streams, raw `/ws/` and
    combined `/stream?streams=` URLs, SUBSCRIBE requests, 12-element REST rows oldest first."""

    client_ping_interval_s = None  # the server sends ping frames; websockets answers them
    market_kind = MarketKind.SPOT
    rest_kline_limit_default = 500
    rest_kline_limit_max = 1000
    #: routed prefix under which kline streams live ("" for spot, "/market" for USD-M)
    ws_path_prefix = ""
    klines_path = "/api/v3/klines"
    symbols_path = "/api/v3/exchangeInfo"
    time_path = "/api/v3/time"
    tickers_path = "/api/v3/ticker/24hr"
    #: what to tell a user whose location the exchange refuses (HTTP 451 JSON)
    region_hint = "From the US, try --exchange binanceus; or use --exchange sim for the offline simulator."
    #: what to tell a user who gets a CloudFront country block page (HTTP 403 HTML)
    cloudfront_hint = region_hint
    #: Binance.US is fronted by CloudFront and geo-blocks with its HTML page, not 451 JSON
    cloudfront_geo_block = False
    _intervals: tuple[str, ...] = _SPOT_INTERVALS

    def __init__(self, ws_base: str | None = None, rest_base: str | None = None) -> None:
        super().__init__(ws_base, rest_base)
        #: the intervals this endpoint set serves, as values, for the per-frame checks
        self._interval_values: dict[str, Interval] = {name: _INTERVAL_VALUES[name] for name in self._intervals}

    # --- intervals -------------------------------------------------------------------
    @property
    def intervals(self) -> tuple[str, ...]:
        return self._intervals

    def interval_code(self, interval: Interval | str) -> str:
        return self.canonical_interval(interval)

    def interval_from_code(self, code: str) -> str:
        if code in self._intervals:
            return code
        raise InvalidIntervalError(code, self._intervals, self.display_name)

    # --- WebSocket ---------------------------------------------------------------------
    def stream_name(self, symbol: str, interval: Interval | str) -> str:
        return f"{symbol.lower()}@kline_{self.interval_code(interval)}"

    def parse_stream_name(self, stream: str) -> tuple[str, str]:
        symbol, sep, rest = stream.partition("@kline_")
        if not sep or not symbol or not rest:
            raise MalformedMessageError(f"{stream!r} is not a {self.display_name} kline stream name.",
                                        reason=refusals.UNKNOWN_STREAM)
        # The UTC+8 variant `<s>@kline_<i>@+08:00` carries the same payload.
        code = rest.split("@", 1)[0]
        return symbol.upper(), self.interval_from_code(code)

    def ws_url(self, streams: Sequence[str] = (), *, combined: bool | None = None) -> str:
        """Raw `/ws/<s>` for one stream, combined `/stream?streams=a/b` for several (or when
        `combined` is True); a bare `/ws` when streams will be subscribed by message."""
        if len(streams) > self.limits.max_streams_per_connection:
            raise ValueError(
                f"{self.display_name} allows at most {self.limits.max_streams_per_connection} "
                f"streams per connection, {len(streams)} were asked for; split them over "
                "several connections."
            )
        root = f"{self.ws_base}{self.ws_path_prefix}"
        use_combined = len(streams) > 1 if combined is None else combined
        if use_combined:
            return f"{root}/stream?streams={'/'.join(streams)}"
        if not streams:
            return f"{root}/ws"
        return f"{root}/ws/{streams[0]}"

    def streams_from_url(self, path_and_query: str) -> list[str]:
        parts = urlsplit(path_and_query)
        path = parts.path
        if path.endswith("/stream"):
            values = parse_qs(parts.query).get("streams", [])
            return [s for value in values for s in value.split("/") if s]
        marker = path.find("/ws/")
        if marker >= 0:
            return [s for s in path[marker + 4:].split("/") if s]
        return []

    def url_is_combined(self, path_and_query: str) -> bool:
        """Whether a connection on this URL gets `{"stream","data"}` wrapped events."""
        return urlsplit(path_and_query).path.endswith("/stream")

    def subscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]:
        return self._requests("SUBSCRIBE", streams, request_id)

    def unsubscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]:
        return self._requests("UNSUBSCRIBE", streams, request_id)

    def _requests(self, method: str, streams: Sequence[str], request_id: int) -> list[str]:
        size = self.limits.max_streams_per_connection
        return [
            json.dumps({"method": method, "params": list(streams[i:i + size]), "id": request_id + n},
                       separators=_COMPACT)
            for n, i in enumerate(range(0, len(streams), size))
        ]

    def parse_ws_message(self, text: str | bytes) -> list[WsMessage]:
        payload = self.decode_frame(text)
        stream: object = None
        if "stream" in payload and "data" in payload:
            stream = payload["stream"]
            payload = payload["data"]
            if type(payload) is not dict:
                raise MalformedMessageError(
                    f"{self.display_name} sent a combined frame whose data is not an object; the frame "
                    f"was skipped: {frame_excerpt(text)}",
                    reason=refusals.NOT_AN_OBJECT,
                )
        event = payload.get("e")
        if event == "kline":
            return [self._kline(payload, text, stream)]
        if event == "serverShutdown":
            try:
                return [ShutdownNotice(refusals.time_ms(payload.get("E"), "E"))]
            except refusals.Refusal as refusal:
                raise self.refused("a serverShutdown notice", refusal, text) from None
        if event is not None:
            return [ControlMessage(ControlKind.OTHER, detail=f"event {event}")]
        return [self._control(payload, text)]

    def _kline(self, payload: dict[str, Any], text: str | bytes, stream: object) -> KlineMessage:
        """One kline event, every value checked (refusals.py): the hot path of the feed."""
        try:
            k = payload["k"]
            if type(k) is not dict:
                raise refusals.Refusal(refusals.WRONG_FIELD_TYPE, "a k that is not an object")
            symbol = _symbol(k["s"], "s")
            code = k["i"]
            interval = self._interval_values.get(code) if type(code) is str else None
            if interval is None:
                raise refusals.Refusal(refusals.WRONG_INTERVAL,
                                       f"interval i={code!r:.40}, which {self.display_name} does not serve")
            if payload.get("s", symbol) != symbol:
                raise refusals.Refusal(refusals.BAD_SYMBOL, f"symbol {symbol} inside an event for {payload.get('s')!r:.40}")
            if stream is not None:
                self._check_stream(stream, symbol, code)
            open_time = _time_ms(k["t"], "t")
            close_time = _time_ms(k["T"], "T")
            closed = _flag(k["x"], "x")
            candle = _candle(
                open_time, _decimal(k["o"], "o"), _decimal(k["h"], "h"),
                _decimal(k["l"], "l"), _decimal(k["c"], "c"),
                _decimal(k["v"], "v", volume=True), close_time, closed, interval,
            )
            return KlineMessage(symbol, code, candle, _time_ms(payload["E"], "E"))
        except refusals.Refusal as refusal:
            raise self.refused("a kline", refusal, text) from None
        except KeyError as exc:
            raise MalformedMessageError(
                f"{self.display_name} sent a kline without its {exc} field; the frame was skipped: "
                f"{frame_excerpt(text)}",
                reason=refusals.MISSING_FIELD,
            ) from None

    def _check_stream(self, stream: object, symbol: str, code: str) -> None:
        """A combined frame's stream name must name the kline it carries: a frame labelled
        `btcusdt@kline_1m` holding an ETHUSDT or 5m candle would land in the wrong series."""
        if stream == f"{symbol.lower()}@kline_{code}":
            return
        if type(stream) is not str:
            raise refusals.Refusal(refusals.UNKNOWN_STREAM, f"a stream name {stream!r:.40} that is not a string")
        name, _, rest = stream.partition("@kline_")
        if name.upper() != symbol:
            raise refusals.Refusal(refusals.BAD_SYMBOL, f"symbol {symbol} on stream {stream!r:.60}")
        if rest.split("@", 1)[0] != code:
            raise refusals.Refusal(refusals.WRONG_INTERVAL, f"interval {code} on stream {stream!r:.60}")

    def _control(self, payload: dict[str, Any], text: str | bytes) -> ControlMessage:
        request_id = payload.get("id")
        if "result" in payload and "id" in payload:
            result = payload["result"]
            if result is None:
                return ControlMessage(ControlKind.ACK, request_id=request_id)
            if isinstance(result, list):
                return ControlMessage(ControlKind.LIST, request_id=request_id, result=result)
            return ControlMessage(ControlKind.OTHER, request_id=request_id, result=result)
        error = payload.get("error")
        if isinstance(error, dict):
            return _error_message(error.get("code"), error.get("msg"), request_id)
        if "code" in payload and "msg" in payload:
            return _error_message(payload.get("code"), payload.get("msg"), request_id)
        raise MalformedMessageError(
            f"{self.display_name} sent a frame that is neither a kline nor a reply; it was skipped: "
            f"{frame_excerpt(text)}",
            reason=refusals.UNKNOWN_FRAME,
        )

    def parse_client_request(self, text: str | bytes) -> ClientRequest:
        try:
            payload = json.loads(text)
        except (ValueError, TypeError):
            raise MalformedMessageError("Invalid JSON: expected value at line 1 column 1") from None
        if type(payload) is not dict:
            raise MalformedMessageError("Invalid request: expected an object")
        method = payload.get("method")
        if method is None:
            raise MalformedMessageError("Invalid request: missing field `method`")
        kind = _METHODS.get(method)
        if kind is None:
            raise MalformedMessageError(
                f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
                "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"
            )
        request_id = payload.get("id")
        params = payload.get("params", [])
        if not isinstance(params, list):
            raise MalformedMessageError("Invalid request: params must be an array")
        if kind in (RequestKind.SUBSCRIBE, RequestKind.UNSUBSCRIBE):
            if not all(isinstance(p, str) for p in params):
                raise MalformedMessageError("Invalid request: invalid stream")
            return ClientRequest(kind, tuple(params), request_id)
        return ClientRequest(kind, (), request_id, tuple(params))

    # --- REST ------------------------------------------------------------------------
    def parse_klines_request(self, params: Mapping[str, str]) -> KlinesQuery:
        symbol = params.get("symbol") or ""
        if not symbol:
            raise ValueError("Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if not _legal_symbol(symbol):
            raise ValueError(
                f"Illegal characters found in parameter 'symbol'; legal range is '{SYMBOL_LEGAL_RANGE}'."
            )
        code = params.get("interval") or ""
        if not code:
            raise ValueError("Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
        interval = self.interval_from_code(code)
        limit = optional_int_param(params, "limit", _NOT_AN_INT)
        if limit is not None and not 1 <= limit <= self.rest_kline_limit_max:
            raise ValueError("Data sent for parameter 'limit' is not valid.")
        return KlinesQuery(symbol, interval, optional_int_param(params, "startTime", _NOT_AN_INT),
                           optional_int_param(params, "endTime", _NOT_AN_INT), limit)

    def parse_klines(self, body: JSON, interval: Interval | str | None = None) -> list[Candle]:
        """Rows oldest first, each checked as a kline frame is (refusals.py), strictly
        ascending as documented and at most a page long; one bad row refuses the reply.
        Without `interval` the first row's own close time says which interval it is."""
        if not isinstance(body, list):
            raise MalformedMessageError(
                f"{self.display_name} klines should be a JSON array, got {type(body).__name__}.",
                reason=refusals.BAD_REPLY,
            )
        if len(body) > self.rest_kline_limit_max:
            raise MalformedMessageError(
                f"{self.display_name} sent {len(body)} kline rows where a page holds at most "
                f"{self.rest_kline_limit_max}; the whole reply was refused.",
                reason=refusals.TOO_MANY_ROWS,
            )
        step = self._interval_values[self.canonical_interval(interval)] if interval is not None else None
        candles: list[Candle] = []
        previous = -1
        for index, row in enumerate(body):
            try:
                if type(row) is not list or not 7 <= len(row) <= _MAX_ROW_VALUES:
                    raise refusals.Refusal(refusals.BAD_ROW, f"a row that is not an array of 12 values: {row!r:.60}")
                open_time = refusals.time_ms(row[0], "open time")
                close_time = refusals.time_ms(row[6], "close time")
                if step is None:
                    step = self._interval_ending(open_time, close_time)
                if open_time <= previous:
                    raise refusals.Refusal(refusals.ROWS_OUT_OF_ORDER,
                                           f"open time {open_time}, not after the row before it ({previous})")
                candles.append(refusals.candle(
                    open_time, refusals.decimal(row[1], "open"), refusals.decimal(row[2], "high"),
                    refusals.decimal(row[3], "low"), refusals.decimal(row[4], "close"),
                    refusals.decimal(row[5], "volume", volume=True), close_time, True, step,
                ))
                previous = open_time
            except refusals.Refusal as refusal:
                raise self.refused(f"kline row {index + 1} of {len(body)}", refusal) from None
        return candles

    def _interval_ending(self, open_time: int, close_time: int) -> Interval:
        """The interval whose candle opening at `open_time` ends at `close_time`."""
        for value in self._interval_values.values():
            if value.close_time(open_time) == close_time:
                return value
        raise refusals.Refusal(refusals.BAD_CLOSE_TIME,
                               f"close time {close_time}, which ends no interval opening at {open_time}")

    def symbols_request(self, cursor: str | None = None) -> RestRequest:
        return RestRequest(self.symbols_path, {})

    def parse_symbols(self, body: JSON) -> tuple[list[Symbol], str | None]:
        try:
            return [
                Symbol(entry["symbol"], entry["baseAsset"], entry["quoteAsset"], entry["status"])
                for entry in body["symbols"]
            ], None
        except (KeyError, TypeError) as exc:
            raise MalformedMessageError(f"{self.display_name} exchangeInfo does not parse: missing {exc}.",
                                        reason=refusals.BAD_REPLY) from None

    def parse_tickers(self, body: JSON) -> list[Ticker24h]:
        """`GET ticker/24hr` without a symbol: an array of objects, prices as decimal strings
        (spot and USD-M alike; USD-M lacks the bid/ask fields, which are not read)."""
        return self._checked_tickers(body, _TICKER_FIELDS)

    def encode_tickers(self, tickers: Sequence[Ticker24h], server_time: int) -> JSON:
        return [_ticker_entry(ticker, server_time, spot=self.market_kind is MarketKind.SPOT) for ticker in tickers]

    def parse_server_time(self, body: JSON) -> int:
        try:
            return refusals.time_ms(body["serverTime"], "serverTime")
        except (KeyError, TypeError, refusals.Refusal):
            raise MalformedMessageError(f"{self.display_name} time reply has no serverTime: {body!r:.120}.",
                                        reason=refusals.BAD_REPLY) from None

    def parse_error(self, status: int, headers: Mapping[str, str], body: str,
                    request: RestRequest | None = None) -> ExchangeError | None:
        if 200 <= status < 300:
            return None
        name = self.display_name
        wait = retry_after_seconds(headers)
        if status == 429:
            return RateLimitedError(
                wait if wait is not None else 60.0,
                f"{name} rate-limited this IP (HTTP 429); wait {_secs(wait, 60.0)} s before the "
                "next request, or it will ban the IP.",
            )
        if status == 418:
            return IpBannedError(
                wait if wait is not None else 120.0,
                f"{name} has banned this IP for {_secs(wait, 120.0)} s after too many requests "
                "(HTTP 418). Stop other clients on this IP and wait; retrying sooner extends the ban.",
            )
        if status == 451:
            return RegionBlockedError(name, self.region_hint)
        if status == 403 and is_cloudfront_block(body):
            return RegionBlockedError(name, self.cloudfront_hint)
        if status >= 500:
            return self.unavailable_error(status, body)
        code, message = _code_and_msg(body)
        symbol = str(request.params.get("symbol", "")) if request else ""
        if code == CODE_BAD_SYMBOL:
            return InvalidSymbolError(symbol or "?", (), name)
        if code == CODE_BAD_INTERVAL:
            interval = str(request.params.get("interval", "")) if request else ""
            return InvalidIntervalError(interval or "?", self._intervals, name)
        if code == CODE_ILLEGAL_CHARS and "'symbol'" in (message or ""):
            return InvalidSymbolError(symbol or "?", (symbol.upper(),) if symbol else (), name)
        if code == CODE_TOO_MANY_REQUESTS:
            return RateLimitedError(wait if wait is not None else 60.0,
                                    f"{name} says too many requests: {message}")
        if status == 403:
            return ExchangeError(
                f"{name} refused the request (HTTP 403, its web application firewall): "
                f"{body_snippet(body, 100) or 'no details'}. Wait a few minutes before trying again."
            )
        if code is not None:
            return ExchangeError(f"{name} rejected the request (HTTP {status}, code {code}): {message}")
        if looks_like_html(body) or body.strip():
            return ExchangeError(f"{name} answered HTTP {status} with an unexpected page: {body_snippet(body, 100)}")
        return ExchangeError(f"{name} answered HTTP {status} with an empty body.")

    # --- encoding (simulator side) -----------------------------------------------------
    def encode_kline(self, symbol: str, interval: str, candle: Candle, event_time: int,
                     *, combined: bool = False) -> str:
        upper = symbol.upper()
        code = self.interval_code(interval)
        first, last, trades = _synthetic_trades(candle)
        quote = candle.volume * candle.close
        payload = {
            "e": "kline",
            "E": int(event_time),
            "s": upper,
            "k": {
                "t": candle.open_time,
                "T": candle.close_time,
                "s": upper,
                "i": code,
                "f": first,
                "L": last,
                "o": format_decimal(candle.open),
                "c": format_decimal(candle.close),
                "h": format_decimal(candle.high),
                "l": format_decimal(candle.low),
                "v": format_decimal(candle.volume),
                "n": trades,
                "x": candle.closed,
                "q": format_decimal(round(quote, 8)),
                "V": format_decimal(round(candle.volume / 2, 8)),
                "Q": format_decimal(round(quote / 2, 8)),
                "B": "0",
            },
        }
        if combined:
            return json.dumps({"stream": f"{upper.lower()}@kline_{code}", "data": payload},
                              separators=_COMPACT)
        return json.dumps(payload, separators=_COMPACT)

    def encode_klines(self, candles: Sequence[Candle], symbol: str, interval: str) -> JSON:
        rows = []
        for candle in candles:
            _, _, trades = _synthetic_trades(candle)
            quote = candle.volume * candle.close
            rows.append([
                candle.open_time,
                format_decimal(candle.open),
                format_decimal(candle.high),
                format_decimal(candle.low),
                format_decimal(candle.close),
                format_decimal(candle.volume),
                candle.close_time,
                format_decimal(round(quote, 8)),
                trades,
                format_decimal(round(candle.volume / 2, 8)),
                format_decimal(round(quote / 2, 8)),
                "0",
            ])
        return rows

    def encode_symbols(self, symbols: Sequence[Symbol], server_time: int) -> JSON:
        return {
            "timezone": "UTC",
            "serverTime": int(server_time),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1, "limit": 10},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [_spot_symbol_entry(symbol) for symbol in symbols],
        }

    def encode_server_time(self, time_ms: int) -> JSON:
        return {"serverTime": int(time_ms)}

    def encode_server_shutdown(self, event_time: int, *, combined: bool = False) -> str:
        """The `serverShutdown` notice sent before a planned close (raw or combined form)."""
        payload = {"e": "serverShutdown", "E": int(event_time)}
        if combined:
            return json.dumps({"stream": "!serverShutdown", "data": payload}, separators=_COMPACT)
        return json.dumps(payload, separators=_COMPACT)

    def encode_control(self, message: ControlMessage, *, conn_id: str = "") -> str:
        """`{"result":..,"id":N}` for acks, lists and property values; `{"error":{code,msg},
        "id":N}` for errors (bare `{"code","msg"}` when no id is known, as for bad JSON)."""
        if not message.ok or message.kind is ControlKind.ERROR:
            code = message.code if message.code is not None else 2
            if message.request_id is None:
                return json.dumps({"code": code, "msg": message.detail}, separators=_COMPACT)
            return json.dumps({"error": {"code": code, "msg": message.detail}, "id": message.request_id},
                              separators=_COMPACT)
        if message.kind is ControlKind.PONG:
            raise ValueError(f"{self.display_name} answers pings with WebSocket pong frames, not JSON.")
        if message.kind is ControlKind.LIST:
            result: Any = list(message.result or [])
        elif message.kind is ControlKind.OTHER:
            result = message.result
        else:
            result = None
        return json.dumps({"result": result, "id": message.request_id}, separators=_COMPACT)

    def encode_rest_error(self, error: Exception, *, server_time: int = 0) -> HttpReply:
        json_type = {"Content-Type": "application/json;charset=UTF-8"}
        if isinstance(error, RateLimitedError):
            return HttpReply(429, {**json_type, "Retry-After": str(math.ceil(error.retry_after))}, _body(
                CODE_TOO_MANY_REQUESTS,
                "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API."))
        if isinstance(error, IpBannedError):
            until = int(server_time + error.retry_after * 1000)
            return HttpReply(418, {**json_type, "Retry-After": str(math.ceil(error.retry_after))}, _body(
                CODE_TOO_MANY_REQUESTS,
                f"Way too much request weight used; IP banned until {until}. Please use WebSocket "
                "Streams for live updates to avoid bans."))
        if isinstance(error, RegionBlockedError):
            if self.cloudfront_geo_block:
                return HttpReply(403, {"Content-Type": "text/html", "Server": "CloudFront"},
                                 CLOUDFRONT_BLOCK_PAGE)
            return HttpReply(451, json_type, _body(0, GEO_BLOCK_MESSAGE))
        if isinstance(error, InvalidSymbolError):
            return HttpReply(400, json_type, _body(CODE_BAD_SYMBOL, "Invalid symbol."))
        if isinstance(error, InvalidIntervalError):
            return HttpReply(400, json_type, _body(CODE_BAD_INTERVAL, "Invalid interval."))
        if isinstance(error, ExchangeUnavailableError):
            return HttpReply(503, json_type, _body(
                CODE_INTERNAL, "Internal error; unable to process your request. Please try again."))
        if isinstance(error, ValueError):
            text = str(error)
            if text.startswith("Illegal characters"):
                code = CODE_ILLEGAL_CHARS
            elif text.startswith("Mandatory parameter"):
                code = CODE_MANDATORY_PARAM
            else:
                code = CODE_INVALID_PARAMETER
            return HttpReply(400, json_type, _body(code, text))
        raise TypeError(f"No {self.display_name} HTTP reply is defined for {type(error).__name__}.")


class BinanceSpot(BinanceProtocol):
    name = "binance"
    display_name = "Binance"
    default_ws_base = "wss://stream.binance.com:9443"
    default_rest_base = "https://api.binance.com"
    limits = ConnectionLimits(
        max_streams_per_connection=1024,
        max_incoming_messages_per_second=5,
        max_connection_attempts=300,
        connection_attempt_window_s=300,
        max_lifetime_s=24 * 3600,
    )


class BinanceUS(BinanceProtocol):
    name = "binanceus"
    display_name = "Binance.US"
    default_ws_base = "wss://stream.binance.us:9443"
    default_rest_base = "https://api.binance.us"
    limits = ConnectionLimits(
        max_streams_per_connection=1024,
        max_incoming_messages_per_second=5,
        max_connection_attempts=300,  # undocumented for .US; binance.com's cap as a guess
        connection_attempt_window_s=300,
        max_lifetime_s=24 * 3600,
    )
    region_hint = (
        "Binance.US serves only US IPs; outside the US try --exchange binance or bybit-spot "
        "(or --exchange sim for the offline simulator)."
    )
    cloudfront_hint = region_hint
    cloudfront_geo_block = True
    _intervals = _NO_SECOND_INTERVALS


class BinanceUsdm(BinanceProtocol):
    name = "binance-futures"
    display_name = "Binance USD-M futures"
    default_ws_base = "wss://fstream.binance.com"
    default_rest_base = "https://fapi.binance.com"
    limits = ConnectionLimits(
        max_streams_per_connection=200,
        max_incoming_messages_per_second=10,
        max_connection_attempts=300,  # undocumented for futures; spot's cap as a guess
        connection_attempt_window_s=300,
        max_lifetime_s=24 * 3600,
    )
    market_kind = MarketKind.LINEAR
    rest_kline_limit_max = 1500
    ws_path_prefix = "/market"
    klines_path = "/fapi/v1/klines"
    symbols_path = "/fapi/v1/exchangeInfo"
    time_path = "/fapi/v1/time"
    tickers_path = "/fapi/v1/ticker/24hr"
    region_hint = (
        "From the US, Binance futures are not available; try --exchange bybit-linear from "
        "elsewhere, or --exchange sim for the offline simulator."
    )
    cloudfront_hint = region_hint
    _intervals = _NO_SECOND_INTERVALS

    def encode_symbols(self, symbols: Sequence[Symbol], server_time: int) -> JSON:
        quotes = sorted({symbol.quote for symbol in symbols}) or ["USDT"]
        return {
            "exchangeFilters": [],
            "rateLimits": [
                {"interval": "MINUTE", "intervalNum": 1, "limit": 2400, "rateLimitType": "REQUEST_WEIGHT"},
                {"interval": "MINUTE", "intervalNum": 1, "limit": 1200, "rateLimitType": "ORDERS"},
            ],
            "serverTime": int(server_time),
            "assets": [
                {"asset": quote, "marginAvailable": True, "autoAssetExchange": 0} for quote in quotes
            ],
            "symbols": [_futures_symbol_entry(symbol) for symbol in symbols],
        }


# --- module helpers (private) ----------------------------------------------------------

#: the ticker/24hr fields read, in Ticker24h's order
_TICKER_FIELDS = ("symbol", "lastPrice", "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume")


def _ticker_entry(ticker: Ticker24h, server_time: int, *, spot: bool) -> dict[str, Any]:
    """One ticker/24hr object in the documented field order (spot has bid/ask and the
    previous close; USD-M does not)."""
    change = ticker.last_price - ticker.open_price
    percent = ticker.change_percent or 0.0
    average = ticker.quote_volume / ticker.volume if ticker.volume > 0 else ticker.last_price
    entry: dict[str, Any] = {
        "symbol": ticker.symbol,
        "priceChange": f"{change:.8f}",
        "priceChangePercent": f"{percent:.3f}",
        "weightedAvgPrice": f"{average:.8f}",
    }
    if spot:
        entry["prevClosePrice"] = format_decimal(ticker.open_price)
    entry.update({"lastPrice": format_decimal(ticker.last_price), "lastQty": "1.00000000"})
    if spot:
        entry.update({"bidPrice": format_decimal(ticker.last_price), "bidQty": "1.00000000",
                      "askPrice": format_decimal(ticker.last_price), "askQty": "1.00000000"})
    entry.update({
        "openPrice": format_decimal(ticker.open_price),
        "highPrice": format_decimal(ticker.high_price),
        "lowPrice": format_decimal(ticker.low_price),
        "volume": format_decimal(ticker.volume),
        "quoteVolume": format_decimal(ticker.quote_volume),
        "openTime": int(server_time) - 86_400_000,
        "closeTime": int(server_time),
        "firstId": 1,
        "lastId": 1000,
        "count": 1000,
    })
    return entry


def _error_message(code: Any, msg: Any, request_id: Any) -> ControlMessage:
    return ControlMessage(
        ControlKind.ERROR, ok=False, request_id=request_id,
        detail=str(msg) if msg is not None else "",
        code=code if isinstance(code, int) else None,
    )


def _secs(value: float | None, default: float) -> str:
    return f"{value if value is not None else default:g}"


def _body(code: int, msg: str) -> str:
    return json.dumps({"code": code, "msg": msg}, separators=_COMPACT)


def _code_and_msg(body: str) -> tuple[int | None, str | None]:
    try:
        payload = json.loads(body)
    except ValueError:
        return None, None
    if isinstance(payload, dict) and isinstance(payload.get("code"), int):
        return payload["code"], str(payload.get("msg", ""))
    return None, None


def _legal_symbol(symbol: str) -> bool:
    return 1 <= len(symbol) <= 20 and all(ch.isdigit() or ("A" <= ch <= "Z") or ch in "-_." for ch in symbol)


def _synthetic_trades(candle: Candle) -> tuple[int, int, int]:
    """First/last trade id and trade count for a simulated candle. Candles carry no trades,
    so ids are derived from the open time (increasing across candles); -1 when none traded."""
    if candle.volume <= 0:
        return -1, -1, 0
    count = max(1, min(int(candle.volume), 10_000))
    first = (candle.open_time // 1000) * 10
    return first, first + count - 1, count


def _spot_symbol_entry(symbol: Symbol) -> dict[str, Any]:
    return {
        "symbol": symbol.name,
        "status": _binance_status(symbol.status),
        "baseAsset": symbol.base,
        "baseAssetPrecision": 8,
        "quoteAsset": symbol.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                       "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "opoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "pegInstructionsAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def _futures_symbol_entry(symbol: Symbol) -> dict[str, Any]:
    return {
        "symbol": symbol.name,
        "pair": symbol.name,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1598252400000,
        "status": _binance_status(symbol.status),
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": symbol.base,
        "quoteAsset": symbol.quote,
        "marginAsset": symbol.quote,
        "pricePrecision": 5,
        "quantityPrecision": 0,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["Layer-1"],
        "settlePlan": 0,
        "triggerProtect": "0.15",
        "filters": [
            {"filterType": "PRICE_FILTER", "maxPrice": "1000000", "minPrice": "0.0001", "tickSize": "0.0001"},
            {"filterType": "LOT_SIZE", "maxQty": "10000000", "minQty": "0.001", "stepSize": "0.001"},
        ],
    }


def _binance_status(status: str) -> str:
    """Binance spells statuses in upper snake case; Bybit's `Trading` becomes `TRADING`."""
    return {"PRELAUNCH": "PRE_TRADING", "CLOSED": "BREAK", "DELIVERING": "END_OF_DAY"}.get(
        status.upper(), status.upper())
