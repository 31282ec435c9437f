"""SimExchange: the simulated exchange as a real server on one loopback port.

REST and WebSocket share the port: websockets' `process_request` hook answers plain HTTP
GETs (no Upgrade header) from the RestRouter and lets WebSocket upgrades through to a
session chosen by path. It runs in the caller's event loop (`async with SimExchange(...)`)
or in a thread of its own (`start_in_thread()`) for synchronous callers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import replace
from types import TracebackType
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from cryptoai_tui.exchanges.base import HttpReply
from cryptoai_tui.exchanges.binance import BinanceProtocol, BinanceSpot, BinanceUsdm
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitProtocol, BybitSpot
from cryptoai_tui.market import Candle, Interval
from cryptoai_tui.sim.clock import SimClock
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.faults import FaultConfig
from cryptoai_tui.sim.market import MarketModel, parse_interval
from cryptoai_tui.sim.replay import ReplaySeries, load_replay_csv
from cryptoai_tui.sim.rest import LINEAR_QUOTES, RestRouter
from cryptoai_tui.sim.context import SimContext, SimStats
from cryptoai_tui.sim.sessions import BinanceSession, BybitSession, Session

_T = TypeVar("_T")
_LOG = logging.getLogger("cryptoai_tui.sim")


class SimExchange:
    """The simulated exchange. `async with SimExchange(SimConfig(speed=600)) as sim:` then
    point a client at `sim.ws_url` / `sim.rest_url`; `sim.closed_candles(...)` is the ground
    truth it should have received."""

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        config = config or SimConfig()
        if overrides:
            config = replace(config, **overrides)
        self.config = config
        replays = tuple(load_replay_csv(path) for path in config.replay)
        self.replays: tuple[ReplaySeries, ...] = replays
        self.market = MarketModel(config.seed, config.symbols or None, replays)
        self.clock = SimClock(_start_ms(config, replays), config.speed)
        self._faults = config.faults
        self._context: SimContext | None = None
        self._server: Server | None = None
        self._rest: RestRouter | None = None
        self._sessions: set[Session] = set()
        self._ordinal = 0
        self._restarts = 0
        self._port = config.port
        self._tasks: list[asyncio.Task[None]] = []
        self._binance_spot = BinanceSpot()
        self._binance_usdm = BinanceUsdm()
        self._bybit = {"spot": BybitSpot(), "linear": BybitLinear()}
        names = self.market.symbol_names
        self._bybit_listed = {
            "spot": frozenset(names),
            "linear": frozenset(n for n in names if any(n.endswith(q) for q in LINEAR_QUOTES)),
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restarting = False
        self._stopped = False

    # --- addresses -----------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self._port

    @property
    def ws_url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self._port}"

    @property
    def rest_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self._port}"

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> SimExchange:
        if self._server is not None:
            return self
        self._stopped = False
        self._loop = asyncio.get_running_loop()
        if self._context is None:
            self._context = SimContext(self.config, self.market, self.clock)
            self._context.set_faults(self._faults, -1e18)
            self._rest = RestRouter(self.market, self.clock.now_ms, lambda: self._faults,
                                    self.config.seed, time.monotonic)
        await self._listen()
        self._tasks.append(asyncio.create_task(self._restart_loop()))
        return self

    async def stop(self) -> None:
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        server, self._server = self._server, None
        if server is not None:
            server.close(close_connections=False)
            for session in list(self._sessions):
                session.abort()
            await server.wait_closed()

    async def __aenter__(self) -> SimExchange:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def _listen(self) -> None:
        self._server = await serve(
            self._handle_connection, self.config.host, self._port,
            process_request=self._process_request,
            ping_interval=None,  # heartbeats are the sessions' business, per exchange
            compression=None,
            max_queue=64,
            write_limit=2**20,
            close_timeout=1.0,
            logger=_LOG,
        )
        if self._port == 0:
            self._port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0

    # --- ground truth and control (for tests and the app) -------------------------
    def now_ms(self) -> int:
        """The exchange clock, in epoch ms."""
        return self.clock.now_ms()

    def closed_candles(self, symbol: str, interval: Interval | str, start_time: int,
                       end_time: int | None = None) -> list[Candle]:
        """Every candle closed by now whose open time is in [start_time, end_time]."""
        now = self.clock.now_ms()
        return self.market.closed_candles(symbol, interval, start_time, now if end_time is None else end_time, now)

    def candle(self, symbol: str, interval: Interval | str, open_time: int) -> Candle | None:
        """The finished candle opening at `open_time` (whatever the clock says)."""
        return self.market.candle(symbol, interval, open_time)

    def current_open_time(self, interval: Interval | str) -> int:
        """Open time of the candle of `interval` forming now."""
        return parse_interval(interval).open_of(self.clock.now_ms())

    @property
    def faults(self) -> FaultConfig:
        return self._faults

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch faults on or off from now on (periods restart from this moment). Safe to
        call from another thread than the simulator's."""
        self._faults = faults
        context, loop = self._context, self._loop
        if context is None or loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            context.set_faults(faults, loop.time())
        else:
            loop.call_soon_threadsafe(lambda: context.set_faults(faults, loop.time()))

    @property
    def connections(self) -> int:
        return len(self._sessions)

    def drop_connections(self, close_code: int | None = None, reason: str = "Too many requests") -> int:
        """Drop every connection now: abort without a close frame, or close with
        `close_code` (e.g. 1008). Returns how many were dropped."""
        sessions = list(self._sessions)
        for session in sessions:
            assert self._context is not None
            self._context.counters.drops += 1
            if close_code is None:
                session.abort()
            else:
                asyncio.ensure_future(session.close(close_code, reason))
        return len(sessions)

    def stall_connections(self, seconds: float) -> int:
        """Stall every connection for `seconds` (socket open, nothing sent or read)."""
        sessions = list(self._sessions)
        for session in sessions:
            session.stall(seconds)
        return len(sessions)

    async def restart(self, down_s: float | None = None, *, announce: bool = False) -> None:
        """Drop every connection, close the port for `down_s` seconds, then listen again on
        the same port (clients must reconnect and backfill). With `announce`, Binance
        connections first get `serverShutdown`, as before a planned restart."""
        if self._restarting:
            return
        self._restarting = True
        try:
            if announce:
                await asyncio.gather(*(s.announce_shutdown() for s in list(self._sessions)))
            server, self._server = self._server, None
            if server is not None:
                server.close(close_connections=False)
                for session in list(self._sessions):
                    session.abort()
                await server.wait_closed()
            self._restarts += 1
            await asyncio.sleep(self._faults.restart_down_s if down_s is None else down_s)
            if not self._stopped:
                await self._listen()
        finally:
            self._restarting = False

    async def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least `count` WebSocket connections are open (tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self._sessions) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(self._sessions)} connection(s) open after {timeout:g} s; expected {count}.")
            await asyncio.sleep(0.005)

    def stats(self) -> SimStats:
        assert self._context is not None and self._rest is not None, "start() the simulator first"
        c = self._context.counters
        r = self._rest.counters
        return SimStats(
            connections_opened=c.opened, connections_active=len(self._sessions),
            kline_messages=c.kline_messages, finals=c.finals, forming=c.forming, malformed=c.malformed,
            duplicates=c.duplicates, reordered=c.reordered, finals_skipped=c.finals_skipped,
            drops=c.drops, stalls=c.stalls, restarts=self._restarts, pings=c.pings,
            pong_timeouts=c.pong_timeouts, rate_limit_closes=c.rate_limit_closes,
            idle_closes=c.idle_closes, lifetime_closes=c.lifetime_closes,
            rest_requests=r.requests, rest_rate_limited=r.rate_limited, rest_banned=r.banned,
            rest_unavailable=r.unavailable, client_close_frames=c.client_close_frames,
        )

    # --- serving -----------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            assert self._rest is not None
            return _http_response(connection, self._rest.handle(request.path))
        if self._session_factory(request.path) is None:
            return connection.respond(404, f"No WebSocket endpoint at {urlsplit(request.path).path}\n")
        return None

    def _session_factory(self, path: str) -> Callable[[SimContext, ServerConnection, int], Session] | None:
        route = urlsplit(path).path.rstrip("/")
        binance: BinanceProtocol
        for binance in (self._binance_usdm, self._binance_spot):
            prefix = binance.ws_path_prefix
            if route in (f"{prefix}/ws", f"{prefix}/stream") or route.startswith(f"{prefix}/ws/"):
                def binance_session(ctx: SimContext, ws: ServerConnection, n: int,
                                    p: BinanceProtocol = binance) -> Session:
                    return BinanceSession(ctx, ws, n, p, path)

                return binance_session
        for category, bybit in self._bybit.items():
            if route == f"/v5/public/{category}":
                def bybit_session(ctx: SimContext, ws: ServerConnection, n: int, p: BybitProtocol = bybit,
                                  names: frozenset[str] = self._bybit_listed[category]) -> Session:
                    return BybitSession(ctx, ws, n, p, names)

                return bybit_session
        return None

    async def _handle_connection(self, ws: ServerConnection) -> None:
        assert self._context is not None and ws.request is not None
        factory = self._session_factory(ws.request.path)
        if factory is None:
            return
        self._ordinal += 1
        session = factory(self._context, ws, self._ordinal)
        self._context.counters.opened += 1
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)

    async def _restart_loop(self) -> None:
        """Restarts every `restart_every_s`, counted from the last restart or fault change."""
        assert self._context is not None
        while True:
            changed = self._context.faults_changed
            every = self._faults.restart_every_s
            if not every:
                await changed.wait()
                continue
            try:
                await asyncio.wait_for(changed.wait(), every)
                continue
            except TimeoutError:
                pass
            await self.restart()

    # --- use from synchronous code ---------------------------------------------------
    def start_in_thread(self, timeout: float = 10.0) -> SimThread:
        """Run this simulator on its own event loop in a daemon thread; returns once it
        listens. For callers without an event loop (the app's start-up, sync tests)."""
        return SimThread(self, timeout)


