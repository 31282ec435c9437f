"""KlineFeed: one exchange, many (symbol, interval) streams, and no closed candle lost or doubled.

How the guarantee is kept:
- every kline goes through its stream's KlineSequencer, which judges it from the exchange's
  open times and closed flags: next one (emit), repeat or straggler (drop and count), or a
  jump that proves closed candles are missing (GAP);
- a GAP parks the stream while `repair.StreamRepairer` fetches the missing closed candles
  over REST and emits them first, then replays the parked klines through the same judge;
- what the consumer reads waits in a `streams.Mailbox` that coalesces forming updates per
  stream at the source: every closed candle and every status in order, and only the newest
  unread forming update of each stream (superseded ones are counted in
  `FeedCounters.forming_coalesced`), so a consumer needs no queue of its own;
- frames and rows the protocol refuses are counted by reason, said once per reason at
  once, and summed up every `FeedConfig.refusal_summary_s`.

This module is the public surface, the stream registry and the frame hot path; one socket's
life is `connection.py`, REST repair is `repair.py`, connect errors are `connect_errors.py`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from cryptoai_tui.exchanges.base import ControlMessage, ExchangeProtocol, KlineMessage, ShutdownNotice
from cryptoai_tui.exchanges.errors import (
    ExchangeError,
    FeedConfigError,
    InvalidSymbolError,
    MalformedMessageError,
)
from cryptoai_tui.exchanges.redact import mask_secrets
from cryptoai_tui.exchanges.registry import resolve_symbol
from cryptoai_tui.feed.backoff import BackoffPolicy
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.connect_errors import NeverConnectedError
from cryptoai_tui.feed.connection import FATAL, FeedConnection
from cryptoai_tui.feed.history import HistoryClient
from cryptoai_tui.feed.repair import FUTURE, StreamRepairer, utc
from cryptoai_tui.feed.sequencer import Verdict
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.feed.streams import Counts, Mailbox, StreamState
from cryptoai_tui.market import CandleEvent, Interval, Symbol
from cryptoai_tui.market.symbol import close_matches

__all__ = ["EventHandler", "FeedConfigError", "FeedEvent", "KlineFeed"]

log = logging.getLogger(__name__)

FeedEvent = CandleEvent | FeedStatus
EventHandler = Callable[[FeedEvent], Awaitable[None] | None]

_monotonic = time.monotonic
_wall = time.time
_ACCEPT = Verdict.ACCEPT
_DUPLICATE = Verdict.DUPLICATE
_STALE = Verdict.STALE
_GAP = Verdict.GAP


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
    FeedStatus(LIVE, backfilled=K). Every closed candle is delivered, in order; of the
    forming updates a slow reader gets the newest unread one per stream.
    A stream whose history download keeps failing goes live without it and retries it in
    the background; when it arrives the stream restarts: FeedStatus(reset=True), its
    history and the closed candles already delivered live (all backfilled=True, in order,
    once each), FeedStatus(LIVE, backfilled=K), then live again (see FeedStatus.reset).
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
        self._streams: dict[tuple[str, str], StreamState] = {}
        for symbol, interval in streams:
            self._register(symbol, interval)
        self._connections: list[FeedConnection] = []
        self._counts = Counts()
        self._http = http
        self._own_http = False
        self._history: HistoryClient | None = None
        self._mailbox: Mailbox | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rest_slots: asyncio.Semaphore | None = None
        self._repairer = StreamRepairer(self)
        self._started = False
        self._closing = False
        self._ended = False
        self._bootstrapping = 0
        self._live_announced = False
        #: a connection is failing to connect: its retry loop is the one the user sees
        self._retrying = False
        #: the last connection-wide state said, so notices keep the state they are said in
        self._state = ConnectionState.CONNECTING
        #: refusals since the last summary, by reason
        self._refused_window: dict[str, int] = {}
        self._parse = protocol.parse_ws_message

    # --- public surface ------------------------------------------------------------------
    @property
    def streams(self) -> list[tuple[str, str]]:
        return list(self._streams)

    @property
    def repairing(self) -> frozenset[tuple[str, str]]:
        """Streams whose history is loading or whose gap is being fetched: their live
        candles wait until it is done, which a watchlist row or a test has to know."""
        return frozenset(key for key, stream in self._streams.items() if stream.repairing)

    @property
    def counters(self) -> FeedCounters:
        c = self._counts
        mailbox = self._mailbox
        return FeedCounters(
            messages_received=c.received,
            messages_processed=c.processed,
            messages_malformed=c.malformed,
            reconnects=c.reconnects,
            candles_backfilled=c.backfilled,
            duplicates_dropped=c.duplicates,
            out_of_order_dropped=c.stale,
            forming_coalesced=mailbox.coalesced if mailbox is not None else 0,
            refused=MappingProxyType(dict(c.refused)),
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
            return await self._repairer.rest(None, lambda history: history.symbols())
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
                self._repairer.begin_bootstrap(stream)
            if conn.task is None:
                conn.task = self._spawn(conn.run(), f"feed-conn-{conn.index}")
            elif conn.ready and conn.ws is not None:
                self._spawn(conn.send_control(conn.ws, self.protocol.subscribe_messages, [stream.name]),
                            "feed-subscribe")
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
            self._spawn(conn.send_control(conn.ws, self.protocol.unsubscribe_messages, [stream.name]),
                        "feed-unsubscribe")

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
        self._mailbox = Mailbox()
        if self._http is None:
            self._http = httpx.AsyncClient()
            self._own_http = True
        self._history = HistoryClient(
            self.protocol, self._http, timeout_s=self.config.rest_timeout_s, backoff=self._policy,
            rng=self._rng, report=self._rest_waits, on_refused=self._refuse_row,
            on_clock=self._clock_disagrees,
        )
        self._rest_slots = asyncio.Semaphore(max(1, self.config.rest_concurrency))
        for stream in self._streams.values():
            self._place(stream)
            if stream.history > 0:
                self._repairer.begin_bootstrap(stream)
        for conn in self._connections:
            conn.task = self._spawn(conn.run(), f"feed-conn-{conn.index}")
        self._spawn(self._summaries(), "feed-refusal-summary")
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
        mailbox = self._mailbox
        if mailbox is None:
            raise RuntimeError("Use `async with feed:` before iterating over it.")
        item = await mailbox.get()
        if type(item) is _End:
            mailbox.put(item)  # every later call ends the same way
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    # --- streams and connections ----------------------------------------------------------
    def _register(self, symbol: str, interval: str, history: int | None = None) -> StreamState:
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
            stream = StreamState(name, Interval.parse(canonical), self.protocol.stream_name(name, canonical), count)
            self._streams[key] = stream
        return stream

    def _place(self, stream: StreamState) -> FeedConnection:
        limit = self.protocol.limits.max_streams_per_connection
        for conn in self._connections:
            if len(conn.streams) < limit and (conn.task is None or not conn.task.done()):
                break
        else:
            conn = FeedConnection(self, len(self._connections))
            self._connections.append(conn)
        conn.streams.append(stream)
        stream.conn = conn
        return conn


    # --- events ----------------------------------------------------------------------------
    def _put_candle(self, event: CandleEvent) -> None:
        if self._mailbox is not None and not self._ended:
            self._mailbox.put_candle(event)

    def _emit(self, item: FeedEvent) -> None:
        if self._mailbox is not None and not self._ended:
            if type(item) is CandleEvent:
                self._mailbox.put_candle(item)
            else:
                self._mailbox.put(item)

    def _status(self, state: ConnectionState, message: str, stream: StreamState | None = None,
                retry_in: float | None = None, **extra: Any) -> None:
        """Say something on the status channel: the reason as text, the retry time as data
        (`retry_in` seconds, `retry_at` epoch seconds), never a sentence with the figure in it."""
        now = _wall()
        if stream is None:
            self._state = state
        self._emit(FeedStatus(
            state, mask_secrets(message), stream.symbol if stream else None,
            stream.interval_name if stream else None, at=now, retry_in=retry_in,
            retry_at=None if retry_in is None else now + retry_in, **extra,
        ))

    def _rest_waits(self, message: str, wait: float) -> None:
        # A REST request waiting out a 429 or a 5xx is not a reconnect: the socket may be
        # fine. Report it in the phase the feed is in; while a connection is failing to
        # connect its retry loop is the one the user follows, so this one stays quiet.
        if self._retrying:
            log.debug("REST wait while reconnecting: %s (%.1f s)", message, wait)
            return
        state = ConnectionState.BOOTSTRAPPING if self._bootstrapping else ConnectionState.LIVE
        self._status(state, message, retry_in=wait)

    # --- refusals ----------------------------------------------------------------------------
    def _refuse(self, reason: str, detail: str, count: int = 1) -> None:
        """Count `count` refused frames/rows by reason; the first of a reason is said at once."""
        refused = self._counts.refused
        first = reason not in refused
        refused[reason] = refused.get(reason, 0) + count
        window = self._refused_window
        window[reason] = window.get(reason, 0) + count
        if first:
            self._notice(f"Skipped a malformed message ({reason}): {detail} Further ones are counted "
                         f"and summed up every {self.config.refusal_summary_s:g} s.")

    def _refuse_row(self, error: MalformedMessageError) -> None:
        self._refuse(error.reason, str(error))

    def _clock_disagrees(self, message: str) -> None:
        self._notice(message)

    def _notice(self, message: str) -> None:
        """A status that informs without changing the feed's state."""
        self._emit(FeedStatus(self._state, mask_secrets(message), at=_wall()))

    async def _summaries(self) -> None:
        every = self.config.refusal_summary_s
        while True:
            await asyncio.sleep(every)
            self._summarise(every)

    def _summarise(self, window_s: float) -> None:
        window = self._refused_window
        if not window:
            return
        self._refused_window = {}
        total = sum(window.values())
        parts = ", ".join(f"{n} {reason}" for reason, n in sorted(window.items(), key=lambda kv: -kv[1]))
        span = "minute" if window_s == 60 else f"{window_s:g} s"
        noun = "message" if total == 1 else "messages"
        self._notice(f"Skipped {total} malformed {noun} in the last {span}: {parts}.")

    # --- lifecycle -------------------------------------------------------------------------------
    def _finish(self, error: BaseException | None) -> None:
        if self._ended or self._mailbox is None:
            return
        self._ended = True
        self._mailbox.put(_End(error))

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
        except FATAL as error:
            self._fail(error)
        except (FeedConfigError, NeverConnectedError) as error:  # said in words, not a bug
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

    @staticmethod
    def _now_ms() -> float:
        return _wall() * 1000.0

    # --- hot path ----------------------------------------------------------------------------
    def _on_frame(self, raw: str | bytes, conn: FeedConnection, ws: ClientConnection) -> None:
        counts = self._counts
        counts.received += 1
        try:
            messages = self._parse(raw)
        except MalformedMessageError as error:
            counts.malformed += 1
            self._refuse(error.reason, str(error))
            return
        except Exception as error:  # a protocol bug on odd input must not kill the reader
            counts.malformed += 1
            log.debug("Unparseable frame counted as malformed", exc_info=True)
            self._refuse("unparseable frame", f"{type(error).__name__}.")
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
                conn.delivered += 1
                if message.candle.open_time > message.event_time + stream.future_slack_ms:
                    # REST would be asked about a gap that is not there, and could bring the
                    # genuine next candle before the socket does
                    self._refuse(FUTURE, f"{stream.symbol} {stream.interval_name} kline opening at "
                                 f"{utc(message.candle.open_time)}, after its own frame's event time "
                                 f"({utc(message.event_time)}).")
                    continue
                if stream.repairing:
                    stream.park(message, received_at)
                elif self._apply(stream, message, received_at) is _GAP:
                    stream.park(message, received_at)
                    self._repairer.start_repair(stream, grace=True)
            elif type(message) is ShutdownNotice:
                if ws is conn.ws:
                    conn.rotate.set()
            elif isinstance(message, ControlMessage) and not message.ok:
                self._status(ConnectionState.ERROR,
                             f"{self.protocol.display_name} rejected a request: {message.detail or 'no details'}.")

    def _apply(self, stream: StreamState, message: KlineMessage, received_at: float,
               backfilled: bool = False) -> Verdict:
        candle = message.candle
        verdict = stream.seq.offer(candle, message.event_time)
        if verdict is _ACCEPT:
            self._mailbox.put_candle(CandleEvent(  # type: ignore[union-attr]
                self.exchange, stream.symbol, stream.interval_name, candle, received_at,
                message.event_time, backfilled,
            ))
            if stream.kept is not None and candle.closed:
                stream.kept.append(candle)  # live without history: replayed after it (repair.restore)
        elif verdict is _DUPLICATE:
            self._counts.duplicates += 1
        elif verdict is _STALE:
            self._counts.stale += 1
        return verdict
