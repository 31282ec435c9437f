"""`cryptoai-tui stream`: every closed candle of one or more symbols, one line each, as it closes.

stdout carries only candles (JSON lines or CSV with a header), flushed line by line so a
pipe sees each candle at once; every status sentence goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TextIO

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.market import CandleEvent

if TYPE_CHECKING:
    from cryptoai_tui.exchanges.base import ExchangeProtocol
    from cryptoai_tui.feed.status import FeedStatus

#: the most history one run may ask for (10 REST pages of 1000 on Binance)
MAX_HISTORY = 10_000

CSV_COLUMNS = ("exchange", "symbol", "interval", "open_time", "close_time", "open", "high", "low", "close",
               "volume", "backfilled")


class CandleWriter:
    """Formats closed candles as JSON lines or CSV rows and flushes each one."""

    def __init__(self, out: TextIO, fmt: str, exchange: str) -> None:
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
        if message and message != self._last:
            self._last = message
            print(f"cryptoai-tui: {message}", file=self.err, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.history < 0 or args.history > MAX_HISTORY:
        raise UserFacingError(f"--history must be between 0 and {MAX_HISTORY} candles, not {args.history}.")
    try:
        asyncio.run(_stream(args))
    except BrokenPipeError:
        # The reader went away (`| head`); point stdout at nothing so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        pass
    return 0


async def _stream(args: argparse.Namespace) -> None:
    from cryptoai_tui.exchanges.errors import (
        ExchangeError,
        InvalidIntervalError,
        InvalidSymbolError,
        MarketKindMismatchError,
    )
    from cryptoai_tui.exchanges.registry import resolve_symbol
    from cryptoai_tui.feed import FeedStatus, KlineFeed

    status = StatusWriter(sys.stderr)
    async with _open_protocol(args) as protocol:
        try:
            symbols = [resolve_symbol(protocol, text) for text in args.symbols]
            feed = KlineFeed(protocol, [(symbol, args.interval) for symbol in symbols], history=args.history)
        except (InvalidIntervalError, MarketKindMismatchError) as error:
            raise UserFacingError(str(error)) from None
        except ValueError as error:  # an unreadable symbol
            raise UserFacingError(str(error)) from None
        try:
            await feed.validate(on_wait=lambda message, wait: status.line(message))
        except InvalidSymbolError as error:
            raise UserFacingError(str(error)) from None
        except ExchangeError as error:
            raise UserFacingError(str(error)) from None
        writer = CandleWriter(sys.stdout, args.format, args.exchange)
        try:
            async with feed:
                async for event in feed:
                    if type(event) is CandleEvent:
                        if event.candle.closed:
                            writer.candle(event)
                    elif isinstance(event, FeedStatus):
                        status.status(event)
        except (InvalidSymbolError, InvalidIntervalError) as error:
            raise UserFacingError(str(error)) from None
        except ExchangeError as error:
            raise UserFacingError(str(error)) from None


@contextlib.asynccontextmanager
async def _open_protocol(args: argparse.Namespace) -> AsyncIterator[ExchangeProtocol]:
    """The exchange's protocol; for `--exchange sim` a simulator running in this process."""
    from cryptoai_tui.wiring import open_protocol

    try:
        async with open_protocol(args.exchange, args.ws_url, args.rest_url) as protocol:
            yield protocol
    except ValueError as error:  # a bad --ws-url/--rest-url or simulator setting, as a sentence
        raise UserFacingError(str(error)) from None
