"""`cryptoai-tui stream`: every closed candle of one or more symbols, one line each, as it closes.

stdout carries only candles (JSON lines or CSV with a header), flushed line by line so a
pipe sees each candle at once; every status sentence goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.market import CandleEvent

if TYPE_CHECKING:
    from cryptoai_tui.feed.status import FeedStatus
    from cryptoai_tui.sinks import LineOutput
    from cryptoai_tui.wiring import SimulatorSettings

#: the most history one run may ask for (10 REST pages of 1000 on Binance)
MAX_HISTORY = 10_000

CSV_COLUMNS = ("exchange", "symbol", "interval", "open_time", "close_time", "open", "high", "low", "close",
               "volume", "backfilled")


class CandleWriter:
    """Formats closed candles as JSON lines or CSV rows and flushes each one."""

    def __init__(self, out: TextIO | LineOutput, fmt: str, exchange: str) -> None:
        self.out = out
        self.fmt = fmt
        self.exchange = exchange
        self.lines = 0
        if fmt == "csv":
            self._write(",".join(CSV_COLUMNS))

    def candle(self, event: CandleEvent) -> None:
        c = event.candle
        if self.fmt == "csv":
            self._write(",".join((self.exchange, event.symbol, event.interval, str(c.open_time), str(c.close_time),
                                  repr(c.open), repr(c.high), repr(c.low), repr(c.close), repr(c.volume),
                                  "true" if event.backfilled else "false")))
        else:
            self._write(json.dumps({
                "exchange": self.exchange, "symbol": event.symbol, "interval": event.interval,
                "open_time": c.open_time, "close_time": c.close_time, "open": c.open, "high": c.high,
                "low": c.low, "close": c.close, "volume": c.volume, "backfilled": event.backfilled,
            }, separators=(",", ":")))
        self.lines += 1

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


class StatusWriter:
    """Status sentences on stderr, without repeating one that did not change."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self._last = ""

    def status(self, status: FeedStatus) -> None:
        # the feed carries the retry time as data; this front end says it in words
        from cryptoai_tui.feed.status import retry_sentence

        retry = retry_sentence(status.state, status.retry_in)
        self.line(f"{status.message} {retry}" if retry else status.message)

    def line(self, message: str) -> None:
        from cryptoai_tui.exchanges.redact import mask_secrets

        message = mask_secrets(message)
        if message and message != self._last:
            self._last = message
            print(f"cryptoai-tui: {message}", file=self.err, flush=True)


class PrintedSpans:
    """The span of closed open times printed per stream, so the replay after a late history
    (FeedStatus.reset: history, then the candles already delivered live) prints the history
    candles (backfilled) and not the live ones a second time. The feed delivers each
    stream's closed candles in order, so what was printed is one span per stream; the
    history printed below it joins the span once the replay's closing status comes."""

    def __init__(self) -> None:
        self._spans: dict[tuple[str, str], tuple[int, int]] = {}
        #: the oldest candle printed below a stream's span during a replay
        self._below: dict[tuple[str, str], int] = {}

    def first_time(self, event: CandleEvent) -> bool:
        """True (and remembered) unless this stream's candle at that open time was printed."""
        key = (event.symbol, event.interval)
        at = event.candle.open_time
        span = self._spans.get(key)
        if span is None:
            self._spans[key] = (at, at)
            return True
        first, last = span
        if first <= at <= last:
            return False
        if at > last:
            self._spans[key] = (first, at)
        else:
            self._below[key] = min(at, self._below.get(key, at))
        return True

    def status(self, status: FeedStatus) -> None:
        """A stream's status ends any replay of it: what it printed below the span joins it."""
        key = (status.symbol or "", status.interval or "")
        below = self._below.pop(key, None)
        if below is not None:
            self._spans[key] = (below, self._spans[key][1])


class FeedFailed(Exception):
    """The feed reported ERROR with no retry planned: the run cannot go on, and the status
    line has already said why."""


def run(args: argparse.Namespace) -> int:
    """Stream until Ctrl+C/SIGTERM (exit 130/143) or until the feed fails (exit 2)."""
    from cryptoai_tui.commands.running import run_until_stopped, simulator_settings

    if args.history < 0 or args.history > MAX_HISTORY:
        raise UserFacingError(f"--history must be between 0 and {MAX_HISTORY} candles, not {args.history}.")
    from cryptoai_tui.sinks import open_sink

    sink_url = getattr(args, "sink", None)
    if sink_url and args.format == "csv" and sink_url.strip() not in ("-", "stdout"):
        raise UserFacingError("--sink publishes JSON lines (one message per candle); leave out --format csv.")
    simulator = simulator_settings(args)
    status = StatusWriter(sys.stderr)
    sink = open_sink(sink_url)  # stdout, or kafka:// keyed by each candle's exchange:symbol:interval
    undelivered = 0
    try:
        stopped = run_until_stopped(_stream(args, status, simulator, sink.text()))
    except BrokenPipeError:
        # The reader went away (`| head`); point stdout at nothing so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except FeedFailed:
        return 2
    finally:
        undelivered = sink.close()  # flushed on every way out; failures said on stderr
    if stopped is not None:
        return stopped
    return 2 if undelivered else 0


@contextlib.contextmanager
def _as_sentence() -> Iterator[None]:
    """An exchange's refusal or an unreadable symbol, URL or setting becomes the one sentence
    the command prints (with any password in a URL masked)."""
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.exchanges.redact import mask_secrets

    try:
        yield
    except (ExchangeError, ValueError) as error:
        raise UserFacingError(mask_secrets(str(error))) from None


async def _stream(args: argparse.Namespace, status: StatusWriter, simulator: SimulatorSettings | None,
                  out: LineOutput) -> None:
    from cryptoai_tui.exchanges.registry import resolve_symbol
    from cryptoai_tui.feed import ConnectionState, FeedStatus, KlineFeed
    from cryptoai_tui.wiring import market_kind_of, open_protocol

    with _as_sentence():
        async with open_protocol(args.exchange, args.ws_url, args.rest_url, simulator=simulator,
                                 market_kind=market_kind_of(args.symbols)) as protocol:
            symbols = [resolve_symbol(protocol, text) for text in args.symbols]
            feed = KlineFeed(protocol, [(symbol, args.interval) for symbol in symbols], history=args.history)
            await feed.validate(on_wait=lambda message, wait: status.line(message))
            if simulator is not None:  # said once the choice is known good, so a typo stays one line
                seed = simulator.effective_seed
                status.line(f"The simulated exchange runs with seed {seed}; --seed {seed} shows this market again.")
            writer = CandleWriter(out, args.format, args.exchange)
            printed = PrintedSpans()
            async with feed:
                async for event in feed:
                    if type(event) is CandleEvent:
                        if event.candle.closed and printed.first_time(event):
                            writer.candle(event)
                    elif isinstance(event, FeedStatus):
                        printed.status(event)
                        status.status(event)
                        if event.state is ConnectionState.ERROR and event.retry_in is None:
                            raise FeedFailed(event.message)
