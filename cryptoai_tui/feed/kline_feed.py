"""KlineFeed: one exchange, many (symbol, interval) streams, and no closed candle lost or doubled.

How the guarantee is kept:
- every kline goes through its stream's KlineSequencer, which judges it from the exchange's
  open times and closed flags: next one (emit), repeat or straggler (drop and count), or a
  jump that proves closed candles are missing (GAP);
- a GAP parks the stream: newer klines wait in a per-stream list while the missing closed
  candles are fetched over REST and emitted first, then the parked klines are replayed in
  exchange order through the same judge;
- the REST bootstrap is the same repair (parked from the start), so the race between the
  history request and the first socket message cannot lose or double a bar (ccxt#25699);
- after any reconnect a catch-up asks the exchange's clock whether a candle closed while we
  were away, so a quiet stream is repaired without waiting for its next message.

Sockets, timers and REST sit at the edges; the judging is pure (sequencer.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from cryptoai_tui.exchanges.base import ControlMessage, ExchangeProtocol, KlineMessage, ShutdownNotice
from cryptoai_tui.exchanges.registry import resolve_symbol
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
from cryptoai_tui.feed.backoff import Backoff, BackoffPolicy, shared_attempt_budget
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.history import HistoryClient
from cryptoai_tui.feed.planning import ConnectionPlan, SendPacer, plan_connection
from cryptoai_tui.feed.sequencer import KlineSequencer, Verdict, next_open_time
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market import CandleEvent, Interval, Symbol
from cryptoai_tui.market.symbol import close_matches

log = logging.getLogger(__name__)

FeedEvent = CandleEvent | FeedStatus
EventHandler = Callable[[FeedEvent], Awaitable[None] | None]

#: errors that retrying cannot fix: they end the feed with an ERROR status
_FATAL = (InvalidSymbolError, InvalidIntervalError, IpBannedError)

_monotonic = time.monotonic
_wall = time.time
_ACCEPT = Verdict.ACCEPT
_DUPLICATE = Verdict.DUPLICATE
_STALE = Verdict.STALE


class FeedConfigError(ExchangeError):
    """The feed was pointed somewhere it can never connect to (a malformed URL)."""


class _Counts:
    """Mutable counters owned by the feed; `KlineFeed.counters` hands out frozen copies."""

    __slots__ = ("received", "processed", "malformed", "reconnects", "backfilled", "duplicates", "stale")

    def __init__(self) -> None:
        self.received = self.processed = self.malformed = self.reconnects = 0
        self.backfilled = self.duplicates = self.stale = 0


class _Stream:
    __slots__ = ("symbol", "interval", "interval_name", "name", "history", "seq", "repairing", "pending",
                 "conn")

    def __init__(self, symbol: str, interval: Interval, name: str, history: int) -> None:
        self.symbol = symbol
        self.history = history
        self.interval = interval
        self.interval_name = interval.name
        self.name = name
        self.seq = KlineSequencer(interval)
        #: True while missing candles are fetched; klines then wait in `pending`
        self.repairing = False
        self.pending: list[tuple[KlineMessage, float]] = []
        self.conn: _Connection | None = None

    def park(self, message: KlineMessage, received_at: float) -> None:
        pending = self.pending
        candle = message.candle
        if pending and not candle.closed:
            last = pending[-1][0]
            # Only the newest forming update of a candle matters; keeps the list short
            # when a repair takes long on a busy stream.
            if (not last.candle.closed and last.candle.open_time == candle.open_time
                    and last.event_time <= message.event_time):
                pending[-1] = (message, received_at)
                return
        pending.append((message, received_at))


class _Connection:
    __slots__ = ("index", "streams", "task", "ws", "ready", "rotate", "last_data", "pacer", "next_id", "up")

    def __init__(self, index: int) -> None:
        self.index = index
        self.streams: list[_Stream] = []
        self.task: asyncio.Task[None] | None = None
        self.ws: ClientConnection | None = None
        #: subscriptions sent; streams added later are subscribed at once
        self.ready = False
        self.rotate = asyncio.Event()
        self.last_data = 0.0
        self.pacer: SendPacer | None = None
        self.next_id = 1
        self.up = False


@dataclass(frozen=True, slots=True)
class _Handover:
    """The old socket of a planned reconnect, still reading until the new one is subscribed."""

    ws: ClientConnection
    reader: asyncio.Task[str]


@dataclass(frozen=True, slots=True)
class _SessionEnd:
    reason: str
    planned: bool = False
    handover: _Handover | None = None


@dataclass(frozen=True, slots=True)
class _End:
    error: BaseException | None = None


class KlineFeed:
    """Live klines of many streams of one exchange as an ordered async stream of events.

    ```
    async with KlineFeed(protocol, [("BTCUSDT", "1m")]) as feed:
        async for event in feed:   # CandleEvent | FeedStatus, in order per stream
            ...
    ```
    Bootstrap history comes first (CandleEvent, backfilled=False, announced by
    FeedStatus(BOOTSTRAPPING, progress n/N) and closed by a per-stream FeedStatus(LIVE)
    carrying the stream's symbol), then live forming updates and closed candles; closed
    candles recovered after a gap carry backfilled=True and are followed by
    FeedStatus(LIVE, backfilled=K).
    A fatal error (unknown symbol, IP ban) is yielded as FeedStatus(ERROR) and then raised
    from the iteration as its typed ExchangeError.
    """

    def __init__(
        self,
        protocol: ExchangeProtocol,
        streams: Sequence[tuple[str, str]],
        *,
        history: int = 500,
        config: FeedConfig = FeedConfig(),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if history < 0:
            raise ValueError(f"history must be 0 or more candles, not {history}.")
        self.protocol = protocol
        self.exchange = protocol.name
        self.history = history
        self.config = config
        self._rng = random.Random(config.seed)
        self._policy = BackoffPolicy(config.backoff_base_s, config.backoff_cap_s,
                                     reset_after_s=config.backoff_reset_after_s)
        self._streams: dict[tuple[str, str], _Stream] = {}
        for symbol, interval in streams:
            self._register(symbol, interval)
        self._connections: list[_Connection] = []
        self._counts = _Counts()
        self._http = http
        self._own_http = False
        self._history: HistoryClient | None = None
        self._events: asyncio.Queue[FeedEvent | _End] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rest_slots: asyncio.Semaphore | None = None
        self._started = False
        self._closing = False
        self._ended = False
        self._bootstrapping = 0
        self._live_announced = False
        self._parse = protocol.parse_ws_message

    # --- public surface ------------------------------------------------------------------
    @property
    def streams(self) -> list[tuple[str, str]]:
        return list(self._streams)

    @property
    def counters(self) -> FeedCounters:
        c = self._counts
        return FeedCounters(
            messages_received=c.received,
            messages_processed=c.processed,
            messages_malformed=c.malformed,
            reconnects=c.reconnects,
            candles_backfilled=c.backfilled,
            duplicates_dropped=c.duplicates,
            out_of_order_dropped=c.stale,
        )

    @property
    def clock_offset_ms(self) -> float | None:
        """Exchange time minus local time (ms), from the last time request; None before one."""
        return self._history.clock_offset_ms if self._history is not None else None

    async def validate(self, on_wait: Callable[[str, float], None] | None = None) -> None:
        """Check every stream's symbol against the exchange's list (intervals were checked when
        the feed was built) and raise InvalidSymbolError naming close matches.

        Optional: a Binance stream for an unknown symbol is acknowledged and then silent
        forever (exchanges.md §1.2), so calling this first turns silence into a sentence.
        `on_wait(sentence, seconds)` hears why it waits (rate limit, exchange unreachable)
        when called before the feed runs.
        """
        listed = {symbol.name for symbol in await self.exchange_symbols(on_wait)}
        for stream in self._streams.values():
            if stream.symbol not in listed:
                raise InvalidSymbolError(stream.symbol, close_matches(stream.symbol, listed),
                                         self.protocol.display_name)

    async def exchange_symbols(self, on_wait: Callable[[str, float], None] | None = None) -> list[Symbol]:
        """The exchange's symbol list (through the feed's patient REST client when running)."""
        if self._history is not None:
            return await self._rest(None, lambda history: history.symbols())
        async with httpx.AsyncClient() as http:
            return await HistoryClient(self.protocol, http, timeout_s=self.config.rest_timeout_s,
                                       backoff=self._policy, rng=self._rng, report=on_wait).symbols()

    async def add_stream(self, symbol: str, interval: str, history: int | None = None) -> tuple[str, str]:
        """Start one more stream on a running feed (on a connection with room, or a new one),
        bootstrapping `history` closed candles (default: the feed's). Returns its (symbol,
        interval) key as events will name it."""
        stream = self._register(symbol, interval, history)
        if self._started and stream.conn is None:
            conn = self._place(stream)
            if stream.history > 0:
                self._begin_bootstrap(stream)
            if conn.task is None:
                conn.task = self._spawn(self._run_connection(conn), f"feed-conn-{conn.index}")
            elif conn.ready and conn.ws is not None:
                self._spawn(self._send_control(conn, conn.ws, self.protocol.subscribe_messages,
                                               [stream.name]), "feed-subscribe")
        return stream.symbol, stream.interval_name

    async def remove_stream(self, symbol: str, interval: str) -> None:
        key = (resolve_symbol(self.protocol, symbol), self.protocol.canonical_interval(interval))
        stream = self._streams.pop(key, None)
        if stream is None or stream.conn is None:
            return
        conn = stream.conn
        conn.streams.remove(stream)
        stream.conn = None
        if not conn.streams and conn.task is not None:
            conn.task.cancel()
            conn.task = None
        elif conn.ready and conn.ws is not None:
            self._spawn(self._send_control(conn, conn.ws, self.protocol.unsubscribe_messages,
                                           [stream.name]), "feed-unsubscribe")

    async def run(self, on_event: EventHandler) -> None:
        """Callback style: call `on_event` for every event until the feed ends or is cancelled."""
        async with self:
            async for event in self:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result

    async def __aenter__(self) -> KlineFeed:
        if self._started:
            raise RuntimeError("A KlineFeed can be started only once; build a new one to restart.")
        self._started = True
        self._events = asyncio.Queue()
        if self._http is None:
            self._http = httpx.AsyncClient()
            self._own_http = True
        self._history = HistoryClient(
            self.protocol, self._http, timeout_s=self.config.rest_timeout_s, backoff=self._policy,
            rng=self._rng, report=self._rest_waits,
        )
        self._rest_slots = asyncio.Semaphore(max(1, self.config.rest_concurrency))
        for stream in self._streams.values():
            self._place(stream)
            if stream.history > 0:
                self._begin_bootstrap(stream)
        for conn in self._connections:
            conn.task = self._spawn(self._run_connection(conn), f"feed-conn-{conn.index}")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_http and self._http is not None:
            await self._http.aclose()
        self._finish(None)

    def __aiter__(self) -> KlineFeed:
        return self

    async def __anext__(self) -> FeedEvent:
        if self._events is None:
            raise RuntimeError("Use `async with feed:` before iterating over it.")
        item = await self._events.get()
        if type(item) is _End:
            self._events.put_nowait(item)  # every later call ends the same way
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    # --- streams and connections ----------------------------------------------------------
    def _register(self, symbol: str, interval: str, history: int | None = None) -> _Stream:
        # ccxt spellings are fine; a perpetual asked of a spot endpoint is refused, not
        # silently streamed as the spot pair of the same name.
        name = resolve_symbol(self.protocol, symbol)
        canonical = self.protocol.canonical_interval(interval)
        count = self.history if history is None else history
        if count < 0:
            raise ValueError(f"history must be 0 or more candles, not {count}.")
        key = (name, canonical)
        stream = self._streams.get(key)
        if stream is None:
            stream = _Stream(name, Interval.parse(canonical), self.protocol.stream_name(name, canonical), count)
            self._streams[key] = stream
        return stream

    def _place(self, stream: _Stream) -> _Connection:
        limit = self.protocol.limits.max_streams_per_connection
        for conn in self._connections:
            if len(conn.streams) < limit and (conn.task is None or not conn.task.done()):
                break
        else:
            conn = _Connection(len(self._connections))
            self._connections.append(conn)
        conn.streams.append(stream)
        stream.conn = conn
        return conn

    # --- events ----------------------------------------------------------------------------
    def _emit(self, item: FeedEvent) -> None:
        if self._events is not None and not self._ended:
            self._events.put_nowait(item)

    def _status(self, state: ConnectionState, message: str, stream: _Stream | None = None,
                **extra: Any) -> None:
        self._emit(FeedStatus(
            state, message, stream.symbol if stream else None, stream.interval_name if stream else None,
            at=_wall(), **extra,
        ))

    def _rest_waits(self, message: str, wait: float) -> None:
        # A REST request waiting out a 429 or a 5xx is not a reconnect: the socket may be
        # fine. Report it in the phase the feed is in.
        state = ConnectionState.BOOTSTRAPPING if self._bootstrapping else ConnectionState.LIVE
        self._status(state, message, retry_in=wait)

    def _finish(self, error: BaseException | None) -> None:
        if self._ended or self._events is None:
            return
        self._ended = True
        self._events.put_nowait(_End(error))

    def _fail(self, error: BaseException) -> None:
        if self._ended:
            return
        self._status(ConnectionState.ERROR, str(error) or error.__class__.__name__)
        self._finish(error)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(self._guard(coro))
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # A task cancelled before it ran never awaited `coro`; close it so Python does not warn.
        task.add_done_callback(lambda _: coro.close())
        return task

    async def _guard(self, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except InvalidSymbolError as error:
            self._fail(await self._with_suggestions(error))
        except _FATAL as error:
            self._fail(error)
        except FeedConfigError as error:
            self._fail(error)
        except Exception as error:  # a bug: surface it as an ERROR instead of dying silently
            log.exception("KlineFeed task failed")
            self._fail(error)
        return None

    async def _with_suggestions(self, error: InvalidSymbolError) -> InvalidSymbolError:
        """The exchange's "invalid symbol" names no alternatives; look them up, so the user
        reads "Did you mean ETHUSDT?" instead of a bare refusal. Best effort: if the list
        cannot be had quickly, the original error stands."""
        if error.suggestions:
            return error
        try:
            listed = await asyncio.wait_for(self.exchange_symbols(), self.config.rest_timeout_s)
        except (asyncio.TimeoutError, ExchangeError):
            return error
        names = [symbol.name for symbol in listed]
        return InvalidSymbolError(error.symbol, close_matches(error.symbol, names),
                                  self.protocol.display_name)

    def _maybe_live(self) -> None:
        if self._live_announced or self._bootstrapping or self._closing:
            return
        conns = [c for c in self._connections if c.streams]
        if conns and all(c.up and c.ready for c in conns):
            self._live_announced = True
            count = len(self._streams)
            self._status(ConnectionState.LIVE,
                         f"Live: {count} stream{'s' if count != 1 else ''} from {self.protocol.display_name}.")

    # --- hot path ----------------------------------------------------------------------------
    def _on_frame(self, raw: str | bytes, conn: _Connection, ws: ClientConnection) -> None:
        counts = self._counts
        counts.received += 1
        try:
            messages = self._parse(raw)
        except MalformedMessageError:
            counts.malformed += 1
            return
        except Exception:  # a protocol bug on odd input must not kill the reader
            counts.malformed += 1
            log.debug("Unparseable frame counted as malformed", exc_info=True)
            return
        counts.processed += 1
        received_at = _wall() * 1000.0
        streams = self._streams
        for message in messages:
            if type(message) is KlineMessage:
                conn.last_data = _monotonic()
                stream = streams.get((message.symbol, message.interval))
                if stream is None:
                    continue  # unsubscribed a moment ago
                if stream.repairing:
                    stream.park(message, received_at)
                elif self._apply(stream, message, received_at) is Verdict.GAP:
                    stream.park(message, received_at)
                    self._start_repair(stream, grace=True)
            elif type(message) is ShutdownNotice:
                if ws is conn.ws:
                    conn.rotate.set()
            elif isinstance(message, ControlMessage) and not message.ok:
                self._status(ConnectionState.ERROR,
                             f"{self.protocol.display_name} rejected a request: {message.detail or 'no details'}.")

    def _apply(self, stream: _Stream, message: KlineMessage, received_at: float,
               backfilled: bool = False) -> Verdict:
        verdict = stream.seq.offer(message.candle, message.event_time)
        if verdict is _ACCEPT:
            self._events.put_nowait(CandleEvent(  # type: ignore[union-attr]
                self.exchange, stream.symbol, stream.interval_name, message.candle, received_at,
                message.event_time, backfilled,
            ))
        elif verdict is _DUPLICATE:
            self._counts.duplicates += 1
        elif verdict is _STALE:
            self._counts.stale += 1
        return verdict

    # --- bootstrap and repair ---------------------------------------------------------------
    def _begin_bootstrap(self, stream: _Stream) -> None:
        stream.repairing = True
        self._bootstrapping += 1
        self._spawn(self._bootstrap(stream), f"feed-bootstrap-{stream.name}")

    async def _bootstrap(self, stream: _Stream) -> None:
        total = stream.history
        label = f"{stream.symbol} {stream.interval_name}"
        self._status(ConnectionState.BOOTSTRAPPING, f"Loading {total} closed {label} candles.", stream,
                     progress=0, total=total)

        def progress(done: int, of: int) -> None:
            self._status(ConnectionState.BOOTSTRAPPING, f"Loading {label}: {done}/{of} candles.", stream,
                         progress=done, total=of)

        try:
            candles = await self._rest(stream, lambda history: history.last_closed(
                stream.symbol, stream.interval, total, progress=progress))
            if stream.conn is None:
                return  # removed while its history loaded
            received_at = _wall() * 1000.0
            emitted = 0
            for candle in candles:
                if stream.seq.offer(candle, candle.close_time) is _ACCEPT:
                    self._emit(CandleEvent(self.exchange, stream.symbol, stream.interval_name, candle,
                                           received_at, candle.close_time))
                    emitted += 1
            # The marker consumers wait for: what follows for this stream is live.
            self._status(ConnectionState.LIVE, f"Loaded {emitted} closed {label} candles.", stream,
                         progress=emitted, total=total)
        finally:
            self._bootstrapping -= 1
        if not self._replay(stream):
            await self._repair(stream, grace=False)
        self._maybe_live()

    def _start_repair(self, stream: _Stream, grace: bool) -> None:
        stream.repairing = True
        self._spawn(self._repair(stream, grace), f"feed-repair-{stream.name}")

    async def _repair(self, stream: _Stream, grace: bool) -> None:
        """Fetch the closed candles a stream is missing, emit them, then replay what waited."""
        if grace:
            await asyncio.sleep(self.config.gap_grace_s)
            if self._replay(stream):
                return  # a reordered frame filled the hole by itself
        label = f"{stream.symbol} {stream.interval_name}"
        while True:
            total = 0
            hole_checks = 0
            while True:
                start = stream.seq.expected_next
                if start is None:
                    break
                target = min((m.candle.open_time for m, _ in stream.pending), default=None)
                candles = await self._rest(stream, lambda history: history.closed_since(
                    stream.symbol, stream.interval, start))
                if stream.conn is None:
                    return  # removed while it was being repaired
                received_at = _wall() * 1000.0
                for candle in candles:
                    if stream.seq.offer(candle, candle.close_time) is _ACCEPT:
                        self._emit(CandleEvent(self.exchange, stream.symbol, stream.interval_name, candle,
                                               received_at, candle.close_time, True))
                        total += 1
                expected = stream.seq.expected_next
                if target is None or expected is None or expected >= target:
                    break
                if hole_checks < self.config.hole_retries:
                    # REST can trail the socket by a moment: ask again before calling it a hole.
                    hole_checks += 1
                    await asyncio.sleep(self.config.hole_retry_delay_s)
                    continue
                self._status(ConnectionState.LIVE,
                             f"{self.protocol.display_name} has no {label} candles from {_utc(expected)} "
                             f"to {_utc(target)}; continuing after the hole.", stream)
                stream.seq.accept_hole(target)
                break
            if total:
                self._counts.backfilled += total
                self._status(ConnectionState.LIVE,
                             f"Backfilled {total} missed {label} candle{'s' if total != 1 else ''}.", stream,
                             backfilled=total)
            if self._replay(stream):
                return

    def _replay(self, stream: _Stream) -> bool:
        """Offer parked klines in exchange order; False (the rest still parked) at a new gap."""
        pending = stream.pending
        if pending:
            pending.sort(key=_exchange_order)
            stream.pending = []
            for i, (message, received_at) in enumerate(pending):
                if self._apply(stream, message, received_at) is Verdict.GAP:
                    stream.pending = pending[i:]
                    return False
        stream.repairing = False
        return True

    async def _rest(self, stream: _Stream | None, call: Callable[[HistoryClient], Awaitable[Any]]) -> Any:
        """A REST call that outlasts anything but a fatal answer, saying why it waits."""
        assert self._history is not None and self._rest_slots is not None
        backoff = Backoff(self._policy, self._rng)
        while True:
            try:
                async with self._rest_slots:
                    return await call(self._history)
            except _FATAL:
                raise
            except RegionBlockedError as error:
                wait = self.config.region_block_retry_s
                self._status(ConnectionState.ERROR, f"{error} Trying again in {wait:g} s.", stream, retry_in=wait)
                await asyncio.sleep(wait)
            except ExchangeError as error:
                wait = backoff.next_delay()
                self._status(ConnectionState.ERROR, f"{error} Trying again in {wait:.1f} s.", stream, retry_in=wait)
                await asyncio.sleep(wait)

    async def _catch_up(self, conn: _Connection) -> None:
        """After a reconnect: did any candle close while we were away? Repair those streams."""
        waiting = [s for s in conn.streams if not s.repairing and s.seq.expected_next is not None]
        if not waiting:
            return
        now = await self._rest(None, lambda history: history.server_time())
        for stream in waiting:
            expected = stream.seq.expected_next
            if stream.repairing or stream.conn is not conn or expected is None:
                continue
            if next_open_time(stream.interval, expected) - 1 < now:
                self._start_repair(stream, grace=False)

    # --- connections --------------------------------------------------------------------------
    async def _run_connection(self, conn: _Connection) -> None:
        protocol = self.protocol
        limits = protocol.limits
        budget = shared_attempt_budget(protocol.ws_base, limits.max_connection_attempts,
                                       limits.connection_attempt_window_s)
        backoff = Backoff(self._policy, self._rng)
        handover: _Handover | None = None
        first = True
        try:
            while conn.streams:
                wait = budget.wait_time(_monotonic())
                if wait > 0:
                    self._status(ConnectionState.RECONNECTING,
                                 f"Waiting {wait:.0f} s: {protocol.display_name} allows "
                                 f"{limits.max_connection_attempts} connection attempts per "
                                 f"{limits.connection_attempt_window_s:g} s.", retry_in=wait)
                    await asyncio.sleep(wait)
                budget.record(_monotonic())
                plan = plan_connection(protocol, [s.name for s in conn.streams], self.config.max_url_length)
                self._status(ConnectionState.CONNECTING,
                             f"Connecting to {protocol.display_name} ({_count(len(conn.streams), 'stream')}).")
                try:
                    ws = await connect(
                        plan.url, open_timeout=self.config.connect_timeout_s, ping_interval=None,
                        ping_timeout=None, close_timeout=1.0, max_size=2**22, max_queue=256,
                        proxy=None if _is_loopback(plan.url) else True,
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = self._connect_error(exc, plan.url)
                    if isinstance(error, (*_FATAL, FeedConfigError)):
                        raise error from None
                    if isinstance(error, RateLimitedError):
                        delay = error.retry_after
                    elif isinstance(error, RegionBlockedError):
                        delay = self.config.region_block_retry_s
                    else:
                        delay = backoff.next_delay()
                    state = ConnectionState.ERROR if isinstance(error, RegionBlockedError) else ConnectionState.RECONNECTING
                    self._status(state, f"{error} Reconnecting in {delay:.1f} s.", retry_in=delay)
                    await asyncio.sleep(delay)
                    continue
                backoff.connected(_monotonic())
                # While the old socket of a planned reconnect still reads, the two overlap and
                # nothing can fall between them; otherwise ask what closed while we were away.
                overlapping = handover is not None and not handover.reader.done()
                end = await self._session(conn, ws, plan, handover, catch_up=not first and not overlapping)
                handover = end.handover
                first = False
                backoff.disconnected(_monotonic())
                self._counts.reconnects += 1
                self._live_announced = False
                if end.planned:
                    self._status(ConnectionState.RECONNECTING, f"{end.reason} Reconnecting now.", retry_in=0.0)
                    continue
                delay = backoff.next_delay()
                self._status(ConnectionState.RECONNECTING, f"{end.reason} Reconnecting in {delay:.1f} s.",
                             retry_in=delay)
                await asyncio.sleep(delay)
        finally:
            conn.up = conn.ready = False
            if handover is not None:
                handover.reader.cancel()
                await _close_quietly(handover.ws)
            if conn.ws is not None:
                await _close_quietly(conn.ws)
                conn.ws = None

    async def _session(self, conn: _Connection, ws: ClientConnection, plan: ConnectionPlan,
                       handover: _Handover | None, catch_up: bool) -> _SessionEnd:
        config = self.config
        conn.ws = ws
        conn.up = True
        conn.ready = False
        conn.rotate.clear()
        conn.last_data = _monotonic()
        conn.pacer = SendPacer(self.protocol.limits.max_incoming_messages_per_second * config.send_rate_share)
        reader: asyncio.Task[str] = asyncio.ensure_future(self._read(conn, ws))
        helpers: list[asyncio.Task[Any]] = []
        planned = False
        try:
            try:
                await self._send_control(conn, ws, self.protocol.subscribe_messages, plan.subscribe_streams)
                planned_names = set(plan.url_streams) | set(plan.subscribe_streams)
                late = [s.name for s in conn.streams if s.name not in planned_names]
                if late:
                    await self._send_control(conn, ws, self.protocol.subscribe_messages, late)
            except ConnectionClosed:
                pass
            conn.ready = True
            if handover is not None:
                helpers.append(asyncio.ensure_future(self._retire(handover)))
            if catch_up:
                self._spawn(self._catch_up(conn), "feed-catch-up")
            interval = self.protocol.client_ping_interval_s and (config.ping_interval_s
                                                                 or self.protocol.client_ping_interval_s)
            ping = self.protocol.ping_message()
            if interval and ping:
                helpers.append(asyncio.ensure_future(self._ping(conn, ws, ping, interval)))
            self._maybe_live()
            lifetime = config.max_connection_lifetime_s or self.protocol.limits.max_lifetime_s
            rotate_at = None
            if lifetime:
                early = config.lifetime_margin_s if lifetime > 2 * config.lifetime_margin_s else lifetime * 0.1
                rotate_at = _monotonic() + lifetime - early
            rotation = asyncio.ensure_future(conn.rotate.wait())
            helpers.append(rotation)
            tick = max(0.01, min(config.stall_timeout_s / 4, 1.0))
            while True:
                await asyncio.wait((reader, rotation), timeout=tick, return_when=asyncio.FIRST_COMPLETED)
                now = _monotonic()
                if conn.rotate.is_set():
                    planned = True
                    return _SessionEnd(f"{self.protocol.display_name} announced a server shutdown.", True,
                                       _Handover(ws, reader))
                if rotate_at is not None and now >= rotate_at:
                    planned = True
                    return _SessionEnd(f"The connection is close to {self.protocol.display_name}'s "
                                       f"{lifetime / 3600:g} h limit.", True, _Handover(ws, reader))
                if reader.done():
                    return _SessionEnd(reader.result())
                silent = now - conn.last_data
                if silent > config.stall_timeout_s:
                    self._status(ConnectionState.STALLED,
                                 f"No data from {self.protocol.display_name} for {silent:.0f} s.")
                    return _SessionEnd("The connection stalled.")
        finally:
            conn.up = conn.ready = False
            for helper in helpers:
                helper.cancel()
            if not planned:
                reader.cancel()
                await _close_quietly(ws)
                conn.ws = None

    async def _read(self, conn: _Connection, ws: ClientConnection) -> str:
        on_frame = self._on_frame
        try:
            async for raw in ws:
                on_frame(raw, conn, ws)
        except ConnectionClosed:
            pass
        code, reason = ws.close_code, ws.close_reason
        name = self.protocol.display_name
        if code is None or code == 1006:
            return f"The connection to {name} was lost."
        return f"{name} closed the connection (code {code}{': ' + reason if reason else ''})."

    async def _retire(self, handover: _Handover) -> None:
        await asyncio.sleep(self.config.handover_overlap_s)
        handover.reader.cancel()
        await _close_quietly(handover.ws)

    async def _send_control(self, conn: _Connection, ws: ClientConnection,
                            build: Callable[..., list[str]], names: Sequence[str]) -> None:
        if not names:
            return
        frames = build(list(names), conn.next_id)
        conn.next_id += len(frames)
        for frame in frames:
            await self._paced_send(conn, ws, frame)

    async def _paced_send(self, conn: _Connection, ws: ClientConnection, frame: str) -> None:
        pacer = conn.pacer
        if pacer is not None:
            wait = pacer.reserve(_monotonic())
            if wait > 0:
                await asyncio.sleep(wait)
        await ws.send(frame)

    async def _ping(self, conn: _Connection, ws: ClientConnection, frame: str, every: float) -> None:
        try:
            while True:
                await asyncio.sleep(every)
                await self._paced_send(conn, ws, frame)
        except ConnectionClosed:
            return

    def _connect_error(self, exc: Exception, url: str) -> Exception:
        name = self.protocol.display_name
        host = urlsplit(url).netloc or url
        if isinstance(exc, InvalidStatus):
            response = exc.response
            body = response.body.decode("utf-8", "replace") if response.body else ""
            error = self.protocol.parse_error(response.status_code, response.headers, body)
            return error or ExchangeUnavailableError(
                f"{name} refused the WebSocket connection (HTTP {response.status_code}).")
        if isinstance(exc, InvalidURI):
            return FeedConfigError(f"{url} is not a WebSocket address; use ws://host:port or wss://host.")
        if isinstance(exc, TimeoutError):
            return ExchangeUnavailableError(
                f"Timed out connecting to {name} at {host} after {self.config.connect_timeout_s:g} s.")
        if isinstance(exc, ConnectionRefusedError):
            return ExchangeUnavailableError(
                f"{host} refused the connection: is {name} (or the simulator) running there?")
        if exc.__class__.__name__ == "gaierror":
            return ExchangeUnavailableError(
                f"Cannot resolve {host.split(':')[0]}: check the address and your network connection.")
        if isinstance(exc, OSError):
            return ExchangeUnavailableError(f"Cannot connect to {name} at {host}: {exc.strerror or exc}.")
        if isinstance(exc, InvalidHandshake):
            return ExchangeUnavailableError(f"{name} did not complete the WebSocket handshake: {exc}.")
        return ExchangeUnavailableError(f"Cannot connect to {name} at {host}: {exc}.")


def _exchange_order(item: tuple[KlineMessage, float]) -> tuple[int, bool, int]:
    """Parked klines in the order the exchange produced them: by candle, forming before its
    close, then by event time."""
    message = item[0]
    return message.candle.open_time, message.candle.closed, message.event_time


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("127.0.0.1", "localhost", "::1")


async def _close_quietly(ws: ClientConnection) -> None:
    try:
        await ws.close()
    except Exception:  # closing a broken socket may fail in many ways; it is going anyway
        pass



def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
