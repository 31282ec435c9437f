"""Bybit v5 public wire protocol: spot and linear (USDT/USDC perpetuals and futures).

Bybit differs from Binance in the ways that bite: one WebSocket URL per category with
topics subscribed by message (spot: at most 10 per request), a client-side JSON ping,
numeric interval codes ("60", "D"), REST rows that are all strings and newest first, and
business errors that arrive with HTTP 200 inside a retCode envelope. Reference:
shared/reference/exchanges.md §4; shapes are pinned by tests/data/fixtures.
"""

from __future__ import annotations

import json
import time
from typing import Any, Mapping, Sequence

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
    Ticker24h,
    WsMessage,
    body_snippet,
    format_decimal,
    frame_excerpt,
    header_value,
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
_NOT_AN_INT = "params error: {name} must be an integer"

#: canonical interval -> Bybit code
INTERVAL_CODES: dict[str, str] = {
    "1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30",
    "1h": "60", "2h": "120", "4h": "240", "6h": "360", "12h": "720",
    "1d": "D", "1w": "W", "1M": "M",
}
_FROM_CODE: dict[str, str] = {code: name for name, code in INTERVAL_CODES.items()}
_INTERVAL_MS: dict[str, int] = {name: Interval.parse(name).ms for name in INTERVAL_CODES}
#: Bybit code -> the interval as a value, for the per-frame checks
_BY_CODE: dict[str, Interval] = {code: Interval.parse(name) for name, code in INTERVAL_CODES.items()}
#: shortest REST row accepted: start, open, high, low, close, volume (turnover follows)
_MIN_ROW_VALUES = 6
_MAX_ROW_VALUES = 32

RET_OK = 0
RET_PARAMS_ERROR = 10001
RET_TOO_MANY_VISITS = 10006
RET_SERVER_ERROR = 10016
RET_SYMBOL_INVALID = 10029

REGION_HINT = (
    "Bybit blocks US and mainland-China IPs; try --exchange binance (binanceus from the US), "
    "or --exchange sim for the offline simulator."
)

_STATUS_TO_BYBIT = {
    "TRADING": "Trading", "PRE_TRADING": "PreLaunch", "PRELAUNCH": "PreLaunch",
    "END_OF_DAY": "Delivering", "DELIVERING": "Delivering",
    "BREAK": "Closed", "HALT": "Closed", "CLOSED": "Closed", "CANCEL_ONLY": "Closed",
}


