"""Closed candles over REST: the bootstrap before the socket and the repair after a gap.

Which rows are closed is decided by the exchange's clock (its time endpoint, read just
before the klines request), never ours: the last row of a klines reply may still be
forming (ccxt#25699), and the simulator's clock runs many times faster than real time.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from typing import Any, Callable

import httpx

from cryptoai_tui.exchanges.base import ExchangeProtocol, RestRequest
from cryptoai_tui.exchanges.errors import (
    ExchangeUnavailableError,
    MalformedMessageError,
    RateLimitedError,
)
from cryptoai_tui.feed.backoff import Backoff, BackoffPolicy
from cryptoai_tui.market import Candle, Interval, Symbol

#: told why a request waits: (plain sentence, seconds until the retry)
WaitSink = Callable[[str, float], None]
ProgressSink = Callable[[int, int], None]


class HistoryClient:
    """REST reads with the exchange's etiquette built in.

    A 429 waits exactly the `Retry-After` the exchange asked for (retrying sooner is what
    escalates to a 418 ban); 5xx answers, timeouts and refused connections retry with
    jittered backoff for as long as it takes; anything else (418 ban, region block, bad
    symbol) is raised as the typed error for the caller to decide.
    """

    def __init__(
        self,
        protocol: ExchangeProtocol,
        http: httpx.AsyncClient,
        *,
        timeout_s: float = 10.0,
        backoff: BackoffPolicy = BackoffPolicy(),
        rng: random.Random | None = None,
        report: WaitSink | None = None,
    ) -> None:
        self.protocol = protocol
        self.http = http
        self.timeout_s = timeout_s
        self._backoff_policy = backoff
        self._rng = rng or random.Random()
        self._report = report or (lambda message, wait: None)
        #: exchange time minus local time, from the last time request (ms)
        self.clock_offset_ms: float | None = None
        self.rate_limited = 0
        self.retries = 0
        # Bybit rows carry no close time; its parser derives it from the interval when given.
        self._klines_take_interval = "interval" in inspect.signature(protocol.parse_klines).parameters

    async def server_time(self) -> int:
        sent = time.time() * 1000
        body = await self.get_json(self.protocol.time_request())
        server = self.protocol.parse_server_time(body)
        answered = time.time() * 1000
        self.clock_offset_ms = server - (sent + answered) / 2
        return server

    async def symbols(self) -> list[Symbol]:
        out: list[Symbol] = []
        cursor: str | None = None
        while True:
            body = await self.get_json(self.protocol.symbols_request(cursor))
            page, cursor = self.protocol.parse_symbols(body)
            out.extend(page)
            if not cursor:
                return out

    async def closed_since(
        self, symbol: str, interval: Interval, start: int, *, progress: ProgressSink | None = None,
        total: int = 0,
    ) -> list[Candle]:
        """Every closed candle with open_time >= `start`, oldest first."""
        now = await self.server_time()
        return await self._closed_between(symbol, interval, start, now, progress=progress, total=total)

    async def last_closed(
        self, symbol: str, interval: Interval, count: int, *, progress: ProgressSink | None = None,
    ) -> list[Candle]:
        """The newest `count` closed candles, oldest first (fewer if the exchange has fewer)."""
        if count <= 0:
            return []
        now = await self.server_time()
        if interval.is_calendar:
            # Months vary in length: start a little early and keep the newest `count`.
            start = now - (count + 1) * 31 * 86_400_000
        else:
            start = interval.open_time_of(now) - count * interval.ms
        candles = await self._closed_between(symbol, interval, start, now, progress=progress, total=count)
        return candles[-count:]

    async def _closed_between(
        self, symbol: str, interval: Interval, start: int, now: int, *,
        progress: ProgressSink | None, total: int,
    ) -> list[Candle]:
        # Each request covers a window that holds at most `limit` candles, so the answer does
        # not depend on whether the exchange fills a capped window from its start (Binance)
        # or from its end (Bybit).
        limit = self.protocol.rest_kline_limit_max
        window = limit * (31 * 86_400_000 if interval.is_calendar else interval.ms)
        out: list[Candle] = []
        cursor = max(0, start)
        while cursor < now:
            end = min(now, cursor + window - 1)
            request = self.protocol.klines_request(symbol, interval, start_time=cursor, end_time=end, limit=limit)
            body = await self.get_json(request)
            if self._klines_take_interval:
                rows = self.protocol.parse_klines(body, interval=interval)  # type: ignore[call-arg]
            else:
                rows = self.protocol.parse_klines(body)
            last = out[-1].open_time if out else cursor - 1
            for row in rows:
                if row.open_time > last and row.open_time >= cursor and row.close_time < now:
                    out.append(row)
                    last = row.open_time
            if progress is not None:
                progress(min(len(out), total) if total else len(out), total)
            cursor = end + 1
        return out

    async def get_json(self, request: RestRequest) -> Any:
        backoff = Backoff(self._backoff_policy, self._rng)
        url = self.protocol.rest_base + request.path
        name = self.protocol.display_name
        while True:
            try:
                response = await self.http.get(url, params=dict(request.params), timeout=self.timeout_s)
            except httpx.TimeoutException:
                error: Exception = ExchangeUnavailableError(
                    f"{name} did not answer {request.path} within {self.timeout_s:g} s."
                )
            except httpx.TransportError as exc:
                error = ExchangeUnavailableError(f"Cannot reach {name} at {self.protocol.rest_base}: {_reason(exc)}.")
            else:
                error = self.protocol.parse_error(response.status_code, response.headers, response.text, request)
                if error is None:
                    try:
                        return response.json()
                    except ValueError:
                        error = MalformedMessageError(
                            f"{name} answered {request.path} with a body that is not JSON."
                        )
            if isinstance(error, RateLimitedError):
                self.rate_limited += 1
                wait = error.retry_after
                self._report(f"{error} Waiting {wait:g} s.", wait)
                await asyncio.sleep(wait)
                continue
            if isinstance(error, (ExchangeUnavailableError, MalformedMessageError)):
                self.retries += 1
                wait = backoff.next_delay()
                self._report(f"{error} Retrying in {wait:.1f} s.", wait)
                await asyncio.sleep(wait)
                continue
            raise error


def _reason(exc: Exception) -> str:
    """A short cause for a transport failure (refused, DNS) without a traceback."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "the connection was refused (is anything listening there?)"
        if cause.__class__.__name__ == "gaierror":
            return "the host name does not resolve (check the address and your network)"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip()
    return text or exc.__class__.__name__
