"""The contract every exchange protocol module fulfils.

A protocol object is pure: it builds URLs and messages and parses/encodes payloads, and
never opens a socket. The feed (client side) and the simulator (server side) both use
the same object, so neither can drift from the wire format alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from cryptoai_tui.market import Candle, Interval, Symbol

JSON = Any


@dataclass(frozen=True, slots=True)
class RestRequest:
    """A GET the REST client should make: path appended to the REST base, query params."""

    path: str
    params: Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class KlineMessage:
    """A kline update decoded from a WebSocket frame. `symbol` is the exchange spelling
    (upper case), `interval` the canonical spelling (Binance's: 1m, 1h, 1d ...)."""

    symbol: str
    interval: str
    candle: Candle
    event_time: int


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """Subscribe/unsubscribe/list acks, pongs and error replies. `ok` False means an error."""

    kind: str  # "subscribe" | "unsubscribe" | "list" | "pong" | "error" | "other"
    ok: bool = True
    request_id: str | int | None = None
    detail: str = ""
    result: Any = None


@dataclass(frozen=True, slots=True)
class ShutdownNotice:
    """The exchange announced a planned disconnect (Binance `serverShutdown`): reconnect now."""

    event_time: int


WsMessage = KlineMessage | ControlMessage | ShutdownNotice


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What the exchange allows per connection and per IP (exchanges.md §0)."""

    max_streams_per_connection: int
    max_incoming_messages_per_second: float
    max_connection_attempts: int  # per window below, per IP
    connection_attempt_window_s: float
    max_args_per_subscribe: int | None = None  # Bybit spot: 10
    max_lifetime_s: float | None = None  # Binance: 24 h forced disconnect


class ExchangeProtocol(ABC):
    """One exchange endpoint set: Binance spot/US/USD-M or Bybit spot/linear."""

    #: registry name: binance, binanceus, binance-futures, bybit-spot, bybit-linear
    name: str
    #: human name for messages: "Binance", "Binance.US", ...
    display_name: str
    default_ws_base: str
    default_rest_base: str
    limits: ConnectionLimits
    rest_kline_limit_default: int
    rest_kline_limit_max: int
    #: seconds between client JSON pings (Bybit: 20); None when the server pings (Binance)
    client_ping_interval_s: float | None

    def __init__(self, ws_base: str | None = None, rest_base: str | None = None) -> None:
        self.ws_base = (ws_base or self.default_ws_base).rstrip("/")
        self.rest_base = (rest_base or self.default_rest_base).rstrip("/")

    # --- intervals -------------------------------------------------------------------
    @property
    @abstractmethod
    def intervals(self) -> tuple[str, ...]:
        """Valid intervals in canonical spelling (1m, 5m, 1h, 1d, 1w, 1M ...)."""

    @abstractmethod
    def interval_code(self, interval: Interval | str) -> str:
        """The exchange's spelling of a canonical interval; raises InvalidIntervalError."""

    @abstractmethod
    def interval_from_code(self, code: str) -> str:
        """Canonical spelling of the exchange's interval code ("5" -> "5m", "D" -> "1d")."""

    # --- WebSocket ---------------------------------------------------------------------
    @abstractmethod
    def stream_name(self, symbol: str, interval: Interval | str) -> str:
        """`btcusdt@kline_1m` (Binance) or `kline.1.BTCUSDT` (Bybit)."""

    @abstractmethod
    def ws_url(self, streams: Sequence[str] = ()) -> str:
        """URL to connect to. Binance: raw `/ws/<s>` for one stream, combined
        `/stream?streams=a/b` for several (futures under `/market`); Bybit: the category
        URL (streams are subscribed by message)."""

    @abstractmethod
    def subscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]:
        """JSON text frames that subscribe `streams` (chunked as the exchange requires).
        Binance: SUBSCRIBE requests; Bybit: op=subscribe requests."""

    @abstractmethod
    def unsubscribe_messages(self, streams: Sequence[str], request_id: int = 1) -> list[str]: ...

    def ping_message(self) -> str | None:
        """A client heartbeat frame (Bybit JSON ping); None when the server pings."""
        return None

    @abstractmethod
    def parse_ws_message(self, text: str | bytes) -> list[WsMessage]:
        """Decode one frame. Raises MalformedMessageError when it is not the protocol.
        Returns a list because a Bybit frame may carry several candles."""

    # --- REST ------------------------------------------------------------------------
    @abstractmethod
    def klines_request(
        self, symbol: str, interval: Interval | str, *, start_time: int | None = None,
        end_time: int | None = None, limit: int | None = None,
    ) -> RestRequest: ...

    @abstractmethod
    def parse_klines(self, body: JSON) -> list[Candle]:
        """REST kline rows, returned oldest first (Bybit sends newest first), closed=True;
        the caller decides from the exchange clock which rows are really closed."""

    @abstractmethod
    def symbols_request(self, cursor: str | None = None) -> RestRequest: ...

    @abstractmethod
    def parse_symbols(self, body: JSON) -> tuple[list[Symbol], str | None]:
        """Symbols and the next-page cursor (Bybit linear paginates; else None)."""

    @abstractmethod
    def time_request(self) -> RestRequest: ...

    @abstractmethod
    def parse_server_time(self, body: JSON) -> int:
        """Exchange time in epoch ms."""

    @abstractmethod
    def parse_error(self, status: int, headers: Mapping[str, str], body: str) -> Exception | None:
        """Map an HTTP response to a typed ExchangeError, or None if it is a success.
        Bybit business errors arrive with HTTP 200 and retCode != 0."""

    # --- encoding (used by the simulator; the inverse of the parsers) -----------------
    @abstractmethod
    def encode_kline(self, symbol: str, interval: str, candle: Candle, event_time: int,
                     *, combined: bool = False) -> str:
        """A WebSocket kline frame exactly as the exchange sends it."""

    @abstractmethod
    def encode_klines(self, candles: Sequence[Candle], symbol: str, interval: str) -> JSON:
        """A REST klines body (Bybit: newest first, inside the retCode envelope)."""

    @abstractmethod
    def encode_symbols(self, symbols: Sequence[Symbol], server_time: int) -> JSON: ...

    @abstractmethod
    def encode_server_time(self, time_ms: int) -> JSON: ...
