"""Closed candles over REST: the bootstrap before the socket and the repair after a gap.

Which rows are closed is decided by the exchange's clock (its time endpoint, read just
before the klines request), never ours: the last row of a klines reply may still be
forming (ccxt#25699), and the simulator's clock runs many times faster than real time.
Transport and error mapping are `exchanges.rest.RestClient`'s; the retry policy is here.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from cryptoai_tui.exchanges.base import ExchangeProtocol
from cryptoai_tui.exchanges.errors import (
    ExchangeUnavailableError,
    MalformedMessageError,
    RateLimitedError,
)
from cryptoai_tui.exchanges.rest import RestClient
from cryptoai_tui.feed.backoff import Backoff, BackoffPolicy
from cryptoai_tui.market import Candle, Interval, Symbol

#: told why a request waits: (plain sentence, seconds until the retry)
WaitSink = Callable[[str, float], None]
ProgressSink = Callable[[int, int], None]
T = TypeVar("T")


class HistoryClient:
    """REST reads with the exchange's etiquette built in.

    A 429 waits exactly the `Retry-After` the exchange asked for (retrying sooner is what
    escalates to a 418 ban); 5xx answers, timeouts and refused connections retry with
    jittered backoff for as long as it takes; anything else (418 ban, region block, bad
    symbol) is raised as the typed error for the caller to decide. Each request is retried
    on its own, so a 429 on page 3 does not refetch pages 1 and 2.
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
        self.rest = RestClient(protocol, http, timeout=timeout_s)
        self._backoff_policy = backoff
        self._rng = rng or random.Random()
        self._report = report or (lambda message, wait: None)
        #: exchange time minus local time, from the last time request (ms)
        self.clock_offset_ms: float | None = None
        self.rate_limited = 0
        self.retries = 0

    async def server_time(self) -> int:
        async def ask() -> int:
            sent = time.time() * 1000
            server = await self.rest.get_server_time()
            self.clock_offset_ms = server - (sent + time.time() * 1000) / 2
            return server

        return await self.patiently(ask)

    async def symbols(self) -> list[Symbol]:
        return await self.patiently(self.rest.get_symbols)

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
            first = cursor

            def page(first: int = first, end: int = end) -> Awaitable[list[Candle]]:
                return self.rest.get_klines(symbol, interval, start_time=first, end_time=end, limit=limit)

            rows = await self.patiently(page)
            last = out[-1].open_time if out else cursor - 1
            for row in rows:
                # Closed by the exchange's clock, not ours.
                if row.open_time > last and row.close_time < now:
                    out.append(row)
                    last = row.open_time
            if progress is not None:
                progress(min(len(out), total) if total else len(out), total)
            cursor = end + 1
        return out

    async def patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run one request until it succeeds or fails in a way waiting cannot fix."""
        backoff = Backoff(self._backoff_policy, self._rng)
        while True:
            try:
                return await call()
            except RateLimitedError as error:
                self.rate_limited += 1
                wait = error.retry_after
                self._report(f"{error} Waiting {wait:g} s.", wait)
            except (ExchangeUnavailableError, MalformedMessageError) as error:
                self.retries += 1
                wait = backoff.next_delay()
                self._report(f"{error} Retrying in {wait:.1f} s.", wait)
            await asyncio.sleep(wait)
