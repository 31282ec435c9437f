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
#: told of every refused reply (counted by its reason)
RefusalSink = Callable[[MalformedMessageError], None]
#: told once that the exchange's clock disagrees with its own candles
ClockSink = Callable[[str], None]
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
        on_refused: RefusalSink | None = None,
        on_clock: ClockSink | None = None,
    ) -> None:
        self.protocol = protocol
        self.rest = RestClient(protocol, http, timeout=timeout_s)
        self._backoff_policy = backoff
        self._rng = rng or random.Random()
        self._report = report or (lambda message, wait: None)
        self._on_refused = on_refused or (lambda error: None)
        self._on_clock = on_clock or (lambda message: None)
        self._clock_reported = False
        #: the exchange's clock as last read (epoch ms), None before the first read
        self.last_server_time: int | None = None
        #: exchange time minus local time, from the last time request (ms)
        self.clock_offset_ms: float | None = None
        self.rate_limited = 0
        self.retries = 0

    async def server_time(self) -> int:
        async def ask() -> int:
            sent = time.time() * 1000
            server = await self.rest.get_server_time()
            self.clock_offset_ms = server - (sent + time.time() * 1000) / 2
            self.last_server_time = server
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
        malformed_tries: int | None = None,
    ) -> list[Candle]:
        """The newest `count` closed candles, oldest first (fewer if the exchange has fewer).

        `malformed_tries`: give up (raise the MalformedMessageError) after that many malformed
        replies in a row instead of retrying forever, so a bootstrap can go live without it.
        """
        if count <= 0:
            return []
        tries = malformed_tries
        now = await self.server_time()
        if interval.is_calendar:
            # Months vary in length: start a little early and keep the newest `count`.
            start = now - (count + 1) * 31 * 86_400_000
        else:
            start = interval.open_time_of(now) - count * interval.ms
        candles = await self._closed_between(symbol, interval, start, now, progress=progress, total=count,
                                             malformed_tries=tries)
        if len(candles) < count:
            # Fewer than asked: a young market, or a clock far ahead of the candles. Ask for
            # the newest rows without a time window and judge by the rows themselves.
            newest = await self._newest_rows(symbol, interval, count, tries)
            if newest and newest[-1].open_time > (candles[-1].open_time if candles else -1):
                step = interval.ms if not interval.is_calendar else 31 * 86_400_000
                if newest[-1].close_time < now - 3 * step:
                    self._clock_disagrees(now, newest[-1].open_time)
                    # the newest row may still be forming by the exchange's real clock
                    candles = newest[:-1]
        return candles[-count:]

    async def _newest_rows(self, symbol: str, interval: Interval, count: int,
                           malformed_tries: int | None) -> list[Candle]:
        limit = min(count + 1, self.protocol.rest_kline_limit_max)

        def page() -> Awaitable[list[Candle]]:
            return self.rest.get_klines(symbol, interval, limit=limit)

        return await self.patiently(page, malformed_tries)

    def _clock_disagrees(self, now: int, newest_open: int) -> None:
        if self._clock_reported:
            return
        self._clock_reported = True
        self._on_clock(
            f"{self.protocol.display_name}'s clock says {_utc(now)} but its newest candle opens at "
            f"{_utc(newest_open)}; paging by the candles' own times instead of that clock.")

    async def _closed_between(
        self, symbol: str, interval: Interval, start: int, now: int, *,
        progress: ProgressSink | None, total: int, malformed_tries: int | None = None,
    ) -> list[Candle]:
        # Each request covers a window that holds at most `limit` candles, so the answer does
        # not depend on whether the exchange fills a capped window from its start (Binance)
        # or from its end (Bybit).
        limit = self.protocol.rest_kline_limit_max
        window = limit * (31 * 86_400_000 if interval.is_calendar else interval.ms)
        out: list[Candle] = []
        cursor = max(0, start)
        newest: int | None = None
        while cursor < now:
            end = min(now, cursor + window - 1)
            first = cursor

            def page(first: int = first, end: int = end) -> Awaitable[list[Candle]]:
                return self.rest.get_klines(symbol, interval, start_time=first, end_time=end, limit=limit)

            rows = await self.patiently(page, malformed_tries)
            if rows:
                newest = rows[-1].open_time
            elif newest is not None and cursor - newest > window:
                # An empty window a whole page past the newest row: the exchange's clock is
                # ahead of its own candles (a year ahead would mean hundreds of requests).
                self._clock_disagrees(now, newest)
                break
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

    async def patiently(self, call: Callable[[], Awaitable[T]], malformed_tries: int | None = None) -> T:
        """Run one request until it succeeds or fails in a way waiting cannot fix (or, with
        `malformed_tries`, until that many malformed replies in a row)."""
        backoff = Backoff(self._backoff_policy, self._rng)
        malformed = 0
        while True:
            try:
                return await call()
            except RateLimitedError as error:
                self.rate_limited += 1
                wait = error.retry_after
                self._report(str(error), wait)
            except MalformedMessageError as error:
                self._on_refused(error)
                malformed += 1
                if malformed_tries is not None and malformed >= malformed_tries:
                    raise
                self.retries += 1
                wait = backoff.next_delay()
                self._report(str(error), wait)
            except ExchangeUnavailableError as error:
                self.retries += 1
                wait = backoff.next_delay()
                self._report(str(error), wait)
            await asyncio.sleep(wait)


def _utc(ms: int) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"
