"""StreamManager: live candle buffers and close callbacks for plain Python scripts.

The original CryptoAI API, kept for scripts and notebooks: start streams by symbol and
interval, read a DataFrame of the buffer whenever you like, get a callback on every
closed candle. Underneath it is one KlineFeed (so many streams share one connection) on an
event loop in a background thread, which is what lets a synchronous script use it; asyncio
code can use it too, because no public method blocks for long.

Buffers are CandleSeries (numpy); pandas is imported only when a DataFrame is asked for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from cryptoai_tui.exchanges.errors import InvalidSymbolError
from cryptoai_tui.exchanges.redact import mask_secrets
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.kline_feed import KlineFeed
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from cryptoai_tui.market import Candle, CandleEvent, CandleSeries, parse_symbol
from cryptoai_tui.market.symbol import MarketKind, close_matches

if TYPE_CHECKING:
    import pandas as pd

    from cryptoai_tui.exchanges.base import ExchangeProtocol

log = logging.getLogger(__name__)

CloseCallback = Callable[["pd.DataFrame"], Any]

#: how long a synchronous call waits for the background loop before giving up
_CALL_TIMEOUT_S = 60.0

#: command-line spellings in shared sentences, and how a Python caller writes them
_FLAGS = (
    (re.compile(r"--exchange ([A-Za-z0-9.-]+)"), r'exchange="\1"'),
    (re.compile(r"--ws-url\b"), "ws_url="),
    (re.compile(r"--rest-url\b"), "rest_url="),
)


def _pythonic(text: str) -> str:
    """A sentence shared with the command line, naming Python arguments instead of flags
    (`use exchange="sim"`, not `use --exchange sim`), with any URL password masked."""
    for pattern, replacement in _FLAGS:
        text = pattern.sub(replacement, text)
    return mask_secrets(text)


def _in_python_words(error: BaseException) -> BaseException:
    """`error`, its sentence rewritten by `_pythonic` (same type, so `except` still works)."""
    if error.args and isinstance(error.args[0], str):
        error.args = (_pythonic(error.args[0]), *error.args[1:])
    return error


class _Buffer:
    __slots__ = ("symbol", "interval", "series", "callback", "live", "ready")

    def __init__(self, symbol: str, interval: str, capacity: int, callback: CloseCallback | None) -> None:
        self.symbol = symbol
        self.interval = interval
        self.series = CandleSeries(capacity)
        self.callback = callback
        #: bootstrap done: closed candles from now on are live and fire the callback
        self.live = False
        self.ready = threading.Event()


class StreamManager:
    """Many (symbol, interval) streams of one exchange, each with a bounded candle buffer.

    ```
    manager = StreamManager("binance")
    manager.start_stream("ETH/USDT", "1m", buffer_size=500, callback=on_close)
    manager.wait_until_ready("ETH/USDT", "1m")
    frame = manager.get_data("ETH/USDT", "1m")
    manager.stop_all()
    ```
    Callbacks run on one worker thread, in order, with a DataFrame of the buffer as it was
    when the candle closed (`frame.attrs` names the symbol and interval). A callback that
    raises is logged and the stream goes on. `exchange="sim"` starts the built-in
    simulator in the background (offline demos and tests); it serves spot pairs and
    perpetuals (`ETH/USDT:USDT`), one kind per manager, chosen by the first stream.

    History that cannot be loaded (the exchange keeps answering garbage) does not hold a
    stream back: it goes live without it (`wait_until_ready` returns, the buffer holds live
    candles only) and the history is retried in the background. When it arrives the buffer
    is rebuilt, history first and then the candles already seen live, in order and once
    each; `get_data` shows the whole series from then on. The replayed candles do not call
    back (like a bootstrap's); the next live close calls back with the full window.
    """

    def __init__(self, exchange: str = "binance", ws_url: str | None = None, rest_url: str | None = None,
                 *, config: FeedConfig = FeedConfig()) -> None:
        from cryptoai_tui.wiring import EXCHANGE_CHOICES, check_endpoint_urls, normalise_exchange

        name = normalise_exchange(exchange)
        if name not in EXCHANGE_CHOICES:
            raise ValueError(
                f"exchange={exchange!r} is not an exchange. Valid values: "
                + ", ".join(f'"{choice}"' for choice in EXCHANGE_CHOICES) + "."
            )
        check_endpoint_urls(ws_url, rest_url, ws_name="ws_url", rest_name="rest_url")
        self.exchange = name
        self.ws_url = ws_url
        self.rest_url = rest_url
        self.config = config
        self._lock = threading.RLock()
        self._buffers: dict[tuple[str, str], _Buffer] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._feed: KlineFeed | None = None
        self._protocol: ExchangeProtocol | None = None
        self._symbols: set[str] | None = None
        #: the market kind this manager streams (the simulator serves both; one per manager)
        self._kind: MarketKind | None = None
        self._main: concurrent.futures.Future[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._callbacks = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-callbacks")
        self._last_status: FeedStatus | None = None
        self.error: BaseException | None = None
        self._closed = False

    # --- public API ------------------------------------------------------------------------
    def start_stream(self, symbol: str, interval: str = "1m", buffer_size: int = 500,
                     callback: CloseCallback | None = None) -> tuple[str, str]:
        """Start streaming `symbol` at `interval`, first loading `buffer_size` closed candles.

        Returns at once after checking the symbol and interval (InvalidSymbolError /
        InvalidIntervalError name what would work); `wait_until_ready` waits for the history.
        """
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1 candle, not {buffer_size}.")
        try:
            self._ensure_running(self._market_kind(symbol))
            return self._call(self._start_stream(symbol, interval, buffer_size, callback))
        except Exception as error:  # same type, so `except InvalidSymbolError` still works
            raise _in_python_words(error) from None

    def stop_stream(self, symbol: str, interval: str = "1m") -> None:
        key = self._key(symbol, interval)
        with self._lock:
            buffer = self._buffers.pop(key, None)
        if buffer is not None and self._loop is not None and not self._closed:
            self._call(self._stop_stream(*key))

    def stop_all(self) -> None:
        """Stop every stream, the background loop and the callback thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        loop, main = self._loop, self._main
        if loop is not None and main is not None and self._stopping is not None:
            loop.call_soon_threadsafe(self._stopping.set)
            if threading.current_thread() is not self._thread:
                with contextlib.suppress(Exception):
                    main.result(timeout=_CALL_TIMEOUT_S)
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join(timeout=_CALL_TIMEOUT_S)
        # From inside a callback, waiting for the callback thread would wait for ourselves.
        in_callback = threading.current_thread().name.startswith("stream-callbacks")
        self._callbacks.shutdown(wait=not in_callback)

    def get_data(self, symbol: str, interval: str = "1m", include_forming: bool = False) -> pd.DataFrame:
        """The buffer's closed candles (optionally with the forming one) as a DataFrame indexed
        by UTC open time, oldest first."""
        buffer = self._buffer(symbol, interval)
        with self._lock:
            frame = buffer.series.to_frame(include_forming)
        frame.attrs.update(symbol=buffer.symbol, interval=buffer.interval, exchange=self.exchange)
        return frame

    def current_candle(self, symbol: str, interval: str = "1m") -> Candle | None:
        """The candle still forming (None between a close and the next update)."""
        buffer = self._buffer(symbol, interval)
        with self._lock:
            return buffer.series.forming

    def wait_until_ready(self, symbol: str, interval: str = "1m", timeout: float | None = 30.0) -> bool:
        """Block until the stream's history is loaded; False on timeout."""
        return self._buffer(symbol, interval).ready.wait(timeout)

    async def ready(self, symbol: str, interval: str = "1m", timeout: float | None = 30.0) -> bool:
        """`wait_until_ready` for asyncio code: waits without blocking the caller's loop."""
        buffer = self._buffer(symbol, interval)
        return await asyncio.get_running_loop().run_in_executor(None, buffer.ready.wait, timeout)

    @property
    def streams(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._buffers)

    @property
    def status(self) -> FeedStatus | None:
        """The feed's last reported status (connection state and a sentence)."""
        return self._last_status

    def __enter__(self) -> StreamManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    async def __aenter__(self) -> StreamManager:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop_all)

    # --- background loop ---------------------------------------------------------------------
    def _market_kind(self, symbol: str) -> MarketKind:
        """The kind `symbol` names on this manager's simulator (real exchanges have one kind,
        and `resolve_symbol` refuses the other with its own sentence)."""
        from cryptoai_tui.wiring import is_simulator, market_kind_of

        kind = market_kind_of(symbol)
        if self._kind is None or not is_simulator(self.exchange) or kind is self._kind:
            return kind
        have = "perpetuals" if self._kind is MarketKind.LINEAR else "spot pairs"
        raise ValueError(
            f"This StreamManager streams the simulator's {have}; {symbol} needs a second "
            'StreamManager(exchange="sim").'
        )

    def _ensure_running(self, kind: MarketKind = MarketKind.SPOT) -> None:
        if self._closed:
            raise RuntimeError("This StreamManager was stopped; create a new one.")
        if self._thread is not None:
            return
        self._kind = kind
        loop = asyncio.new_event_loop()
        started = threading.Event()
        self._loop = loop
        self._thread = threading.Thread(target=self._run_loop, args=(loop, started), name="stream-manager",
                                        daemon=True)
        self._thread.start()
        started.wait()
        self._main = asyncio.run_coroutine_threadsafe(self._serve(), loop)
        self._call(self._wait_feed())

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None
        if threading.current_thread() is self._thread:
            raise RuntimeError("StreamManager methods cannot be called from its own event loop thread.")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=_CALL_TIMEOUT_S)

    async def _wait_feed(self) -> None:
        while self._feed is None and self.error is None:
            await asyncio.sleep(0.005)
        if self.error is not None:
            raise self.error

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            async with self._open_protocol() as protocol:
                self._protocol = protocol
                feed = KlineFeed(protocol, [], history=0, config=self.config)
                async with feed:
                    self._feed = feed
                    consumer = asyncio.ensure_future(self._consume(feed))
                    stopper = asyncio.ensure_future(self._stopping.wait())
                    await asyncio.wait((consumer, stopper), return_when=asyncio.FIRST_COMPLETED)
                    stopper.cancel()
                    consumer.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await consumer
        except Exception as error:
            self.error = _in_python_words(error)
            log.error("StreamManager stopped: %s", error)
        finally:
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.stop)

    @contextlib.asynccontextmanager
    async def _open_protocol(self) -> Any:
        from cryptoai_tui.wiring import open_protocol

        async with open_protocol(self.exchange, self.ws_url, self.rest_url,
                                 market_kind=self._kind or MarketKind.SPOT) as protocol:
            yield protocol

    async def _consume(self, feed: KlineFeed) -> None:
        try:
            async for event in feed:
                if type(event) is CandleEvent:
                    self._on_candle(event)
                elif isinstance(event, FeedStatus):
                    self._on_status(event)
        except Exception as error:
            self.error = _in_python_words(error)
            log.error("StreamManager feed ended: %s", error)
            for buffer in list(self._buffers.values()):
                buffer.ready.set()

    def _on_candle(self, event: CandleEvent) -> None:
        buffer = self._buffers.get((event.symbol, event.interval))
        if buffer is None:
            return
        candle = event.candle
        with self._lock:
            changed = buffer.series.apply(candle)
            if not (changed and candle.closed and buffer.live and buffer.callback is not None):
                return
            snapshot = _copy_window(buffer.series)
        self._callbacks.submit(self._run_callback, buffer, snapshot)

    def _on_status(self, status: FeedStatus) -> None:
        self._last_status = status
        if status.reset:
            # History that came late (the download failed at first): the feed replays the
            # stream's whole series next, so the buffer starts again and, as at a bootstrap,
            # the replayed candles fill it without calling back until the LIVE that ends them.
            buffer = self._buffers.get((status.symbol or "", status.interval or ""))
            if buffer is not None:
                with self._lock:
                    buffer.series = CandleSeries(buffer.series.capacity)
                    buffer.live = False
            return
        if status.symbol is not None and status.state is ConnectionState.LIVE and status.interval is not None:
            buffer = self._buffers.get((status.symbol, status.interval))
            if buffer is not None and not buffer.live:
                buffer.live = True
                buffer.ready.set()
        if status.state is ConnectionState.ERROR:
            log.warning("%s", _pythonic(status.message))

    def _run_callback(self, buffer: _Buffer, window: dict[str, np.ndarray]) -> None:
        if buffer.callback is None:
            return
        try:
            frame = _frame(window)
            frame.attrs.update(symbol=buffer.symbol, interval=buffer.interval, exchange=self.exchange)
            buffer.callback(frame)
        except Exception:
            log.exception("The callback of %s %s raised; the stream goes on.", buffer.symbol, buffer.interval)

    async def _start_stream(self, symbol: str, interval: str, buffer_size: int,
                            callback: CloseCallback | None) -> tuple[str, str]:
        feed, protocol = self._feed, self._protocol
        if feed is None or protocol is None:
            raise RuntimeError(f"The StreamManager is not running: {self.error or 'it was stopped'}.")
        key = self._key(symbol, interval)
        if self._symbols is None:
            self._symbols = {s.name for s in await feed.exchange_symbols()}
        if key[0] not in self._symbols:
            raise InvalidSymbolError(key[0], close_matches(key[0], self._symbols), protocol.display_name)
        with self._lock:
            if key in self._buffers:
                buffer = self._buffers[key]
                buffer.callback = callback or buffer.callback
                return key
            buffer = _Buffer(key[0], key[1], buffer_size, callback)
            self._buffers[key] = buffer
        await feed.add_stream(key[0], key[1], history=buffer_size)
        return key

    async def _stop_stream(self, symbol: str, interval: str) -> None:
        if self._feed is not None:
            await self._feed.remove_stream(symbol, interval)

    # --- keys --------------------------------------------------------------------------------
    def _key(self, symbol: str, interval: str) -> tuple[str, str]:
        """The exchange spelling of a user's symbol (ccxt `ETH/USDT` works) and interval."""
        from cryptoai_tui.exchanges.registry import PYTHON_EXCHANGE_OPTION, resolve_symbol
        from cryptoai_tui.wiring import describe_protocol

        protocol = self._protocol or describe_protocol(self.exchange, market_kind=self._kind or MarketKind.SPOT)
        return (resolve_symbol(protocol, parse_symbol(symbol), exchange_option=PYTHON_EXCHANGE_OPTION),
                protocol.canonical_interval(interval))

    def _buffer(self, symbol: str, interval: str) -> _Buffer:
        key = self._key(symbol, interval)
        with self._lock:
            buffer = self._buffers.get(key)
        if buffer is None:
            raise KeyError(f"No stream {key[0]} {key[1]} is running; call start_stream({symbol!r}, {interval!r}) first.")
        return buffer


