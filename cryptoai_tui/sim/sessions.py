"""One simulated WebSocket connection: subscriptions, the kline push loop, heartbeats,
limits and faults, in a Binance flavour and a Bybit flavour.

The push loop sends, for each subscribed stream, every candle that closed since its last
turn (exactly one final per candle, unless a fault says otherwise) and, at the push
cadence, the forming candle so far. Both come from the MarketModel, so what a client
receives is the ground truth REST serves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Coroutine

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import ClientRequest, ControlKind, ControlMessage, RequestKind
from cryptoai_tui.exchanges.binance import BinanceProtocol
from cryptoai_tui.exchanges.bybit import BybitProtocol
from cryptoai_tui.exchanges.errors import InvalidIntervalError, MalformedMessageError
from cryptoai_tui.market import Candle, Interval
from cryptoai_tui.sim.faults import FaultDice, FaultKind
from cryptoai_tui.sim.market import parse_interval

if TYPE_CHECKING:
    from cryptoai_tui.sim.context import SimContext

#: well-formed Binance stream names: lowercase symbol, '@', a stream type (+ options)
_BINANCE_STREAM = re.compile(r"^[a-z0-9_.\-]{1,30}@[A-Za-z0-9_]+(@[A-Za-z0-9+:]+)?$")
#: Bybit public topic families the real sockets serve (data for anything but kline is not
#: simulated: those subscriptions are acknowledged and stay silent)
_BYBIT_TOPICS = ("kline", "orderbook", "publicTrade", "tickers", "kline_lt", "tickers_lt", "liquidation",
                 "allLiquidation", "insurance", "priceLimit", "adlAlert")
_MAX_FINALS_PER_TURN = 5000
_LOG = logging.getLogger("cryptoai_tui.sim")


@dataclass(slots=True)
class Subscription:
    """A stream one connection asked for; `symbol` None means acknowledged but silent."""

    name: str
    symbol: str | None = None
    interval: Interval | None = None
    interval_name: str = ""
    next_final: int = 0
    last_push: float = -math.inf
    push_every: float = 2.0


class Session(ABC):
    """The parts every simulated connection shares."""

    def __init__(self, context: SimContext, ws: ServerConnection, ordinal: int) -> None:
        self.context = context
        self.ws = ws
        self.ordinal = ordinal
        self.subscriptions: dict[str, Subscription] = {}
        self.dice = FaultDice(context.config.seed, f"ws/{ordinal}")
        self._loop = asyncio.get_running_loop()
        self.opened_at = self._loop.time()
        self._wake = asyncio.Event()
        self._stalled_until = 0.0
        self._held: str | None = None
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle -------------------------------------------------------------------
    async def run(self) -> None:
        loops = [self._push_loop(), self._fault_loop(), *self.extra_loops()]
        self._tasks = [asyncio.create_task(loop) for loop in loops]
        for task in self._tasks:
            task.add_done_callback(self._on_loop_done)
        try:
            async for message in self.ws:
                if self._closing:
                    break
                await self.on_message(message)
        except ConnectionClosed:
            pass
        finally:
            if not self._closing and getattr(self.ws.protocol, "close_rcvd", None) is not None:
                self.context.counters.client_close_frames += 1
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def extra_loops(self) -> list[Coroutine[Any, Any, None]]:
        return []

    def _on_loop_done(self, task: asyncio.Task[None]) -> None:
        """A loop that dies of a bug must not leave a silent connection behind: log it and
        drop the connection so the client reconnects."""
        if task.cancelled() or task.exception() is None:
            return
        _LOG.error("simulated connection %d failed", self.ordinal, exc_info=task.exception())
        self.abort()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self._closing = True
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, reason: str, patience: float = 1.0) -> None:
        """Close with a close frame; a client that does not answer within `patience`
        seconds (it stopped reading) is dropped."""
        self._closing = True
        try:
            await asyncio.wait_for(self.ws.close(code, reason), patience)
        except (ConnectionClosed, TimeoutError):
            pass
        self.abort()

    def stall(self, seconds: float) -> None:
        """Send nothing and read nothing for `seconds`: the socket stays open, pings go
        unanswered, candles that close meanwhile are lost (a client must backfill them)."""
        self._stalled_until = max(self._stalled_until, self._loop.time() + seconds)
        self.context.counters.stalls += 1
        transport = self.ws.transport
        if transport is not None:
            transport.pause_reading()
        self._wake.set()

    @property
    def stalled(self) -> bool:
        return self._loop.time() < self._stalled_until

    async def announce_shutdown(self) -> None:
        """Tell the client a planned close is coming (Binance `serverShutdown`)."""

    # --- subscriptions ---------------------------------------------------------------
    def add_stream(self, name: str, symbol: str | None, interval_name: str | None) -> None:
        if name in self.subscriptions:
            return
        sub = Subscription(name)
        if symbol is not None and interval_name is not None:
            interval = parse_interval(interval_name)
            sub.symbol, sub.interval, sub.interval_name = symbol, interval, interval_name
            sub.next_final = interval.open_of(self.context.clock.now_ms())
            sub.push_every = self._push_every(interval)
        self.subscriptions[name] = sub
        self._wake.set()

    def _push_every(self, interval: Interval) -> float:
        config = self.context.config
        if config.push_interval_s is not None:
            return config.push_interval_s
        length_ms = interval.ms  # a month counts as 30 days: only the push pace depends on it
        real_length = length_ms / (self.context.clock.speed * 1000)
        return min(2.0, max(real_length / 4, config.min_push_interval_s))

    # --- the push loop ---------------------------------------------------------------
    async def _push_loop(self) -> None:
        context = self.context
        market, clock = context.market, context.clock
        while not self._closing:
            now_real = self._loop.time()
            if now_real < self._stalled_until:
                await asyncio.sleep(self._stalled_until - now_real)
                self._end_stall()
                continue
            now_sim = clock.now_ms()
            flood = context.config.flood
            out: list[tuple[str, bool]] = []
            for sub in list(self.subscriptions.values()):
                if sub.symbol is None or sub.interval is None:
                    continue
                sent = 0
                while sent < _MAX_FINALS_PER_TURN:
                    end = sub.interval.next_open(sub.next_final)
                    if end > now_sim:
                        break
                    candle = market.candle(sub.symbol, sub.interval, sub.next_final)
                    if candle is not None:
                        out.append((self.encode_kline(sub, candle, now_sim), True))
                        sent += 1
                    sub.next_final = end
                if flood or now_real - sub.last_push >= sub.push_every:
                    forming = market.candle(sub.symbol, sub.interval, sub.next_final, now_sim)
                    if forming is not None:
                        out.append((self.encode_kline(sub, forming, now_sim), False))
                    sub.last_push = now_real
            if out:
                try:
                    await self._send_klines(out)
                except ConnectionClosed:
                    return
            if flood:
                await asyncio.sleep(0)
                continue
            await self._sleep_until_due(now_real)

    async def _sleep_until_due(self, now_real: float) -> None:
        clock = self.context.clock
        wait = 1.0
        for sub in self.subscriptions.values():
            if sub.interval is None:
                continue
            wait = min(wait, clock.real_seconds_until(sub.interval.next_open(sub.next_final)),
                       sub.last_push + sub.push_every - now_real)
        if wait <= 0:
            await asyncio.sleep(0)
            return
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), max(wait, 0.001))
        except TimeoutError:
            pass

    def _end_stall(self) -> None:
        transport = self.ws.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()
        # What closed during the stall is gone from this connection, as on a real one.
        now_sim = self.context.clock.now_ms()
        for sub in self.subscriptions.values():
            if sub.interval is not None:
                sub.next_final = sub.interval.open_of(now_sim)

    async def _send_klines(self, messages: list[tuple[str, bool]]) -> None:
        faults = self.context.faults
        counters = self.context.counters
        dice = self.dice
        send = self.ws.send
        for text, final in messages:
            if final and dice.roll(FaultKind.MISSING_FINAL, faults.missing_final_rate):
                counters.finals_skipped += 1
                continue
            if dice.roll(FaultKind.MALFORMED, faults.malformed_rate):
                await send(_malformed(text, dice.choice(FaultKind.MALFORMED, 4)))
                counters.malformed += 1
            if self._held is None and dice.roll(FaultKind.REORDER, faults.reorder_rate):
                self._held = text
                counters.reordered += 1
                continue
            await send(text)
            counters.kline_messages += 1
            if final:
                counters.finals += 1
            else:
                counters.forming += 1
            if self._held is not None:
                held, self._held = self._held, None
                await send(held)
                counters.kline_messages += 1
            if dice.roll(FaultKind.DUPLICATE, faults.duplicate_rate):
                await send(text)
                counters.duplicates += 1

    # --- faults on a schedule --------------------------------------------------------
    async def _fault_loop(self) -> None:
        """Drops and stalls at the configured periods, measured from when the connection
        opened (or the faults last changed), re-read whenever the faults change."""
        context = self.context
        while not self._closing:
            changed = context.faults_changed
            faults = context.faults
            since = max(self.opened_at, context.faults_set_at)
            now = self._loop.time()
            events: list[tuple[float, str]] = []
            if faults.drop_every_s:
                events.append((since + faults.drop_every_s, "drop"))
            if faults.drop_1008_every_s:
                events.append((since + faults.drop_1008_every_s, "drop-1008"))
            if faults.stall_every_s:
                events.append((max(since, self._stalled_until) + faults.stall_every_s, "stall"))
            if not events:
                await changed.wait()
                continue
            due, what = min(events)
            if due > now:
                try:
                    await asyncio.wait_for(changed.wait(), due - now)
                    continue
                except TimeoutError:
                    pass
            if what == "drop":
                context.counters.drops += 1
                self.abort()
                return
            if what == "drop-1008":
                context.counters.drops += 1
                await self.close(1008, "Too many requests")
                return
            self.stall(faults.stall_s)
            await asyncio.sleep(faults.stall_s)

    # --- per-exchange ----------------------------------------------------------------
    @abstractmethod
    async def on_message(self, message: str | bytes) -> None: ...

    @abstractmethod
    def encode_kline(self, sub: Subscription, candle: Candle, event_time: int) -> str: ...

    async def send_text(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            pass


class BinanceSession(Session):
    """Binance spot (or USD-M under /market): URL streams, SUBSCRIBE & co, server pings,
    5 incoming messages per second, optional forced lifetime with `serverShutdown`."""

    def __init__(self, context: SimContext, ws: ServerConnection, ordinal: int,
                 protocol: BinanceProtocol, path: str) -> None:
        super().__init__(context, ws, ordinal)
        self.protocol = protocol
        self.combined = protocol.url_is_combined(path)
        #: the incoming-message allowance: (tokens left, loop time they were counted at)
        self._allowance: tuple[float, float] | None = None
        self._last_pong = self._loop.time()
        for stream in protocol.streams_from_url(path):
            self._subscribe_stream(stream)

    def extra_loops(self) -> list[Coroutine[Any, Any, None]]:
        loops = [self._ping_loop()]
        if self.context.config.max_lifetime_s is not None:
            loops.append(self._lifetime())
        return loops

    def encode_kline(self, sub: Subscription, candle: Candle, event_time: int) -> str:
        return self.protocol.encode_kline(sub.symbol or "", sub.interval_name, candle, event_time,
                                          combined=self.combined)

    def _subscribe_stream(self, stream: str) -> None:
        """Well-formed names are always accepted; only known kline streams carry data
        (an unknown symbol or interval is acked and then silent, as on Binance)."""
        symbol: str | None = None
        interval: str | None = None
        try:
            symbol, interval = self.protocol.parse_stream_name(stream)
        except (MalformedMessageError, InvalidIntervalError):
            pass
        if symbol is not None and (stream.split("@", 1)[0] != symbol.lower()
                                   or not self.context.market.has_symbol(symbol)):
            symbol = None
        self.add_stream(stream, symbol, interval if symbol is not None else None)

    async def on_message(self, message: str | bytes) -> None:
        if self._over_rate_limit():
            self.context.counters.rate_limit_closes += 1
            await self.close(1008, "Too many requests")
            return
        try:
            request = self.protocol.parse_client_request(message)
        except MalformedMessageError as exc:
            text = str(exc)
            code = 3 if text.startswith("Invalid JSON") else 2
            await self._reply(ControlMessage(ControlKind.ERROR, ok=False, detail=text, code=code,
                                             request_id=_request_id_of(message)))
            return
        await self._handle(request)

    async def _handle(self, request: ClientRequest) -> None:
        rid = request.request_id
        if request.kind is RequestKind.SUBSCRIBE:
            if not request.streams or any(not _BINANCE_STREAM.match(s) for s in request.streams):
                await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=2,
                                                 detail="Invalid request: invalid stream"))
                return
            if len(set(self.subscriptions) | set(request.streams)) > self.context.config.max_streams_per_connection:
                await self._reply(ControlMessage(
                    ControlKind.ERROR, ok=False, request_id=rid, code=2,
                    detail=f"Invalid request: too many streams (at most "
                           f"{self.context.config.max_streams_per_connection} per connection)"))
                return
            for stream in request.streams:
                self._subscribe_stream(stream)
            await self._reply(ControlMessage(ControlKind.ACK, request_id=rid))
        elif request.kind is RequestKind.UNSUBSCRIBE:
            for stream in request.streams:
                self.subscriptions.pop(stream, None)
            await self._reply(ControlMessage(ControlKind.ACK, request_id=rid))
        elif request.kind is RequestKind.LIST_SUBSCRIPTIONS:
            await self._reply(ControlMessage(ControlKind.LIST, request_id=rid, result=list(self.subscriptions)))
        elif request.kind is RequestKind.SET_PROPERTY:
            await self._set_property(rid, request.params)
        elif request.kind is RequestKind.GET_PROPERTY:
            if list(request.params) != ["combined"]:
                await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=0,
                                                 detail="Unknown property"))
                return
            await self._reply(ControlMessage(ControlKind.OTHER, request_id=rid, result=self.combined))

    async def _set_property(self, rid: str | int | None, params: tuple[Any, ...]) -> None:
        if len(params) != 2:
            await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=2,
                                             detail="Invalid request: too many parameters"
                                             if len(params) > 2 else "Invalid request: missing parameters"))
            return
        name, value = params
        if not isinstance(name, str):
            await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=2,
                                             detail="Invalid request: property name must be a string"))
        elif name != "combined":
            await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=0,
                                             detail="Unknown property"))
        elif not isinstance(value, bool):
            await self._reply(ControlMessage(ControlKind.ERROR, ok=False, request_id=rid, code=1,
                                             detail="Invalid value type: expected Boolean"))
        else:
            self.combined = value
            await self._reply(ControlMessage(ControlKind.ACK, request_id=rid))

    async def _reply(self, message: ControlMessage) -> None:
        await self.send_text(self.protocol.encode_control(message))

    def _over_rate_limit(self) -> bool:
        """A token bucket of `max_incoming_per_s` tokens refilled at that rate: a burst above
        the limit or a sustained rate above it closes, as on Binance. A sliding one-second
        window counted frames by when this reader got to them, so a client pacing itself
        under the limit was cut when a busy loop delivered its frames bunched together."""
        limit = self.context.config.max_incoming_per_s
        if limit is None:
            return False
        now = self._loop.time()
        tokens, counted_at = self._allowance if self._allowance is not None else (limit, now)
        tokens = min(limit, tokens + (now - counted_at) * limit) - 1.0
        self._allowance = (tokens, now)
        return tokens < 0

    async def _ping_loop(self) -> None:
        """Ping frames every `ping_interval_s`; cut the connection when no ping has been
        answered for `pong_timeout_s` (unsolicited pongs do not count, as on Binance)."""
        config = self.context.config
        while not self._closing:
            await asyncio.sleep(min(config.ping_interval_s, config.pong_timeout_s))
            if self.stalled:
                continue
            if self._loop.time() - self._last_pong > config.pong_timeout_s:
                self.context.counters.pong_timeouts += 1
                await self.close(1008, "Pong timeout", patience=0.2)
                return
            try:
                waiter = await self.ws.ping()
            except ConnectionClosed:
                return
            self.context.counters.pings += 1
            asyncio.ensure_future(waiter).add_done_callback(self._on_pong)  # ping() gives a Future

    def _on_pong(self, future: asyncio.Future[float]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._last_pong = self._loop.time()

    async def _lifetime(self) -> None:
        config = self.context.config
        assert config.max_lifetime_s is not None
        notice = config.shutdown_notice_s
        if notice is not None and notice < config.max_lifetime_s:
            await asyncio.sleep(config.max_lifetime_s - notice)
            await self.announce_shutdown()
            await asyncio.sleep(notice)
        else:
            await asyncio.sleep(config.max_lifetime_s)
        self.context.counters.lifetime_closes += 1
        await self.close(1001, "Connection lifetime reached")

    async def announce_shutdown(self) -> None:
        await self.send_text(self.protocol.encode_server_shutdown(self.context.clock.now_ms(),
                                                                  combined=self.combined))


class BybitSession(Session):
    """Bybit v5 public spot/linear: topics by `op: subscribe`, JSON ping/pong, an idle cut
    when the client goes quiet, spot's 10-args-per-request cap."""

    def __init__(self, context: SimContext, ws: ServerConnection, ordinal: int,
                 protocol: BybitProtocol, listed: frozenset[str]) -> None:
        super().__init__(context, ws, ordinal)
        self.protocol = protocol
        self.listed = listed
        self.conn_id = str(uuid.UUID(int=random.Random(f"{context.config.seed}/conn_id/{ordinal}").getrandbits(128)))
        self._last_heard = self._loop.time()

    def extra_loops(self) -> list[Coroutine[Any, Any, None]]:
        return [self._idle_watch()]

    def encode_kline(self, sub: Subscription, candle: Candle, event_time: int) -> str:
        return self.protocol.encode_kline(sub.symbol or "", sub.interval_name, candle, event_time)

    async def on_message(self, message: str | bytes) -> None:
        self._last_heard = self._loop.time()
        try:
            request = self.protocol.parse_client_request(message)
        except MalformedMessageError as exc:
            await self.send_text(json.dumps({"success": False, "ret_msg": str(exc), "conn_id": self.conn_id,
                                             "req_id": "", "op": _op_of(message)}, separators=(",", ":")))
            return
        rid = request.request_id
        if request.kind is RequestKind.PING:
            await self._reply(ControlMessage(ControlKind.PONG, request_id=rid))
        elif request.kind is RequestKind.SUBSCRIBE:
            problem = self._subscribe_problem(request.streams)
            if problem:
                await self._reply(ControlMessage(ControlKind.SUBSCRIBE, ok=False, request_id=rid, detail=problem))
                return
            for topic in request.streams:
                self._subscribe_topic(topic)
            await self._reply(ControlMessage(ControlKind.SUBSCRIBE, request_id=rid))
        elif request.kind is RequestKind.UNSUBSCRIBE:
            for topic in request.streams:
                self.subscriptions.pop(topic, None)
            await self._reply(ControlMessage(ControlKind.UNSUBSCRIBE, request_id=rid))

    def _subscribe_problem(self, topics: tuple[str, ...]) -> str:
        cap = self.protocol.limits.max_args_per_subscribe
        if cap is not None and len(topics) > cap:
            return f"args size >{cap}"
        for topic in topics:
            family = topic.split(".", 1)[0]
            if family not in _BYBIT_TOPICS or "." not in topic:
                return f"error:handler not found,topic:{topic}"
            if topic in self.subscriptions:
                return f"error:already subscribed,topic:{topic}"
            if family == "kline":
                try:
                    symbol, _ = self.protocol.parse_stream_name(topic)
                except MalformedMessageError:
                    return f"error:handler not found,topic:{topic}"
                if symbol not in self.listed:
                    return f"Invalid symbol :[{topic}]"
        return ""

    def _subscribe_topic(self, topic: str) -> None:
        if topic.startswith("kline."):
            symbol, interval = self.protocol.parse_stream_name(topic)
            self.add_stream(topic, symbol, interval)
        else:
            self.add_stream(topic, None, None)

    async def _reply(self, message: ControlMessage) -> None:
        await self.send_text(self.protocol.encode_control(message, conn_id=self.conn_id))

    async def _idle_watch(self) -> None:
        timeout = self.context.config.idle_timeout_s
        while not self._closing:
            quiet = self._loop.time() - self._last_heard
            if quiet >= timeout and not self.stalled:
                self.context.counters.idle_closes += 1
                await self.close(1000, "Connection idle")
                return
            await asyncio.sleep(max(timeout - quiet, 0.01))


def _malformed(text: str, variant: int) -> str | bytes:
    """A frame no protocol parser should accept: truncated JSON, an HTML error page, JSON
    that is not an object, or binary garbage."""
    if variant == 0:
        return text[: max(1, len(text) // 2)]
    if variant == 1:
        return "<html><body><h1>502 Bad Gateway</h1></body></html>"
    if variant == 2:
        return "[" + text + "]"
    return b"\x00\xff\xfe simulated garbage \x81"


def _request_id_of(message: str | bytes) -> Any:
    try:
        payload = json.loads(message)
    except (ValueError, TypeError):
        return None
    return payload.get("id") if isinstance(payload, dict) else None


def _op_of(message: str | bytes) -> str:
    try:
        payload = json.loads(message)
    except (ValueError, TypeError):
        return ""
    op = payload.get("op") if isinstance(payload, dict) else None
    return op if isinstance(op, str) else ""
