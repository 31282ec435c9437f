"""WatchlistEngine: many symbols of one interval on ONE feed, one live engine per symbol.

Why this shape: a watchlist must evaluate every closed candle of every symbol exactly as the
live screen does, so a row's verdict is the verdict the live screen would show. There is
therefore no second evaluation path: each symbol gets its own `RealtimeStrategyEngine`
(series, `StrategyRunner`, confluence, confirmed-signal fan-out), fed from its share of
one multi-stream source (the `KlineFeed`, which plans the streams over as few connections
as the exchange allows: feed/planning.py). A dispatcher task reads the feed once and hands
each item to its symbol's mailbox (`feed.streams.Mailbox`, which coalesces forming updates
per stream, so a busy engine reads only the newest forming update and never misses a close).

What a front end reads is a table of frozen `WatchRow`s. Rows change in the engines' tasks;
`changes()` hands over only the rows changed since the last call, so a screen that polls once
per frame redraws only those (batching per frame, not per message). Feed health is part of
a row: the local time of its last update (a screen shows the age) and whether the feed is
repairing its stream (history loading or a gap being fetched over REST).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import AsyncIterator, Awaitable, Callable, Iterable, Protocol, Sequence

from cryptoai_tui.engine.realtime import EngineOptions, RealtimeStrategyEngine
from cryptoai_tui.engine.strategy_choice import StrategyChoice
from cryptoai_tui.exchanges.base import Ticker24h
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.feed.streams import Mailbox
from cryptoai_tui.market.candle import CandleEvent
from cryptoai_tui.market.interval import Interval
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, Stance

#: how often the 24 h tickers are read again while running (one request for every symbol)
TICKER_REFRESH_S = 60.0
_SIDES = (Action.BUY, Action.SELL)
#: evaluation the rows may do together in one event-loop turn before keys get theirs
TURN_BUDGET_S = 0.002


class MultiSource(Protocol):
    """What the watchlist reads: the events of many streams (a started `KlineFeed`)."""

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]: ...

    @property
    def counters(self) -> FeedCounters: ...

    @property
    def clock_offset_ms(self) -> float | None: ...

    @property
    def repairing(self) -> frozenset[tuple[str, str]]: ...


#: closed candles each symbol loads before going live: enough for the longest lookback (50)
#: to warm up with room, small enough that 300 symbols bootstrap in moments
WATCH_HISTORY = 150

TickerReader = Callable[[], Awaitable[Sequence[Ticker24h]]]
ConfirmedHandler = Callable[[str, ConfirmedSignal], None]


@dataclass(frozen=True, slots=True)
class WatchRow:
    """One symbol's line of the watchlist, as of its latest update.

    `candle_change` and `day_change` are percent (over the current candle and against the
    24 h ticker's opening price); `turnover` the 24 h quote volume. `last_signal` is the last
    confirmed BUY or SELL of the confluence and `last_signal_time` that candle's close time
    (exchange ms); `exchange_time` the exchange clock at the latest update, so "how long ago"
    is measured on the exchange's clock (a sped-up simulator included). `updated_at` is the
    local epoch seconds of the latest update (the feed-health age); `repairing` is True while
    the feed is loading history or fetching a gap for this stream.
    """

    symbol: str
    state: ConnectionState = ConnectionState.CONNECTING
    price: float | None = None
    candle_change: float | None = None
    day_change: float | None = None
    turnover: float | None = None
    verdict: Action | None = None
    confidence: float = 0.0
    bullish: int = 0
    bearish: int = 0
    strategies: int = 0
    last_signal: Action | None = None
    last_signal_time: int | None = None
    exchange_time: int | None = None
    updated_at: float | None = None
    repairing: bool = False
    closed_evaluated: int = 0
    sequence: int = 0

    def signal_age_ms(self) -> int | None:
        """Exchange milliseconds since the last confirmed signal's candle closed."""
        if self.last_signal_time is None or self.exchange_time is None:
            return None
        return max(0, self.exchange_time - self.last_signal_time)


class _Turns:
    """The rows' engines share the event loop: together at most `budget_s` of work a turn.

    Why: a second's updates of 300 symbols arrive in one burst; left alone, all 300 engine
    tasks would be ready in the same loop iteration and run back to back (150 ms of
    strategies), and a key would wait behind all of them at every hop of its way to the
    widget. One token passes from engine to engine: an engine holds it while it handles an
    item; once the turn's budget is used (or others wait), the token cools until the next
    loop turn (`call_soon`), so a key's handling waits for at most about one budget per hop.
    """

    __slots__ = ("_holder", "_waiters", "_turn_start", "_budget", "_timer")

    def __init__(self, budget_s: float, timer: Callable[[], float] = time.perf_counter) -> None:
        self._holder: object | None = None
        self._waiters: deque[tuple[object, asyncio.Future[None]]] = deque()
        self._turn_start = timer()
        self._budget = budget_s
        self._timer = timer

    async def acquire(self, owner: object) -> None:
        if self._holder is None and not self._waiters:
            self._holder = owner
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((owner, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(owner)  # handed over just as we were cancelled: pass it on
            raise

    def release(self, owner: object) -> None:
        if self._holder is not owner:
            return
        if not self._waiters and self._timer() - self._turn_start < self._budget:
            self._holder = None  # budget left in this turn: whoever comes next may go on
            return
        self._holder = self  # cooling: nobody takes it before the next loop turn
        asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._turn_start = self._timer()
        while self._waiters:
            owner, future = self._waiters.popleft()
            if not future.done():
                self._holder = owner
                future.set_result(None)
                return
        self._holder = None


class _SymbolSource:
    """One symbol's share of the multi-stream feed, as the `CandleSource` its engine reads.

    Its engine holds the shared turn while it handles an item: from the moment an item is
    handed over until the engine asks for the next one (or ends)."""

    _END = object()

    def __init__(self, feed: MultiSource, turns: _Turns) -> None:
        self._feed = feed
        self._turns = turns
        self._mailbox = Mailbox()

    def put(self, item: CandleEvent | FeedStatus) -> None:
        if type(item) is CandleEvent:
            self._mailbox.put_candle(item)
        else:
            self._mailbox.put(item)

    def end(self) -> None:
        self._mailbox.put(self._END)

    def release(self) -> None:
        self._turns.release(self)

    def __aiter__(self) -> _SymbolSource:
        return self

    async def __anext__(self) -> CandleEvent | FeedStatus:
        self._turns.release(self)  # the previous item is done
        item = await self._mailbox.get()
        if item is self._END:
            self._mailbox.put(item)
            raise StopAsyncIteration
        await self._turns.acquire(self)
        return item

    @property
    def counters(self) -> FeedCounters:
        return self._feed.counters

    @property
    def clock_offset_ms(self) -> float | None:
        return self._feed.clock_offset_ms


class WatchlistEngine:
    """The chosen strategies on every update of every symbol, one row per symbol.

    Usage: build it, `add_listener(on_confirmed)` for confirmed signals, then
    `await engine.run(feed)` (until the feed ends or `stop()`); `rows()` is the whole table
    at any time and `changes()` the rows changed since its last call.
    """

    def __init__(
        self,
        symbols: Iterable[str],
        interval: Interval | str,
        strategies: StrategyChoice,
        mode: Mode | str = ConfluenceMode.MAJORITY,
        exchange: str = "binance",
        *,
        window: int = 500,
        clock: Callable[[], float] = time.time,
        turn_budget_s: float = TURN_BUDGET_S,
    ) -> None:
        names = list(dict.fromkeys(symbols))
        if not names:
            raise ValueError("A watchlist needs at least one symbol, e.g. BTCUSDT, or --top N.")
        self.exchange = exchange
        self.interval = interval if isinstance(interval, Interval) else Interval.parse(interval)
        self._clock = clock
        self._turn_budget_s = turn_budget_s
        # Each row keeps only what a row shows: no recent-candle history, one signal.
        options = EngineOptions(window=window, recent_candles=1, recent_signals=1, latency_samples=64)
        self._engines: dict[str, RealtimeStrategyEngine] = {}
        for name in names:
            engine = RealtimeStrategyEngine(name, self.interval, strategies, mode, exchange, options=options)
            self._engines[engine.symbol] = engine
        self.symbols: tuple[str, ...] = tuple(self._engines)
        self.names = next(iter(self._engines.values())).names
        self._rows: dict[str, WatchRow] = {
            symbol: WatchRow(symbol, strategies=len(self.names)) for symbol in self.symbols
        }
        self._dirty: set[str] = set(self.symbols)
        self._tickers: dict[str, Ticker24h] = {}
        self._listeners: list[ConfirmedHandler] = []
        self._sources: dict[str, _SymbolSource] = {}
        self._feed: MultiSource | None = None
        self._reported_repairing: frozenset[str] = frozenset()
        self._sequence = 0
        self._stopping = False
        self._running: asyncio.Event | None = None
        self._dispatcher: asyncio.Future[None] | None = None
        for symbol, engine in self._engines.items():
            engine.add_listener(on_snapshot=self._snapshot_handler(symbol),
                                on_confirmed=self._confirmed_handler(symbol))

    # --- public surface ------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return next(iter(self._engines.values())).mode

    @property
    def running(self) -> bool:
        return self._running is not None

    def engine(self, symbol: str) -> RealtimeStrategyEngine:
        """The live engine of one row (tests, diagnostics)."""
        return self._engines[symbol]

    def add_listener(self, on_confirmed: ConfirmedHandler) -> Callable[[], None]:
        """`on_confirmed(symbol, signal)` for every closed candle of every symbol, in the
        engines' tasks (keep it quick). Returns a function that removes it again."""
        self._listeners = [*self._listeners, on_confirmed]

        def remove() -> None:
            self._listeners = [item for item in self._listeners if item is not on_confirmed]

        return remove

    def rows(self) -> tuple[WatchRow, ...]:
        """Every row, in the order the symbols were given, with feed health as of now."""
        self._refresh_repairing()
        return tuple(self._rows[symbol] for symbol in self.symbols)

    def changes(self) -> tuple[WatchRow, ...]:
        """The rows changed since the last call (all of them on the first): what a screen
        redraws once per frame, however many messages arrived in between."""
        self._refresh_repairing()
        if not self._dirty:
            return ()
        changed = tuple(self._rows[symbol] for symbol in self.symbols if symbol in self._dirty)
        self._dirty.clear()
        return changed

    def apply_tickers(self, tickers: Iterable[Ticker24h]) -> None:
        """Take the 24 h statistics (price 24 h ago, turnover) of the watched symbols."""
        for ticker in tickers:
            if ticker.symbol in self._engines:
                self._tickers[ticker.symbol] = ticker
                row = self._rows[ticker.symbol]
                self._store(replace(row, turnover=ticker.quote_volume,
                                    day_change=_day_change(row.price, ticker)))

    async def run(self, feed: MultiSource, tickers: TickerReader | None = None,
                  ticker_refresh_s: float = TICKER_REFRESH_S) -> None:
        """Dispatch `feed` to every symbol's engine until it ends or `stop()`; re-raises a
        fatal feed error after every engine has stopped. `tickers` (optional) is read now
        and every `ticker_refresh_s` for the 24 h columns; a failed read leaves them as they
        were (the feed's own status says why the exchange is unreachable)."""
        if self._running is not None:
            raise RuntimeError("This watchlist is already running; build another one to restart.")
        self._running = asyncio.Event()
        self._feed = feed
        self._stopping = False
        turns = _Turns(self._turn_budget_s)
        self._sources = {symbol: _SymbolSource(feed, turns) for symbol in self.symbols}
        runs = [asyncio.ensure_future(self._run_row(self._engines[symbol], source))
                for symbol, source in self._sources.items()]
        refresher = asyncio.ensure_future(self._refresh_tickers(tickers, ticker_refresh_s)) if tickers else None
        # The dispatcher is its own task so `stop()` cancels only it: the engines then end
        # with their sources, whatever this task was awaiting at that moment.
        self._dispatcher = asyncio.ensure_future(self._dispatch(feed))
        try:
            await self._dispatcher
        except asyncio.CancelledError:
            if not (self._stopping and self._dispatcher.cancelled()):
                raise  # cancelled by someone else: still end the engines, then re-raise
        finally:
            self._dispatcher.cancel()
            if refresher is not None:
                refresher.cancel()
            for source in self._sources.values():
                source.end()
            pending = [*runs, *([refresher] if refresher is not None else [])]
            await asyncio.gather(*pending, return_exceptions=True)
            self._dispatcher = None
            self._running.set()
            self._running = None

    @staticmethod
    async def _run_row(engine: RealtimeStrategyEngine, source: _SymbolSource) -> None:
        try:
            await engine.run(source)
        finally:
            source.release()  # an engine that ends (or fails) mid-item must not keep the turn

    async def stop(self) -> None:
        """Stop dispatching and every engine; returns once they have stopped."""
        self._stopping = True
        running, dispatcher = self._running, self._dispatcher
        if dispatcher is not None:
            dispatcher.cancel()
        if running is not None:
            # what the rows' mailboxes still hold is dropped, as a single engine's stop does
            await asyncio.gather(*(engine.stop() for engine in self._engines.values()))
            await running.wait()

    def set_mode(self, mode: Mode | str) -> None:
        """Switch every row's confluence mode live (each engine recombines and republishes)."""
        for engine in self._engines.values():
            engine.set_mode(mode)

    # --- dispatch ------------------------------------------------------------------------
    async def _dispatch(self, feed: MultiSource) -> None:
        sources = self._sources
        everyone = tuple(sources.values())
        async for item in feed:
            source = sources.get(item.symbol) if item.symbol is not None else None
            if source is not None:
                source.put(item)
            elif type(item) is FeedStatus:
                for each in everyone:  # about the whole connection: every row shows it
                    each.put(item)
            if self._stopping:
                return

    async def _refresh_tickers(self, read: TickerReader, every_s: float) -> None:
        while True:
            try:
                self.apply_tickers(await read())
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the 24 h columns are extra; the feed says what is wrong
                pass
            await asyncio.sleep(every_s)

    # --- rows ----------------------------------------------------------------------------
    def _snapshot_handler(self, symbol: str) -> Callable[[Snapshot], None]:
        def on_snapshot(snapshot: Snapshot) -> None:
            row = self._rows[symbol]
            price = snapshot.price
            opened = snapshot.candle_open
            confluence = snapshot.confluence
            bullish = bearish = 0
            for strategy_row in snapshot.rows:
                stance = strategy_row.signal.stance
                if stance is Stance.BULLISH:
                    bullish += 1
                elif stance is Stance.BEARISH:
                    bearish += 1
            self._store(replace(
                row,
                state=snapshot.state,
                price=price,
                candle_change=(price / opened - 1.0) * 100.0 if price is not None and opened else None,
                day_change=_day_change(price, self._tickers.get(symbol)),
                verdict=confluence.action if confluence is not None else None,
                confidence=confluence.confidence if confluence is not None else 0.0,
                bullish=bullish,
                bearish=bearish,
                exchange_time=snapshot.exchange_time if snapshot.exchange_time is not None else row.exchange_time,
                updated_at=self._clock() if price is not None else row.updated_at,
            ))

        return on_snapshot

    def _confirmed_handler(self, symbol: str) -> Callable[[ConfirmedSignal], None]:
        close_time = self.interval.close_time

        def on_confirmed(signal: ConfirmedSignal) -> None:
            row = self._rows[symbol]
            action = signal.confluence.action
            if action in _SIDES:
                row = replace(row, last_signal=action, last_signal_time=close_time(signal.open_time))
            self._store(replace(row, closed_evaluated=row.closed_evaluated + 1))
            for listener in self._listeners:
                listener(symbol, signal)

        return on_confirmed

    def _store(self, row: WatchRow) -> None:
        self._sequence += 1
        self._rows[row.symbol] = replace(row, sequence=self._sequence)
        self._dirty.add(row.symbol)

    def _refresh_repairing(self) -> None:
        feed = self._feed
        if feed is None:
            return
        interval = self.interval.name
        now = frozenset(symbol for symbol, stream_interval in feed.repairing
                        if stream_interval == interval and symbol in self._rows)
        if now == self._reported_repairing:
            return
        for symbol in now ^ self._reported_repairing:
            self._store(replace(self._rows[symbol], repairing=symbol in now))
        self._reported_repairing = now


#: allocations between young collections while a watchlist runs (CPython's default is 700)
YOUNG_COLLECTION_THRESHOLD = 10_000


def calm_collector() -> Callable[[], None]:
    """Keep the garbage collector's full passes from freezing the loop under a watchlist.

    Measured (benchmarks/watchlist_load.py, 300 symbols): every row's engine replaces its
    Snapshot about once a second; with CPython's default thresholds a young collection runs
    every 700 allocations (~25 ms here), so each Snapshot outlives two of them and is
    promoted to the old generation, which then fills fast enough for a full collection every
    2-3 s, each walking ~150k objects for 200-400 ms: keys waited behind them (p99 > 100 ms).
    So, once the rows are built: `gc.freeze()` moves what exists (widgets, strategies,
    series) out of the collector's sight, and young collections are spaced out so that a
    Snapshot usually dies young. Called by the front ends that run a watchlist (`watch`, the
    Watchlist screen), never by the engine itself: it is a setting of the whole process, and
    the returned function puts it back when the watchlist goes.
    """
    import gc

    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(before[0], YOUNG_COLLECTION_THRESHOLD), *before[1:])

    def restore() -> None:
        gc.set_threshold(*before)
        gc.unfreeze()

    return restore


def _day_change(price: float | None, ticker: Ticker24h | None) -> float | None:
    if price is None or ticker is None or ticker.open_price <= 0:
        return None
    return (price / ticker.open_price - 1.0) * 100.0