def _copy_window(series: CandleSeries) -> dict[str, np.ndarray]:
    """A copy of the closed window taken at the close, so a slow callback sees the buffer as
    it was when its candle closed, not as it is later."""
    view = series.view()
    return {name: np.array(getattr(view, name)) for name in ("open_time", "open", "high", "low", "close", "volume")}


def _frame(window: dict[str, np.ndarray]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({
        "open_time": pd.to_datetime(window["open_time"], unit="ms", utc=True),
        "open": window["open"],
        "high": window["high"],
        "low": window["low"],
        "close": window["close"],
        "volume": window["volume"],
    })
    frame["closed"] = np.ones(len(frame), dtype=bool)
    return frame.set_index("open_time")


#: the original design's name
RealTimeDataManager = StreamManager


def fetch_realtime_data(symbol: str, interval: str = "1m", buffer_size: int = 500,
                        callback: CloseCallback | None = None, *, exchange: str = "binance",
                        ws_url: str | None = None, rest_url: str | None = None,
                        config: FeedConfig = FeedConfig()) -> StreamManager:
    """Start one stream and return its running manager (call `stop_all()` when done)."""
    manager = StreamManager(exchange, ws_url, rest_url, config=config)
    try:
        manager.start_stream(symbol, interval, buffer_size, callback)
    except BaseException:
        manager.stop_all()
        raise
    return manager
