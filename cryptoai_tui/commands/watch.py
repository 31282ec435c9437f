"""`cryptoai-tui watch`: many symbols on one connection, one JSON line per confirmed signal.

Each line is what `signals` prints for one symbol, with `exchange`, `symbol` and `interval`
first so lines of several symbols can be told apart (and keyed: `exchange:symbol:interval`).
Every line leaves through `LineOut.emit`, the one place a sink other than stdout (Kafka)
plugs in. `open_watch_feed` is the composition the app's Watchlist screen uses too, so the
command and the screen read the same feed the same way.
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
    from cryptoai_tui.snapshot import ConfirmedSignal

#: closed candles each symbol loads before going live: enough for the longest lookback (50)
#: to warm up with room, small enough that 300 symbols bootstrap in moments
DEFAULT_HISTORY = 150


class LineOut:
    """Where each JSON line goes. `emit` is the single exit: a Kafka sink replaces it and
    publishes `line` under `key` (`exchange:symbol:interval`, so each stream stays in order)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines = 0

    def emit(self, key: str, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()
        self.lines += 1


class WatchPrinter:
    """Turns every warmed-up confirmed signal of every symbol into one line for `LineOut`."""

    def __init__(self, exchange: str, interval: str, sink: LineOut) -> None:
        self.exchange = exchange
        self.interval = interval
        self.sink = sink

    def __call__(self, symbol: str, signal: ConfirmedSignal) -> None:
        from cryptoai_tui.commands.signals import is_warmed_up

        if not is_warmed_up(signal):
            return
        self.sink.emit(f"{self.exchange}:{symbol}:{self.interval}",
                       watch_signal_line(self.exchange, symbol, self.interval, signal))


def watch_signal_line(exchange: str, symbol: str, interval: str, signal: ConfirmedSignal) -> str:
    """`signals`' line for `signal` with exchange, symbol and interval in front."""
    import json

    from cryptoai_tui.commands.signals import confirmed_signal_line

    head = json.dumps({"exchange": exchange, "symbol": symbol, "interval": interval})
    return head[:-1] + ", " + confirmed_signal_line(signal)[1:]


@asynccontextmanager
async def open_watch_feed(
    exchange: str,
    symbols: Sequence[str],
    interval: str,
    ws_url: str | None = None,
    rest_url: str | None = None,
    *,
    top: int | None = None,
    history: int = DEFAULT_HISTORY,
    feed_config: FeedConfig | None = None,
    sim_config: SimConfig | None = None,
) -> AsyncIterator[tuple[KlineFeed, list[str], TickerReader]]:
    """A started KlineFeed of every watched symbol (one connection where the exchange
    allows), the symbols it watches (`symbols`, then the `top` most-traded by 24 h quote
    volume), and the reader of the 24 h tickers. Unknown symbols are refused with close
    matches before anything connects (Binance would otherwise acknowledge them and stay
    silent)."""
    import httpx

    from cryptoai_tui.exchanges.base import top_by_turnover
    from cryptoai_tui.exchanges.rest import RestClient
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.feed.kline_feed import KlineFeed
    from cryptoai_tui.wiring import market_kind_of, open_protocol

    async with open_protocol(exchange, ws_url, rest_url, sim_config=sim_config,
                             market_kind=market_kind_of(symbols)) as protocol:
        async with httpx.AsyncClient() as http:
            rest = RestClient(protocol, http)
            names = list(symbols)
            if top is not None:
                names.extend(top_by_turnover(await rest.get_tickers(), top))
            names = list(dict.fromkeys(names))
            feed = KlineFeed(protocol, [(name, interval) for name in names], history=history,
                             config=feed_config or FeedConfig(), http=http)
            await feed.validate()
            async with feed:
                yield feed, [symbol for symbol, _ in feed.streams], rest.get_tickers


def run(args: argparse.Namespace) -> int:
    from cryptoai_tui.commands.running import apply_sim_options, run_until_stopped
    from cryptoai_tui.commands.signals import StatusPrinter
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.exchanges.redact import mask_secrets
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.symbol import parse_symbol
    from cryptoai_tui.strategies.signal import ConfluenceMode

    try:
        symbols = [parse_symbol(text).name for text in args.symbols]
        interval = Interval.parse(args.interval)
        mode = ConfluenceMode.parse(args.mode or "majority")
        if args.top is not None and args.top < 1:
            raise ValueError(f"--top takes 1 or more symbols, not {args.top}.")
        if not symbols and args.top is None:
            raise ValueError("Give the symbols to watch (e.g. cryptoai-tui watch BTCUSDT ETHUSDT) "
                             "or --top N for the N most-traded.")
        if args.history < 0:
            raise ValueError(f"--history must be 0 or more candles, not {args.history}.")
    except (ValueError, KeyError) as error:
        raise UserFacingError(str(error.args[0] if error.args else error)) from None
    seed = apply_sim_options(args)
    status = StatusPrinter(sys.stderr)
    sink = LineOut(sys.stdout)
    printer = WatchPrinter(args.exchange, interval.name, sink)

    async def main() -> None:
        from cryptoai_tui.engine.watchlist import WatchlistEngine

        async with open_watch_feed(args.exchange, symbols, interval.name, args.ws_url, args.rest_url,
                                   top=args.top, history=args.history) as (feed, names, tickers):
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

    try:
        stopped = run_until_stopped(main())
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
    return 2 if status.failed else 0


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
