"""Exchange wire protocols (pure) and the thin REST client.

`get_protocol(name)` gives an `ExchangeProtocol`; `RestClient` (in `rest.py`, imported on
demand so httpx stays off the import path of code that only parses) fetches over HTTP.
"""

from cryptoai_tui.exchanges.base import (
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
    WsMessage,
)
from cryptoai_tui.exchanges.errors import (
    ExchangeError,
    ExchangeUnavailableError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    MalformedMessageError,
    MarketKindMismatchError,
    RateLimitedError,
    RegionBlockedError,
)
from cryptoai_tui.exchanges.registry import EXCHANGE_NAMES, get_protocol, resolve_symbol

__all__ = [
    "EXCHANGE_NAMES",
    "ClientRequest",
    "ConnectionLimits",
    "ControlKind",
    "ControlMessage",
    "ExchangeError",
    "ExchangeProtocol",
    "ExchangeUnavailableError",
    "HttpReply",
    "InvalidIntervalError",
    "InvalidSymbolError",
    "IpBannedError",
    "KlineMessage",
    "KlinesQuery",
    "MalformedMessageError",
    "MarketKindMismatchError",
    "RateLimitedError",
    "RegionBlockedError",
    "RequestKind",
    "RestRequest",
    "ShutdownNotice",
    "WsMessage",
    "get_protocol",
    "resolve_symbol",
]
