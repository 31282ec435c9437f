"""`cryptoai-tui watch`: many symbols on one connection, one JSON line per confirmed signal.

Each line is what `signals` prints for one symbol, with `exchange`, `symbol` and `interval`
first so lines of several symbols can be told apart (and keyed: `exchange:symbol:interval`).
Every line leaves through `LineOut.emit`, the one place a sink other than stdout (Kafka)
plugs in. `wiring.open_watch_feed` is the composition the app's Watchlist screen uses too, so
the command and the screen read the same feed the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator, Callable, Sequence, TextIO

from cryptoai_tui.errors import UserFacingError

if TYPE_CHECKING:
    from cryptoai_tui.commands.signals import StatusPrinter
    from cryptoai_tui.engine.watchlist import TickerReader, WatchlistEngine
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed
    from cryptoai_tui.sim.config import SimConfig
    from cryptoai_tui.sinks import Sink
    from cryptoai_tui.snapshot import ConfirmedSignal



class LineOut:
    """Where each JSON line goes: `emit` is the single exit, onto the sink (stdout, or Kafka
    publishing `line` under `key`, `exchange:symbol:interval`, so each stream stays in order)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.lines = 0

    def emit(self, key: str, line: str) -> None:
        self.sink.write(line, key)
        self.lines += 1


class WatchPrinter:
    """Turns every confirmed BUY or SELL of every symbol (with `all_candles`, every warmed-up
    close, as `signals --all-candles`) into one line for `LineOut`."""

    def __init__(self, exchange: str, interval: str, sink: LineOut, *, all_candles: bool = False) -> None:
        self.exchange = exchange
        self.interval = interval
        self.sink = sink
        self.all_candles = all_candles
        #: the newest candle printed per symbol: a stream whose history came late is evaluated
        #: again from its start, and no candle may be printed twice (as signals does)
        self._last_open: dict[str, int] = {}

    def __call__(self, symbol: str, signal: ConfirmedSignal) -> None:
        from cryptoai_tui.commands.signals import is_actionable, is_warmed_up

        if not is_warmed_up(signal) or not (self.all_candles or is_actionable(signal)):
            return
        if signal.open_time <= self._last_open.get(symbol, signal.open_time - 1):
            return
        self._last_open[symbol] = signal.open_time
        self.sink.emit(f"{self.exchange}:{symbol}:{self.interval}",
                       watch_signal_line(self.exchange, symbol, self.interval, signal))


def watch_signal_line(exchange: str, symbol: str, interval: str, signal: ConfirmedSignal) -> str:
    """`signals`' line for `signal`: it names exchange, symbol and interval first, so lines of
    several symbols can be told apart (and keyed)."""
    from cryptoai_tui.commands.signals import LineContext, confirmed_signal_line

    return confirmed_signal_line(signal, LineContext(exchange, symbol, interval))


def run(args: argparse.Namespace) -> int:
    from cryptoai_tui.commands.running import run_until_stopped, simulator_settings
    from cryptoai_tui.commands.signals import StatusPrinter
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.exchanges.redact import mask_secrets
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.symbol import parse_symbol
    from cryptoai_tui.sinks import open_sink
    from cryptoai_tui.strategies.confluence import parse_mode

    try:
        symbols = [parse_symbol(text).name for text in args.symbols]
        interval = Interval.parse(args.interval)
        mode = parse_mode(args.mode or "majority")
        if args.top is not None and args.top < 1:
            raise ValueError(f"--top takes 1 or more symbols, not {args.top}.")
        if not symbols and args.top is None:
            raise ValueError("Give the symbols to watch (e.g. cryptoai-tui watch BTCUSDT ETHUSDT) "
                             "or --top N for the N most-traded.")
        if args.history < 0:
            raise ValueError(f"--history must be 0 or more candles, not {args.history}.")
    except (ValueError, KeyError) as error:
        raise UserFacingError(str(error.args[0] if error.args else error)) from None
    simulator = simulator_settings(args)
    seed = simulator.effective_seed if simulator is not None else None
    status = StatusPrinter(sys.stderr)
    sink = open_sink(getattr(args, "sink", None))  # stdout, or kafka:// keyed per stream
    printer = WatchPrinter(args.exchange, interval.name, LineOut(sink),
                           all_candles=bool(getattr(args, "all_candles", False)))

    async def main() -> None:
        from cryptoai_tui.engine.watchlist import WatchlistEngine
        from cryptoai_tui.wiring import open_watch_feed

        async with open_watch_feed(args.exchange, symbols, interval.name, args.ws_url, args.rest_url,
                                   top=args.top, history=args.history, simulator=simulator) as (feed, names, tickers):
            try:
                engine = WatchlistEngine(names, interval, args.strategies, mode, args.exchange)
            except (ValueError, KeyError) as error:
                raise UserFacingError(str(error.args[0] if error.args else error)) from None
            engine.add_listener(printer)
            # Connection-wide statuses reach every row; one row's engine says them once.
            first = engine.engine(engine.symbols[0])
            first.add_listener(on_snapshot=status)
            print(f"cryptoai-tui: watching {len(names)} symbols on {interval.name}: "
                  f"{_shown(names)}.", file=sys.stderr, flush=True)
            await _run_engine(engine, feed, tickers, status)

    undelivered = 0
    try:
        try:
            stopped = run_until_stopped(main())
        finally:
            undelivered = sink.close()  # flushed on every exit; failures already said
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ExchangeError as error:
        if mask_secrets(str(error)) in status.printed:
            return 2
        raise UserFacingError(mask_secrets(str(error))) from None
    sys.stdout.flush()
    if seed is not None:
        print(f"cryptoai-tui: the simulated exchange ran with seed {seed}; --seed {seed} replays this "
              "market.", file=sys.stderr, flush=True)
    if stopped is not None:
        return stopped
    return 2 if status.failed or undelivered else 0


async def _run_engine(engine: WatchlistEngine, feed: KlineFeed, tickers: TickerReader,
                      status: StatusPrinter) -> None:
    """Run until the feed ends, the user stops it, or the feed gives up (status ERROR)."""
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []  # held, so the stop task is not collected
    status.on_failure = lambda: stopping.append(loop.create_task(engine.stop()))

    restore: list[Callable[[], None]] = []

    async def calm_when_live() -> None:
        from cryptoai_tui.engine.watchlist import calm_collector

        while not all(row.state is ConnectionState.LIVE and row.price is not None for row in engine.rows()):
            await asyncio.sleep(1.0)
        restore.append(calm_collector())

    from cryptoai_tui.feed.status import ConnectionState

    calming = asyncio.ensure_future(calm_when_live())
    try:
        await engine.run(feed, tickers)
    finally:
        calming.cancel()
        for undo in restore:
            undo()


def _shown(names: Sequence[str], limit: int = 8) -> str:
    head = ", ".join(names[:limit])
    return head if len(names) <= limit else f"{head} and {len(names) - limit} more"