class SimThread:
    """A SimExchange running in a background thread. `stop()` (or leaving a `with` block)
    shuts it down; `call()` runs a function on the simulator's loop and returns its result."""

    def __init__(self, sim: SimExchange, timeout: float = 10.0) -> None:
        self.sim = sim
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="cryptoai-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"The simulated exchange did not start within {timeout:g} s.")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.sim.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await self.sim.stop()

        asyncio.run(main())

    @property
    def ws_url(self) -> str:
        return self.sim.ws_url

    @property
    def rest_url(self) -> str:
        return self.sim.rest_url

    @property
    def port(self) -> int:
        return self.sim.port

    def call(self, function: Callable[..., _T], *args: Any, timeout: float = 10.0) -> _T:
        """Run `function(*args)` on the simulator's loop (awaiting it if it is a coroutine)."""
        assert self._loop is not None

        async def invoke() -> Any:
            result = function(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def set_faults(self, faults: FaultConfig) -> None:
        self.call(self.sim.set_faults, faults)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> SimThread:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _start_ms(config: SimConfig, replays: tuple[ReplaySeries, ...]) -> int | None:
    """The exchange time at start-up: the configured one, else just after the replayed
    history (so REST has `replay_history` candles and the rest plays live), else now."""
    if config.start_ms is not None:
        return config.start_ms
    if replays:
        series = replays[0]
        index = min(config.replay_history, len(series) - 1)
        return series.open_times[index]
    return None


def _http_response(connection: ServerConnection, reply: HttpReply) -> Response:
    response = connection.respond(reply.status, reply.body)
    headers = Headers(
        (key, value) for key, value in response.headers.raw_items() if key.lower() != "content-type"
    )
    for key, value in reply.headers.items():
        headers[key] = value
    response.headers = headers
    return response


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host
