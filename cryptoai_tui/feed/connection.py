"""One WebSocket connection's life: connect, subscribe, ping, stall watchdog, planned
rotation with an overlapping handover, and the retry loop around it.

The shape is cryptofeed's `connection_handler`: a loop that opens a socket, runs a session
on it until it ends, reports why, and decides how long to wait before the next attempt.
Frames go to `KlineFeed._on_frame`; what the connection has to say goes through
`KlineFeed._status` as data (a reason plus `retry_in`/`retry_at`), never as a baked-in
"Reconnecting in 4.2 s.".

Reconnect policy (issue 9 §4): a connection that delivered valid klines and stayed up for
`FeedConfig.backoff_reset_after_s` (1 s by default) was healthy: the failure count resets and
the next attempt is immediate. A 1008 "too many requests" close, an HTTP 429 (its
Retry-After) and a 418 ban still back off as the exchange asks.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.errors import (
    FeedConfigError,
    InvalidIntervalError,
    InvalidSymbolError,
    IpBannedError,
    RateLimitedError,
    RegionBlockedError,
)
from cryptoai_tui.exchanges.redact import mask_secrets
from cryptoai_tui.feed.backoff import Backoff, shared_attempt_budget
from cryptoai_tui.feed.connect_errors import connect_error, gave_up
from cryptoai_tui.feed.planning import ConnectionPlan, SendPacer, plan_connection
from cryptoai_tui.feed.status import ConnectionState

if TYPE_CHECKING:
    from cryptoai_tui.feed.kline_feed import KlineFeed
    from cryptoai_tui.feed.streams import StreamState

#: errors that retrying cannot fix: they end the feed with an ERROR status
FATAL = (InvalidSymbolError, InvalidIntervalError, IpBannedError)

#: the largest frame we accept (Binance's own frames are a few hundred bytes)
MAX_FRAME_BYTES = 2**22
#: close code for "too many requests" (Binance closes with it above 5 messages/s)
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009

_monotonic = time.monotonic
_TOO_BIG = re.compile(r"with (\d+) bytes.*limit of (\d+) bytes")


@dataclass(frozen=True, slots=True)
class Handover:
    """The old socket of a planned reconnect, still reading until the new one is subscribed."""

    ws: ClientConnection
    reader: asyncio.Task[tuple[str, int | None]]


@dataclass(frozen=True, slots=True)
class SessionEnd:
    reason: str
    planned: bool = False
    handover: Handover | None = None
    code: int | None = None


class FeedConnection:
    """One socket carrying some of a feed's streams, reconnected for as long as it has any."""

    __slots__ = ("feed", "index", "streams", "task", "ws", "ready", "rotate", "last_data", "pacer",
                 "send_turn", "next_id", "up", "connected_at", "delivered")

    def __init__(self, feed: KlineFeed, index: int) -> None:
        self.feed = feed
        self.index = index
        self.streams: list[StreamState] = []
        self.task: asyncio.Task[None] | None = None
        self.ws: ClientConnection | None = None
        #: subscriptions sent; streams added later are subscribed at once
        self.ready = False
        self.rotate = asyncio.Event()
        self.last_data = 0.0
        self.pacer: SendPacer | None = None
        #: one paced frame at a time on a socket: each books its slot after the last one
        #: really left (new with each socket's pacer, so a send stuck on an old socket
        #: during a handover cannot hold up the new one)
        self.send_turn = asyncio.Lock()
        self.next_id = 1
        self.up = False
        self.connected_at = 0.0
        #: valid klines received on the current socket
        self.delivered = 0

    # --- the retry loop ---------------------------------------------------------------------
    async def run(self) -> None:
        feed = self.feed
        protocol = feed.protocol
        config = feed.config
        limits = protocol.limits
        name = protocol.display_name
        budget = shared_attempt_budget(protocol.ws_base, limits.max_connection_attempts,
                                       limits.connection_attempt_window_s)
        backoff = Backoff(feed._policy, feed._rng)
        handover: Handover | None = None
        first = True
        had_session = False
        failed_unconnected = 0  # attempts in a row that failed before any session
        try:
            while self.streams:
                wait = budget.wait_time(_monotonic())
                if wait > 0:
                    feed._status(ConnectionState.RECONNECTING,
                                 f"{name} allows {limits.max_connection_attempts} connection attempts "
                                 f"per {limits.connection_attempt_window_s:g} s.", retry_in=wait)
                    await asyncio.sleep(wait)
                budget.record(_monotonic())
                if not first:
                    feed._counts.reconnects += 1  # every attempt after the first counts
                first = False
                plan = plan_connection(protocol, [s.name for s in self.streams], config.max_url_length)
                feed._status(ConnectionState.CONNECTING,
                             f"Connecting to {name} ({_count(len(self.streams), 'stream')}).")
                try:
                    ws = await connect(
                        plan.url, open_timeout=config.connect_timeout_s, ping_interval=None,
                        ping_timeout=None, close_timeout=1.0, max_size=MAX_FRAME_BYTES, max_queue=256,
                        proxy=None if is_loopback(plan.url) else True,
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = connect_error(exc, plan.url, name, config.connect_timeout_s,
                                          lambda status, headers, body: protocol.parse_error(status, headers, body))
                    if isinstance(error, (*FATAL, FeedConfigError)):
                        raise error from None
                    if not had_session and not isinstance(error, RateLimitedError):
                        # a rate limit is an answer (the exchange is there): it does not count
                        failed_unconnected += 1
                        if config.connect_attempts is not None and failed_unconnected >= config.connect_attempts:
                            raise gave_up(error, failed_unconnected) from None
                    if isinstance(error, RateLimitedError):
                        delay = error.retry_after
                    elif isinstance(error, RegionBlockedError):
                        delay = config.region_block_retry_s
                    else:
                        delay = backoff.next_delay()
                    state = (ConnectionState.ERROR if isinstance(error, RegionBlockedError)
                             else ConnectionState.RECONNECTING)
                    feed._retrying = True
                    feed._status(state, str(error), retry_in=delay)
                    await asyncio.sleep(delay)
                    continue
                feed._retrying = False
                backoff.connected(_monotonic())
                # While the old socket of a planned reconnect still reads, the two overlap and
                # nothing can fall between them; otherwise ask what closed while we were away.
                overlapping = handover is not None and not handover.reader.done()
                end = await self._session(ws, plan, handover, catch_up=had_session and not overlapping)
                had_session = True
                handover = end.handover
                now = _monotonic()
                if self.delivered and end.code != POLICY_VIOLATION:
                    # valid data for long enough: the link works, so the next try is immediate
                    backoff.healthy_if_up(now)
                backoff.disconnected(now)
                feed._live_announced = False
                if end.planned:
                    feed._status(ConnectionState.RECONNECTING, end.reason, retry_in=0.0)
                    continue
                delay = backoff.next_delay()
                feed._status(ConnectionState.RECONNECTING, end.reason, retry_in=delay)
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            self.up = self.ready = False
            if handover is not None:
                handover.reader.cancel()
                await close_quietly(handover.ws)
            if self.ws is not None:
                await close_quietly(self.ws)
                self.ws = None

    # --- one socket -------------------------------------------------------------------------
    async def _session(self, ws: ClientConnection, plan: ConnectionPlan, handover: Handover | None,
                       catch_up: bool) -> SessionEnd:
        feed = self.feed
        config = feed.config
        protocol = feed.protocol
        self.ws = ws
        self.up = True
        self.ready = False
        self.rotate.clear()
        self.delivered = 0
        self.connected_at = self.last_data = _monotonic()
        self.pacer = SendPacer(protocol.limits.max_incoming_messages_per_second * config.send_rate_share)
        self.send_turn = asyncio.Lock()
        reader: asyncio.Task[tuple[str, int | None]] = asyncio.ensure_future(self._read(ws))
        helpers: list[asyncio.Task[Any]] = []
        planned = False
        try:
            try:
                await self.send_control(ws, protocol.subscribe_messages, plan.subscribe_streams)
                planned_names = set(plan.url_streams) | set(plan.subscribe_streams)
                late = [s.name for s in self.streams if s.name not in planned_names]
                if late:
                    await self.send_control(ws, protocol.subscribe_messages, late)
            except ConnectionClosed:
                pass
            self.ready = True
            if handover is not None:
                helpers.append(asyncio.ensure_future(self._retire(handover)))
            if catch_up:
                feed._spawn(feed._repairer.catch_up(self), "feed-catch-up")
            interval = protocol.client_ping_interval_s and (config.ping_interval_s
                                                            or protocol.client_ping_interval_s)
            ping = protocol.ping_message()
            if interval and ping:
                helpers.append(asyncio.ensure_future(self._ping(ws, ping, interval)))
            feed._maybe_live()
            # 0 or None: the exchange closes no connection for its age, so none is rotated
            lifetime: float = config.max_connection_lifetime_s or protocol.limits.max_lifetime_s or 0.0
            rotate_at = None
            if lifetime:
                early = config.lifetime_margin_s if lifetime > 2 * config.lifetime_margin_s else lifetime * 0.1
                rotate_at = _monotonic() + lifetime - early
            rotation = asyncio.ensure_future(self.rotate.wait())
            helpers.append(rotation)
            tick = max(0.01, min(config.stall_timeout_s / 4, 1.0))
            while True:
                await asyncio.wait((reader, rotation), timeout=tick, return_when=asyncio.FIRST_COMPLETED)
                now = _monotonic()
                if self.rotate.is_set():
                    planned = True
                    return SessionEnd(f"{protocol.display_name} announced a server shutdown.", True,
                                      Handover(ws, reader))
                if rotate_at is not None and now >= rotate_at:
                    planned = True
                    return SessionEnd(f"The connection is close to {protocol.display_name}'s "
                                      f"{lifetime / 3600:g} h limit.", True, Handover(ws, reader))
                if reader.done():
                    reason, code = reader.result()
                    return SessionEnd(reason, code=code)
                silent = now - self.last_data
                if silent > config.stall_timeout_s:
                    feed._status(ConnectionState.STALLED,
                                 f"No data from {protocol.display_name} for {silent:.0f} s.")
                    return SessionEnd("The connection stalled.")
        finally:
            self.up = self.ready = False
            for helper in helpers:
                helper.cancel()
            if not planned:
                reader.cancel()
                await close_quietly(ws)
                self.ws = None

    async def _read(self, ws: ClientConnection) -> tuple[str, int | None]:
        """Feed every frame to the feed; then say, in words, why the socket ended."""
        on_frame = self.feed._on_frame
        closed: ConnectionClosed | None = None
        try:
            async for raw in ws:
                on_frame(raw, self, ws)
        except ConnectionClosed as exc:
            closed = exc
        return close_reason(self.feed.protocol.display_name, ws, closed)

    async def _retire(self, handover: Handover) -> None:
        await asyncio.sleep(self.feed.config.handover_overlap_s)
        handover.reader.cancel()
        await close_quietly(handover.ws)

    async def send_control(self, ws: ClientConnection, build: Callable[..., list[str]],
                           names: Sequence[str]) -> None:
        if not names:
            return
        frames = build(list(names), self.next_id)
        self.next_id += len(frames)
        for frame in frames:
            await self._paced_send(ws, frame)

    async def _paced_send(self, ws: ClientConnection, frame: str) -> None:
        pacer, turn = self.pacer, self.send_turn
        if pacer is None:
            await ws.send(frame)
            return
        async with turn:
            wait = pacer.reserve(_monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
            await ws.send(frame)
            pacer.sent(_monotonic())

    async def _ping(self, ws: ClientConnection, frame: str, every: float) -> None:
        try:
            while True:
                await asyncio.sleep(every)
                await self._paced_send(ws, frame)
        except ConnectionClosed:
            return


def close_reason(name: str, ws: ClientConnection, closed: ConnectionClosed | None = None) -> tuple[str, int | None]:
    """Why a socket ended, as a sentence, and the close code (None when it was just lost).

    A frame over our size cap is said as such ("frame too large (5.0 MiB > 4 MiB)"): it is
    the exchange (or a proxy) sending what no exchange sends, not a lost connection.
    """
    sent = closed.sent if closed is not None else None
    if sent is not None and sent.code == MESSAGE_TOO_BIG:
        match = _TOO_BIG.search(sent.reason)
        if match:
            size, limit = int(match.group(1)), int(match.group(2))
            return (f"{name} sent a frame too large ({_mib(size)} > {_mib_limit(limit)}); "
                    "the connection was closed.", MESSAGE_TOO_BIG)
        # compressed: the size is known only as "more than the cap"
        return (f"{name} sent a frame too large (> {_mib_limit(MAX_FRAME_BYTES)}); "
                "the connection was closed.", MESSAGE_TOO_BIG)
    code, reason = ws.close_code, ws.close_reason
    if code is None or code == 1006:
        return f"The connection to {name} was lost.", None
    text = mask_secrets(reason) if reason else ""
    return f"{name} closed the connection (code {code}{': ' + text if text else ''}).", code


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _mib_limit(size: int) -> str:
    return f"{size / 2**20:g} MiB"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("127.0.0.1", "localhost", "::1")


async def close_quietly(ws: ClientConnection) -> None:
    try:
        await ws.close()
    except Exception:  # closing a broken socket may fail in many ways; it is going anyway
        pass


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
