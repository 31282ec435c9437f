"""A thin async REST client over any ExchangeProtocol.

It turns protocol requests into HTTP GETs, every response into data or a typed
ExchangeError (through `protocol.parse_error`), and pages through the exchange's per-request
limit for long histories. It never retries: the feed owns retry and backoff policy, and the
typed errors carry what it needs (`retry_after`, `retryable`).
"""

from __future__ import annotations

import json
import socket
from types import TracebackType
from typing import Callable
from urllib.parse import urlsplit

import httpx

from cryptoai_tui.exchanges.base import JSON, ExchangeProtocol, RestRequest, body_snippet
from cryptoai_tui.exchanges.errors import ExchangeUnavailableError, MalformedMessageError
from cryptoai_tui.exchanges.redact import mask_secrets, mask_url
from cryptoai_tui.market import Candle, Interval, Symbol

#: a runaway cursor chain (a server repeating itself) stops here rather than looping forever
MAX_SYMBOL_PAGES = 100

ProgressCallback = Callable[[int], None]


class RestClient:
    """REST access to one exchange endpoint set. Use as `async with RestClient(p) as rest:`.

    A client passed in is borrowed (the caller closes it); one created here is owned and
    closed by `aclose()`.
    """

    def __init__(self, protocol: ExchangeProtocol, client: httpx.AsyncClient | None = None,
                 timeout: float = 10.0) -> None:
        self.protocol = protocol
        self.timeout = timeout
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)
        # host[:port] only: a user:password@ in --rest-url must never reach a message
        self.host = urlsplit(protocol.rest_base).netloc.rpartition("@")[2] or mask_url(protocol.rest_base)

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- single requests -------------------------------------------------------------
    async def get_server_time(self) -> int:
        """The exchange clock in epoch ms (to decide which REST rows are really closed)."""
        return self.protocol.parse_server_time(await self._get(self.protocol.time_request()))

    async def get_symbols(self) -> list[Symbol]:
        """Every listed symbol, following pagination cursors (Bybit linear)."""
        symbols: list[Symbol] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_SYMBOL_PAGES):
            page, cursor = self.protocol.parse_symbols(await self._get(self.protocol.symbols_request(cursor)))
            symbols.extend(page)
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
        return symbols

    async def get_klines(self, symbol: str, interval: Interval | str, start_time: int | None = None,
                         end_time: int | None = None, limit: int | None = None) -> list[Candle]:
        """One request's worth of candles, oldest first (the exchange's selection rules)."""
        request = self.protocol.klines_request(
            symbol, interval, start_time=start_time, end_time=end_time, limit=limit)
        return self.protocol.parse_klines(await self._get(request), interval)

    # --- paging ----------------------------------------------------------------------
    async def get_klines_range(self, symbol: str, interval: Interval | str, start_time: int,
                               end_time: int, on_page: ProgressCallback | None = None) -> list[Candle]:
        """Candles opening in [start_time, end_time], oldest first, no duplicates.

        Pages by time windows that each hold at most one request's worth of candles, so
        the result is complete whichever way the exchange fills a page (Binance from the
        start, Bybit possibly from the end). `on_page` gets the running count.
        """
        if end_time < start_time:
            return []
        step = Interval.parse(self.protocol.canonical_interval(interval)).ms
        limit = self.protocol.rest_kline_limit_max
        span = step * limit
        collected: dict[int, Candle] = {}
        cursor = start_time
        while cursor <= end_time:
            window_end = min(end_time, cursor + span - 1)
            page = await self.get_klines(symbol, interval, start_time=cursor, end_time=window_end, limit=limit)
            for candle in page:
                if start_time <= candle.open_time <= end_time:
                    collected[candle.open_time] = candle
            if on_page is not None:
                on_page(len(collected))
            cursor = window_end + 1
        return [collected[key] for key in sorted(collected)]

    async def get_recent_klines(self, symbol: str, interval: Interval | str, n: int,
                                on_page: ProgressCallback | None = None) -> list[Candle]:
        """The newest `n` candles, oldest first, no duplicates (fewer if history is shorter).

        The newest may still be forming; compare its close_time with `get_server_time()`.
        Pages backwards with `end_time`, so it needs no clock of its own.
        """
        if n <= 0:
            return []
        limit_max = self.protocol.rest_kline_limit_max
        collected: dict[int, Candle] = {}
        end: int | None = None
        while len(collected) < n:
            want = min(limit_max, n - len(collected))
            page = await self.get_klines(symbol, interval, end_time=end, limit=want)
            fresh = [candle for candle in page if candle.open_time not in collected]
            if not fresh:
                break
            for candle in fresh:
                collected[candle.open_time] = candle
            if on_page is not None:
                on_page(min(len(collected), n))
            if len(page) < want:
                break  # the exchange has no older candles
            end = min(candle.open_time for candle in page) - 1
        ordered = [collected[key] for key in sorted(collected)]
        return ordered[-n:]

    # --- transport -------------------------------------------------------------------
    async def _get(self, request: RestRequest) -> JSON:
        url = f"{self.protocol.rest_base}{request.path}"
        try:
            response = await self._client.get(url, params=dict(request.params), timeout=self.timeout)
        except httpx.TimeoutException:
            raise self._unreachable(f"no answer within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise self._unreachable(mask_secrets(_reason(exc))) from None
        except httpx.InvalidURL as exc:
            raise ValueError(mask_secrets(
                f"The REST address {mask_url(url)!r} is not a valid URL ({exc}); check --rest-url.")) from None
        text = response.text
        error = self.protocol.parse_error(response.status_code, response.headers, text, request)
        if error is not None:
            raise error
        try:
            return json.loads(text)
        except ValueError:
            raise MalformedMessageError(
                f"{self.protocol.display_name} answered {request.path} with a body that is not "
                f"JSON: {body_snippet(text, 100)!r}."
            ) from None

    def _unreachable(self, reason: str) -> ExchangeUnavailableError:
        return ExchangeUnavailableError(
            f"Cannot reach {self.host}: {reason}. Check your network, or use --exchange sim "
            "for the offline simulator."
        )


def _reason(exc: httpx.TransportError) -> str:
    """Why a request never got an answer, in words (refused, DNS), without a traceback."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "the connection was refused (nothing is listening there)"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip().rstrip(".")
    if isinstance(exc, httpx.ConnectError):
        return f"the connection failed ({text})" if text else "the connection failed"
    return text or type(exc).__name__
