"""A thin async REST client over any ExchangeProtocol.

It turns protocol requests into HTTP GETs and every response into data or a typed
ExchangeError (through `protocol.parse_error`). Replies are bounded before they are parsed
(bytes read as a stream, so a 400k-row reply cannot blow the memory) and checked after
(no more rows than the exchange's own page limit, oldest first, strictly increasing open
times). It never retries and never pages: the feed owns retry policy and paging
(`feed/history.py`); the typed errors carry what it needs (`retry_after`, `retryable`).
"""

from __future__ import annotations

import json
import socket
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from cryptoai_tui.exchanges.base import JSON, ExchangeProtocol, RestRequest, Ticker24h, body_snippet
from cryptoai_tui.exchanges.errors import ExchangeUnavailableError, MalformedMessageError
from cryptoai_tui.exchanges.redact import mask_secrets, mask_url
from cryptoai_tui.market import Candle, Interval, Symbol

#: a runaway cursor chain (a server repeating itself) stops here rather than looping forever
MAX_SYMBOL_PAGES = 100
#: a klines page of 1,500 rows is ~250 KB; anything past this is not a klines reply
MAX_KLINES_REPLY_BYTES = 4 * 2**20
#: symbol lists are larger (Binance spot's exchangeInfo is several MB)
MAX_REPLY_BYTES = 64 * 2**20


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
        # host:port only: a password in --rest-url is never printed
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

    async def get_tickers(self) -> list[Ticker24h]:
        """Every symbol's 24 h ticker in one request (what `watch --top N` ranks)."""
        return self.protocol.parse_tickers(await self._get(self.protocol.tickers_request()))

    async def get_klines(self, symbol: str, interval: Interval | str, start_time: int | None = None,
                         end_time: int | None = None, limit: int | None = None) -> list[Candle]:
        """One request's worth of candles, oldest first (the exchange's selection rules)."""
        protocol = self.protocol
        request = protocol.klines_request(
            symbol, interval, start_time=start_time, end_time=end_time, limit=limit)
        rows = protocol.parse_klines(await self._get(request), interval)
        cap = protocol.rest_kline_limit_max
        if len(rows) > cap:
            raise MalformedMessageError(
                f"{protocol.display_name} answered {request.path} with {len(rows)} rows, more than its "
                f"own limit of {cap} a page.", reason="too many rows")
        for before, after in zip(rows, rows[1:]):
            if after.open_time <= before.open_time:
                raise MalformedMessageError(
                    f"{protocol.display_name} answered {request.path} with rows out of order "
                    f"(open time {after.open_time} after {before.open_time}).", reason="rows out of order")
        return rows

    # --- transport -------------------------------------------------------------------
    async def _get(self, request: RestRequest) -> JSON:
        url = f"{self.protocol.rest_base}{request.path}"
        cap = MAX_KLINES_REPLY_BYTES if request.path == self.protocol.klines_path else MAX_REPLY_BYTES
        try:
            async with self._client.stream("GET", url, params=dict(request.params),
                                           timeout=self.timeout) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise self._too_large(request, int(declared), cap)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise self._too_large(request, size, cap)
                    chunks.append(chunk)
                status, headers, encoding = response.status_code, response.headers, response.encoding
        except httpx.TimeoutException:
            raise self._unreachable(f"no answer within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise self._unreachable(mask_secrets(_reason(exc))) from None
        except httpx.InvalidURL as exc:
            raise ValueError(f"The REST address {mask_url(url)!r} is not a valid URL ({mask_secrets(str(exc))}); "
                             "check --rest-url.") from None
        text = b"".join(chunks).decode(encoding or "utf-8", "replace")
        error = self.protocol.parse_error(status, headers, text, request)
        if error is not None:
            raise error
        try:
            return json.loads(text)
        except ValueError:
            raise MalformedMessageError(
                f"{self.protocol.display_name} answered {request.path} with a body that is not "
                f"JSON: {body_snippet(text, 100)!r}.", reason="bad JSON"
            ) from None

    def _too_large(self, request: RestRequest, size: int, cap: int) -> MalformedMessageError:
        return MalformedMessageError(
            f"{self.protocol.display_name} answered {request.path} with more than {cap / 2**20:g} MiB "
            f"({size / 2**20:.1f} MiB read); no reply of it is that large, so it was not read on.",
            reason="reply too large")

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
    text = mask_secrets(str(exc)).strip().rstrip(".")
    if isinstance(exc, httpx.ConnectError):
        return f"the connection failed ({text})" if text else "the connection failed"
    return text or type(exc).__name__