class BybitProtocol(ExchangeProtocol):
    """The Bybit v5 grammar; subclasses pick the category (spot or linear)."""

    category: str
    default_ws_base = "wss://stream.bybit.com"
    default_rest_base = "https://api.bybit.com"
    rest_kline_limit_default = 200
    rest_kline_limit_max = 1000
    client_ping_interval_s = 20.0
    klines_path = "/v5/market/kline"
    symbols_path = "/v5/market/instruments-info"
    time_path = "/v5/market/time"
    tickers_path = "/v5/market/tickers"
    #: instruments-info page size asked for where the category paginates
    symbols_page_limit = 1000
    klines_start_param = "start"
    klines_end_param = "end"

    def rest_scope(self) -> dict[str, str | int]:
        """Every v5 market-data request names its category first."""
        return {"category": self.category}

    # --- intervals -------------------------------------------------------------------
    @property
    def intervals(self) -> tuple[str, ...]:
        return tuple(INTERVAL_CODES)

    def interval_code(self, interval: Interval | str) -> str:
        return INTERVAL_CODES[self.canonical_interval(interval)]

    def interval_from_code(self, code: str) -> str:
        name = _FROM_CODE.get(code)
        if name is None:
            raise InvalidIntervalError(code, tuple(INTERVAL_CODES), self.display_name)
        return name

    # --- WebSocket ---------------------------------------------------------------------
    def stream_name(self, symbol: str, interval: Interval | str) -> str:
        return f"kline.{self.interval_code(interval)}.{symbol.upper()}"

    def parse_stream_name(self, stream: str) -> tuple[str, str]:
        parts = stream.split(".", 2)
        if len(parts) != 3 or parts[0] != "kline" or not parts[2]:
            raise MalformedMessageError(f"{stream!r} is not a {self.display_name} kline topic.",
                                        reason=refusals.UNKNOWN_STREAM)
        try:
            return parts[2], self.interval_from_code(parts[1])
        except InvalidIntervalError as exc:
            raise MalformedMessageError(f"{stream!r} names no {self.display_name} interval: {exc}",
                                        reason=refusals.WRONG_INTERVAL) from None

    def ws_url(self, streams: Sequence[str] = ()) -> str:
        """The category URL; topics are subscribed by message, never in the URL."""
        return f"{self.ws_base}/v5/public/{self.category}"

    def streams_from_url(self, path_and_query: str) -> list[str]:
        return []

    def subscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]:
        return self._requests("subscribe", streams, request_id)

    def unsubscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]:
        return self._requests("unsubscribe", streams, request_id)

    def _requests(self, op: str, streams: Sequence[str], request_id: int) -> list[str]:
        size = self.limits.max_args_per_subscribe or max(1, len(streams))
        return [
            json.dumps({"req_id": str(request_id + n), "op": op, "args": list(streams[i:i + size])},
                       separators=_COMPACT)
            for n, i in enumerate(range(0, len(streams), size))
        ]

    def ping_message(self) -> str:
        return json.dumps({"req_id": "ping", "op": "ping"}, separators=_COMPACT)

    def parse_ws_message(self, text: str | bytes) -> list[WsMessage]:
        payload = self.decode_frame(text)
        topic = payload.get("topic")
        if topic is not None:
            if isinstance(topic, str) and topic.startswith("kline."):
                return self._klines(topic, payload, text)
            return [ControlMessage(ControlKind.OTHER, detail=f"topic {topic}")]
        op = payload.get("op")
        if op is not None:
            return [self._control(op, payload)]
        raise MalformedMessageError(
            f"{self.display_name} sent a frame that is neither a kline nor a reply; it was skipped: "
            f"{frame_excerpt(text)}",
            reason=refusals.UNKNOWN_FRAME)

    def _klines(self, topic: str, payload: dict[str, Any], text: str | bytes) -> list[WsMessage]:
        """The candles of one kline frame, every value checked (refusals.py); one bad
        candle refuses the frame. The hot path of the feed."""
        _, code, symbol = (topic.split(".", 2) + ["", ""])[:3]
        interval = _BY_CODE.get(code)
        if interval is None or not symbol:
            raise MalformedMessageError(
                f"{self.display_name} sent a kline frame on an unknown topic {topic!r:.60}; the frame "
                f"was skipped.", reason=refusals.UNKNOWN_STREAM)
        try:
            _symbol(symbol, "topic symbol")
            event_time = _time_ms(payload["ts"], "ts")
            items = payload["data"]
            if type(items) is not list:
                raise refusals.Refusal(refusals.WRONG_FIELD_TYPE, "a data that is not an array")
            name = _FROM_CODE[code]
            out: list[WsMessage] = []
            for item in items:
                if type(item) is not dict:
                    raise refusals.Refusal(refusals.WRONG_FIELD_TYPE, "a kline that is not an object")
                if item["interval"] != code:
                    raise refusals.Refusal(refusals.WRONG_INTERVAL,
                                           f"interval {item['interval']!r:.40} on topic {topic!r:.60}")
                candle = _candle(
                    _time_ms(item["start"], "start"), _decimal(item["open"], "open"),
                    _decimal(item["high"], "high"), _decimal(item["low"], "low"),
                    _decimal(item["close"], "close"), _decimal(item["volume"], "volume", volume=True),
                    _time_ms(item["end"], "end"), _flag(item["confirm"], "confirm"), interval,
                )
                out.append(KlineMessage(symbol, name, candle, event_time))
            return out
        except refusals.Refusal as refusal:
            raise self.refused("a kline", refusal, text) from None
        except KeyError as exc:
            raise MalformedMessageError(
                f"{self.display_name} sent a kline without its {exc} field; the frame was skipped: "
                f"{frame_excerpt(text)}",
                reason=refusals.MISSING_FIELD,
            ) from None

    def _control(self, op: Any, payload: dict[str, Any]) -> ControlMessage:
        kind = {
            "ping": ControlKind.PONG, "pong": ControlKind.PONG,
            "subscribe": ControlKind.SUBSCRIBE, "unsubscribe": ControlKind.UNSUBSCRIBE,
        }.get(op, ControlKind.OTHER)
        return ControlMessage(
            kind,
            ok=payload.get("success") is True,
            request_id=_request_id(payload.get("req_id")),
            detail=str(payload.get("ret_msg") or ""),
        )

    def parse_client_request(self, text: str | bytes) -> ClientRequest:
        try:
            payload = json.loads(text)
        except (ValueError, TypeError):
            raise MalformedMessageError("error:invalid JSON request") from None
        if type(payload) is not dict:
            raise MalformedMessageError("error:request must be a JSON object")
        op = payload.get("op")
        request_id = _request_id(payload.get("req_id"))
        if op == "ping":
            return ClientRequest(RequestKind.PING, (), request_id)
        if op in ("subscribe", "unsubscribe"):
            args = payload.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise MalformedMessageError("error:args must be an array of topic strings")
            kind = RequestKind.SUBSCRIBE if op == "subscribe" else RequestKind.UNSUBSCRIBE
            return ClientRequest(kind, tuple(args), request_id)
        raise MalformedMessageError(f"error:handler not found,op:{op}")

    # --- REST ------------------------------------------------------------------------
    def parse_klines_request(self, params: Mapping[str, str]) -> KlinesQuery:
        symbol = params.get("symbol") or ""
        if not symbol:
            raise ValueError("params error: symbol is required")
        code = params.get("interval") or ""
        if not code:
            raise ValueError("params error: interval is required")
        interval = self.interval_from_code(code)
        limit = optional_int_param(params, "limit", _NOT_AN_INT)
        if limit is not None and not 1 <= limit <= self.rest_kline_limit_max:
            raise ValueError(f"params error: limit must be between 1 and {self.rest_kline_limit_max}")
        return KlinesQuery(symbol, interval, optional_int_param(params, "start", _NOT_AN_INT),
                           optional_int_param(params, "end", _NOT_AN_INT), limit)

    def parse_klines(self, body: JSON, interval: Interval | str | None = None) -> list[Candle]:
        """Rows checked as kline frames are (refusals.py; every value a string, as
        documented), strictly newest first as documented and at most a page long; one bad
        row refuses the reply. Returned oldest first. Rows carry only the start: close times
        come from `interval`, or without it from the spacing of the rows."""
        rows = _result(body, self.display_name).get("list")
        if not isinstance(rows, list):
            raise MalformedMessageError(f"{self.display_name} kline reply has no result.list.",
                                        reason=refusals.BAD_REPLY)
        if len(rows) > self.rest_kline_limit_max:
            raise MalformedMessageError(
                f"{self.display_name} sent {len(rows)} kline rows where a page holds at most "
                f"{self.rest_kline_limit_max}; the whole reply was refused.",
                reason=refusals.TOO_MANY_ROWS,
            )
        index = 0
        try:
            starts: list[int] = []
            for index, row in enumerate(rows):
                if type(row) is not list or not _MIN_ROW_VALUES <= len(row) <= _MAX_ROW_VALUES:
                    raise refusals.Refusal(refusals.BAD_ROW, f"a row that is not an array of 7 strings: {row!r:.60}")
                start = refusals.time_string(row[0], "startTime")
                if starts and start >= starts[-1]:
                    raise refusals.Refusal(refusals.ROWS_OUT_OF_ORDER,
                                           f"start {start}, not before the row before it ({starts[-1]}): "
                                           "rows come newest first")
                starts.append(start)
            step = Interval.parse(self.canonical_interval(interval)) if interval is not None else _infer_interval(starts)
            candles: list[Candle] = []
            for index, (start, row) in enumerate(zip(starts, rows)):
                candles.append(refusals.candle(
                    start, refusals.decimal(row[1], "open"), refusals.decimal(row[2], "high"),
                    refusals.decimal(row[3], "low"), refusals.decimal(row[4], "close"),
                    refusals.decimal(row[5], "volume", volume=True), step.close_time(start), True, step,
                ))
        except refusals.Refusal as refusal:
            raise self.refused(f"kline row {index + 1} of {len(rows)}", refusal) from None
        candles.reverse()  # Bybit sends newest first
        return candles

    def parse_tickers(self, body: JSON) -> list[Ticker24h]:
        """`GET /v5/market/tickers?category=...`: result.list of objects, every number a
        string; the price 24 h ago is `prevPrice24h`, the quote turnover `turnover24h`."""
        return self._checked_tickers(_result(body, self.display_name).get("list"), _TICKER_FIELDS)

    def encode_tickers(self, tickers: Sequence[Ticker24h], server_time: int) -> JSON:
        entries = []
        for ticker in tickers:
            entry = {
                "symbol": ticker.symbol,
                "bid1Price": format_decimal(ticker.last_price), "bid1Size": "1",
                "ask1Price": format_decimal(ticker.last_price), "ask1Size": "1",
                "lastPrice": format_decimal(ticker.last_price),
                "prevPrice24h": format_decimal(ticker.open_price),
                "price24hPcnt": f"{(ticker.change_percent or 0.0) / 100.0:.4f}",
                "highPrice24h": format_decimal(ticker.high_price),
                "lowPrice24h": format_decimal(ticker.low_price),
                "turnover24h": format_decimal(ticker.quote_volume),
                "volume24h": format_decimal(ticker.volume),
            }
            if self.market_kind is MarketKind.LINEAR:
                entry.update({"indexPrice": entry["lastPrice"], "markPrice": entry["lastPrice"],
                              "fundingRate": "0.0001", "openInterest": "1000"})
            entries.append(entry)
        return _envelope({"category": self.category, "list": entries}, server_time)

    def symbols_request(self, cursor: str | None = None) -> RestRequest:
        params = self.rest_scope()
        if self.paginates_symbols:
            params["limit"] = self.symbols_page_limit
            if cursor:
                params["cursor"] = cursor
        return RestRequest(self.symbols_path, params)

    def parse_symbols(self, body: JSON) -> tuple[list[Symbol], str | None]:
        result = _result(body, self.display_name)
        try:
            symbols = [
                Symbol(entry["symbol"], entry["baseCoin"], entry["quoteCoin"], entry["status"])
                for entry in result["list"]
            ]
        except (KeyError, TypeError) as exc:
            raise MalformedMessageError(
                f"{self.display_name} instruments-info does not parse: missing {exc}.",
                reason=refusals.BAD_REPLY) from None
        cursor = result.get("nextPageCursor") or None
        return symbols, cursor

    def parse_server_time(self, body: JSON) -> int:
        """`result.timeNano` (a string of nanoseconds), else the envelope's `time` (ms)."""
        result = _result(body, self.display_name)
        nanos = result.get("timeNano")
        if type(nanos) is str and 0 < len(nanos) <= 22 and nanos.isascii() and nanos.isdigit():
            millis = int(nanos) // 1_000_000
            if millis <= refusals.MAX_TIME_MS:
                return millis
        try:
            return refusals.time_ms(body["time"], "time")
        except (KeyError, refusals.Refusal):
            raise MalformedMessageError(f"{self.display_name} time reply has no time: {body!r:.120}.",
                                        reason=refusals.BAD_REPLY) from None

    def parse_error(self, status: int, headers: Mapping[str, str], body: str,
                    request: RestRequest | None = None) -> ExchangeError | None:
        name = self.display_name
        if status == 403:
            if "access too frequent" in body.lower():
                return RateLimitedError(
                    600.0,
                    f"{name} blocked this IP for sending too many requests (HTTP 403 'access too "
                    "frequent'); stop every client on this IP and wait at least 10 minutes.",
                )
            return RegionBlockedError(name, REGION_HINT)
        if status == 429:
            wait = retry_after_seconds(headers)
            return RateLimitedError(
                wait if wait is not None else 5.0,
                f"{name} is shedding load (HTTP 429 system frequency protection); wait "
                f"{wait if wait is not None else 5.0:g} s before the next request.",
            )
        if status >= 500:
            return self.unavailable_error(status, body)
        if status == 404:
            return ExchangeError(
                f"{name} has no such endpoint (HTTP 404); if --rest-url is set, check that it "
                "points at a Bybit v5 compatible server."
            )
        if not 200 <= status < 300:
            return ExchangeError(f"{name} answered HTTP {status}: {body_snippet(body, 100) or 'no details'}.")
        try:
            payload = json.loads(body)
        except ValueError:
            return MalformedMessageError(
                f"{name} answered HTTP {status} with a body that is not JSON: {body_snippet(body, 100)!r}.")
        if not isinstance(payload, dict) or "retCode" not in payload:
            return MalformedMessageError(f"{name} answered without the retCode envelope: {body_snippet(body, 100)!r}.")
        code = payload.get("retCode")
        if code == RET_OK:
            return None
        message = str(payload.get("retMsg", ""))
        lowered = message.lower()
        symbol = str(request.params.get("symbol", "")) if request else ""
        if code == RET_PARAMS_ERROR and ("interval" in lowered or "period" in lowered):
            code_text = str(request.params.get("interval", "")) if request else ""
            return InvalidIntervalError(_FROM_CODE.get(code_text, code_text) or "?", self.intervals, name)
        if code == RET_SYMBOL_INVALID or (code == RET_PARAMS_ERROR and "symbol" in lowered):
            return InvalidSymbolError(symbol or "?", (), name)
        if code == RET_TOO_MANY_VISITS:
            return RateLimitedError(_reset_wait(headers, payload), f"{name} says too many visits ({message}).")
        if code == RET_SERVER_ERROR:
            return ExchangeUnavailableError(f"{name} reported a server error ({message}); try again shortly.")
        return ExchangeError(f"{name} rejected the request (retCode {code}): {message}")

    # --- encoding (simulator side) -----------------------------------------------------
    def encode_kline(self, symbol: str, interval: str, candle: Candle, event_time: int,
                     *, combined: bool = False) -> str:
        """One candle per frame; `combined` has no meaning on Bybit and is ignored."""
        return self.encode_kline_frame(symbol, interval, [candle], event_time)

    def encode_kline_frame(self, symbol: str, interval: str, candles: Sequence[Candle],
                           event_time: int) -> str:
        """A frame carrying several candles (e.g. the closing one and the next one)."""
        code = self.interval_code(interval)
        return json.dumps({
            "topic": f"kline.{code}.{symbol.upper()}",
            "data": [
                {
                    "start": candle.open_time,
                    "end": candle.close_time,
                    "interval": code,
                    "open": format_decimal(candle.open),
                    "close": format_decimal(candle.close),
                    "high": format_decimal(candle.high),
                    "low": format_decimal(candle.low),
                    "volume": format_decimal(candle.volume),
                    "turnover": format_decimal(round(candle.volume * candle.close, 8)),
                    "confirm": candle.closed,
                    "timestamp": int(event_time),
                }
                for candle in candles
            ],
            "ts": int(event_time),
            "type": "snapshot",
        }, separators=_COMPACT)

    def encode_klines(self, candles: Sequence[Candle], symbol: str, interval: str,
                      *, server_time: int | None = None) -> JSON:
        rows = [
            [
                str(candle.open_time),
                format_decimal(candle.open),
                format_decimal(candle.high),
                format_decimal(candle.low),
                format_decimal(candle.close),
                format_decimal(candle.volume),
                format_decimal(round(candle.volume * candle.close, 8)),
            ]
            for candle in reversed(candles)
        ]
        when = server_time if server_time is not None else (candles[-1].close_time + 1 if candles else 0)
        return _envelope({"symbol": symbol.upper(), "category": self.category, "list": rows}, when)

    def encode_server_time(self, time_ms: int) -> JSON:
        ms = int(time_ms)
        return _envelope({"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}, ms)

    def encode_control(self, message: ControlMessage, *, conn_id: str = "") -> str:
        """Subscribe/unsubscribe replies and pongs in this category's shape; failures are the
        same envelope with success false."""
        req_id = "" if message.request_id is None else str(message.request_id)
        if message.kind is ControlKind.PONG:
            reply: dict[str, Any] = {"success": message.ok, "ret_msg": message.detail or "pong",
                                     "conn_id": conn_id}
            if self.echoes_ping_req_id:
                reply["req_id"] = req_id
            reply["op"] = "ping"
            return json.dumps(reply, separators=_COMPACT)
        op = "unsubscribe" if message.kind is ControlKind.UNSUBSCRIBE else "subscribe"
        detail = message.detail
        if not detail and message.ok:
            detail = self.subscribe_ok_message if op == "subscribe" else ""
        return json.dumps({"success": message.ok and message.kind is not ControlKind.ERROR,
                           "ret_msg": detail, "conn_id": conn_id, "req_id": req_id, "op": op},
                          separators=_COMPACT)

    def encode_rest_error(self, error: Exception, *, server_time: int = 0) -> HttpReply:
        """RateLimitedError -> HTTP 200 + retCode 10006 with the reset header pybit needs;
        IpBannedError -> HTTP 403 'access too frequent' (Bybit's 10-minute IP block)."""
        json_type = {"Content-Type": "application/json"}
        if isinstance(error, RateLimitedError):
            reset = int(server_time + error.retry_after * 1000)
            headers = {**json_type, "X-Bapi-Limit": "600", "X-Bapi-Limit-Status": "0",
                       "X-Bapi-Limit-Reset-Timestamp": str(reset)}
            return HttpReply(200, headers, _error_body(RET_TOO_MANY_VISITS, "Too many visits!", server_time))
        if isinstance(error, IpBannedError):
            return HttpReply(403, {"Content-Type": "text/plain"}, "access too frequent")
        if isinstance(error, RegionBlockedError):
            return HttpReply(403, {"Content-Type": "text/html", "Server": "CloudFront"}, CLOUDFRONT_BLOCK_PAGE)
        if isinstance(error, InvalidSymbolError):
            return HttpReply(200, json_type, _error_body(RET_PARAMS_ERROR, "Not supported symbols", server_time))
        if isinstance(error, InvalidIntervalError):
            return HttpReply(200, json_type, _error_body(RET_PARAMS_ERROR, "Invalid interval.", server_time))
        if isinstance(error, ExchangeUnavailableError):
            return HttpReply(503, {"Content-Type": "text/plain"}, "Service Unavailable")
        if isinstance(error, ValueError):
            return HttpReply(200, json_type, _error_body(RET_PARAMS_ERROR, str(error), server_time))
        raise TypeError(f"No {self.display_name} HTTP reply is defined for {type(error).__name__}.")

    #: spot says "subscribe" in a successful subscribe reply, linear says ""
    subscribe_ok_message = ""
    #: linear pongs carry `req_id`, spot pongs do not
    echoes_ping_req_id = True
    #: linear instruments-info pages with nextPageCursor; spot returns everything at once
    paginates_symbols = False


class BybitSpot(BybitProtocol):
    name = "bybit-spot"
    display_name = "Bybit spot"
    category = "spot"
    market_kind = MarketKind.SPOT
    limits = ConnectionLimits(
        max_streams_per_connection=500,  # the real cap is 21,000 characters of args
        max_incoming_messages_per_second=10,  # undocumented; a conservative guess
        max_connection_attempts=500,
        connection_attempt_window_s=300,
        max_args_per_subscribe=10,
    )
    subscribe_ok_message = "subscribe"
    echoes_ping_req_id = False

    def encode_symbols(self, symbols: Sequence[Symbol], server_time: int) -> JSON:
        entries = [
            {
                "symbolId": index + 1,
                "symbol": symbol.name,
                "baseCoin": symbol.base,
                "quoteCoin": symbol.quote,
                "innovation": "0",
                "status": _bybit_status(symbol.status),
                "marginTrading": "utaOnly",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": "0.000001", "quotePrecision": "0.0000001",
                    "minOrderQty": "0.000011", "maxOrderQty": "83", "minOrderAmt": "5",
                    "maxOrderAmt": "8000000", "maxLimitOrderQty": "83", "maxMarketOrderQty": "41.5",
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": "0.01"},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
                "symbolType": "",
            }
            for index, symbol in enumerate(symbols)
        ]
        return _envelope({"category": "spot", "list": entries}, server_time)


class BybitLinear(BybitProtocol):
    name = "bybit-linear"
    display_name = "Bybit linear"
    category = "linear"
    market_kind = MarketKind.LINEAR
    limits = ConnectionLimits(
        max_streams_per_connection=500,  # the real cap is 21,000 characters of args
        max_incoming_messages_per_second=10,  # undocumented; a conservative guess
        max_connection_attempts=500,
        connection_attempt_window_s=300,
    )
    paginates_symbols = True

    def encode_symbols(self, symbols: Sequence[Symbol], server_time: int,
                       *, next_cursor: str | None = None) -> JSON:
        """One page of instruments; `next_cursor` is what the client sends back as `cursor`."""
        entries = [
            {
                "symbol": symbol.name,
                "symbolId": index + 1,
                "contractType": "LinearPerpetual",
                "status": _bybit_status(symbol.status),
                "baseCoin": symbol.base,
                "quoteCoin": symbol.quote,
                "launchTime": "1585526400000",
                "deliveryTime": "0",
                "deliveryFeeRate": "",
                "priceScale": "2",
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
                "lotSizeFilter": {
                    "maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001",
                    "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000",
                    "minNotionalValue": "5",
                },
                "unifiedMarginTrade": True,
                "fundingInterval": 480,
                "settleCoin": symbol.quote,
                "copyTrading": "both",
                "upperFundingRate": "0.00375",
                "lowerFundingRate": "-0.00375",
                "isPreListing": False,
                "preListingInfo": None,
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
                "symbolType": "",
            }
            for index, symbol in enumerate(symbols)
        ]
        return _envelope({"category": "linear", "list": entries, "nextPageCursor": next_cursor or ""},
                         server_time)


# --- module helpers ---------------------------------------------------------------------

def _infer_interval(starts: list[int]) -> Interval:
    """The interval of rows that carry only their start, from their spacing (newest first);
    the smallest gap is one candle, since a hole only widens a gap."""
    gaps = [a - b for a, b in zip(starts, starts[1:])]
    if not gaps:
        raise refusals.Refusal(refusals.BAD_ROW, "a single row, whose interval cannot be told; pass interval=")
    step = min(gaps)
    for name, ms in _INTERVAL_MS.items():
        if ms == step and name != "1M":
            return Interval.parse(name)
    if 28 * 86_400_000 <= step <= 31 * 86_400_000:
        return Interval.parse("1M")
    raise refusals.Refusal(refusals.BAD_ROW, f"rows {step} ms apart, which matches no {', '.join(INTERVAL_CODES)} interval")


#: the tickers fields read, in Ticker24h's order
_TICKER_FIELDS = ("symbol", "lastPrice", "prevPrice24h", "highPrice24h", "lowPrice24h", "volume24h", "turnover24h")


def _result(body: JSON, exchange: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
        raise MalformedMessageError(f"{exchange} answered without a result object: {body!r:.120}.",
                                    reason=refusals.BAD_REPLY)
    return body["result"]


def _envelope(result: dict[str, Any], time_ms: int) -> dict[str, Any]:
    return {"retCode": RET_OK, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": int(time_ms)}


def _error_body(code: int, message: str, time_ms: int) -> str:
    return json.dumps({"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {},
                       "time": int(time_ms)}, separators=_COMPACT)


def _reset_wait(headers: Mapping[str, str], payload: dict[str, Any]) -> float:
    """Seconds until `X-Bapi-Limit-Reset-Timestamp`, measured on the exchange's clock (the
    envelope's `time`) so local clock skew cannot stretch or cancel the wait."""
    reset = header_value(headers, "X-Bapi-Limit-Reset-Timestamp")
    if reset is not None:
        try:
            now = int(payload.get("time") or 0)
            if not now:
                now = int(time.time() * 1000)
            return max(0.0, (int(reset) - now) / 1000)
        except (TypeError, ValueError):
            pass
    wait = retry_after_seconds(headers)
    return wait if wait is not None else 1.0


def _request_id(raw: Any) -> str | int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return raw


def _bybit_status(status: str) -> str:
    return _STATUS_TO_BYBIT.get(status.upper(), status)
