"""Typed exchange errors whose messages are plain sentences a trader can act on."""

from __future__ import annotations

from cryptoai_tui.market.interval import InvalidIntervalError as UnknownIntervalError


class ExchangeError(Exception):
    """Base for everything an exchange (or the way to it) can say no with."""

    retryable: bool = False


class InvalidSymbolError(ExchangeError):
    def __init__(self, symbol: str, suggestions: list[str] | tuple[str, ...] = (), exchange: str = "") -> None:
        self.symbol = symbol
        self.suggestions = tuple(suggestions)
        where = f" on {exchange}" if exchange else ""
        hint = f" Did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown symbol {symbol!r}{where}.{hint}")


class InvalidIntervalError(ExchangeError, UnknownIntervalError):
    """An interval this exchange does not serve; `valid` lists the ones it does.

    A subclass of the market layer's InvalidIntervalError (an interval nobody can read), so
    one `except InvalidIntervalError` from either module catches both and no layer has to
    translate one into the other. `text` (the market name) and `interval` are the same."""

    def __init__(self, interval: str, valid: list[str] | tuple[str, ...] = (), exchange: str = "") -> None:
        self.interval = interval
        self.text = interval
        self.valid = tuple(valid)
        self.exchange = exchange
        where = f" on {exchange}" if exchange else ""
        listing = f" Valid intervals: {', '.join(self.valid)}." if self.valid else ""
        Exception.__init__(self, f"Invalid interval {interval!r}{where}.{listing}")


class RateLimitedError(ExchangeError):
    """HTTP 429 (or Bybit 10006/403 'access too frequent'): wait `retry_after` seconds."""

    retryable = True

    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(
            message or f"Rate limited by the exchange; waiting {retry_after:g} s before retrying."
        )


class IpBannedError(ExchangeError):
    """HTTP 418: the IP is banned for `retry_after` seconds; retrying sooner extends the ban."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = retry_after
        super().__init__(
            message
            or f"The exchange has banned this IP for {retry_after:g} s after too many requests. "
               "Stop other clients on this IP and try again later."
        )


class RegionBlockedError(ExchangeError):
    """HTTP 451 (Binance JSON) or a CloudFront 403 HTML page (Binance.US, Bybit)."""

    def __init__(self, exchange: str, hint: str) -> None:
        self.exchange = exchange
        self.hint = hint
        super().__init__(f"{exchange} refuses connections from this location. {hint}")


class ExchangeUnavailableError(ExchangeError):
    """5xx, timeouts, refused connections: the exchange may come back; retry with backoff."""

    retryable = True


class MalformedMessageError(ExchangeError):
    """A frame or body that does not parse as the protocol says; counted and skipped.

    `reason` is a short stable label ("bad JSON", "non-finite price", "high below low", ...)
    that the feed counts refusals by and summarises ("skipped 528 malformed frames: 510
    non-finite price, 18 bad JSON"); the message is the full sentence with an excerpt.
    """

    def __init__(self, message: str, reason: str = "malformed frame") -> None:
        super().__init__(message)
        self.reason = reason


class MarketKindMismatchError(ExchangeError, ValueError):
    """A symbol written for one kind of market (ccxt `ETH/USDT:USDT` = linear perpetual)
    asked of an exchange endpoint that serves the other kind."""

    def __init__(self, symbol: str, exchange: str, message: str) -> None:
        self.symbol = symbol
        self.exchange = exchange
        super().__init__(message)


class FeedConfigError(ExchangeError):
    """The feed was pointed somewhere it can never connect to (a malformed URL)."""
