"""`cryptoai-tui signals`: one JSON line per confirmed signal, live or over a CSV.

Live and `--replay` share everything but the source: the engine, its evaluation order and
this printer, so a replay of the candles a live run saw prints the same lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from typing import Any, TextIO

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot
from cryptoai_tui.strategies.signal import Action


def confirmed_signal_json(signal: ConfirmedSignal) -> dict[str, Any]:
    """The documented line: open_time, close, confluence {mode, action, confidence, agree},
    strategies {name: {action, confidence, values}}. Non-finite numbers become null."""
    confluence = signal.confluence
    return {
        "open_time": signal.open_time,
        "close": _number(signal.close),
        "confluence": {
            "mode": confluence.mode.value,
            "action": confluence.action.value,
            "confidence": _number(confluence.confidence),
            "agree": list(confluence.agree),
        },
        "strategies": {
            row.name: {
                "action": row.signal.action.value,
                "confidence": _number(row.signal.confidence),
                "values": {key: _number(value) for key, value in row.signal.values.items()},
            }
            for row in signal.rows
        },
    }


def confirmed_signal_line(signal: ConfirmedSignal) -> str:
    """`confirmed_signal_json` as one JSON line, without its per-number checks on the
    common path: numbers are dumped as they are and only a line that came out with NaN or
    Infinity is rebuilt with nulls (a replay prints thousands of lines a second)."""
    confluence = signal.confluence
    line = json.dumps({
        "open_time": signal.open_time,
        "close": signal.close,
        "confluence": {
            "mode": confluence.mode.value,
            "action": confluence.action.value,
            "confidence": confluence.confidence,
            "agree": list(confluence.agree),
        },
        "strategies": {
            row.name: {
                "action": row.signal.action.value,
                "confidence": row.signal.confidence,
                "values": dict(row.signal.values),
            }
            for row in signal.rows
        },
    })
    if "NaN" in line or "Infinity" in line:
        line = json.dumps(confirmed_signal_json(signal), allow_nan=False)
    return line


def is_warmed_up(signal: ConfirmedSignal) -> bool:
    """True once no chosen strategy is still waiting for its lookback."""
    return all(row.signal.action is not Action.WARMUP for row in signal.rows)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    return number if math.isfinite(number) else None


class SignalPrinter:
    """Writes warmed-up confirmed signals as JSON lines; flushes each one when live."""

    def __init__(self, out: TextIO, flush_each: bool) -> None:
        self.out = out
        self.flush_each = flush_each
        self.lines = 0

    def __call__(self, signal: ConfirmedSignal) -> None:
        if not is_warmed_up(signal):
            return
        self.out.write(confirmed_signal_line(signal) + "\n")
        self.lines += 1
        if self.flush_each:
            self.out.flush()


class StatusPrinter:
    """Reports connection changes on stderr so stdout stays pure JSON lines."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self._last: tuple[Any, str] | None = None
        self.printed: set[str] = set()

    def __call__(self, snapshot: Snapshot) -> None:
        key = (snapshot.state, snapshot.state_message)
        if key != self._last and snapshot.state_message:
            self._last = key
            self.printed.add(snapshot.state_message)
            # the feed carries the retry time as data; this front end says it in words
            from cryptoai_tui.feed.status import retry_sentence

            retry = retry_sentence(snapshot.state, snapshot.retry_in)
            line = f"{snapshot.state_message} {retry}" if retry else snapshot.state_message
            print(f"cryptoai-tui: {line}", file=self.err, flush=True)


def run(args: argparse.Namespace) -> int:
    from cryptoai_tui.engine import RealtimeStrategyEngine, parse_mode
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.symbol import parse_symbol
    from cryptoai_tui.replay import ReplaySource

    try:
        symbol = parse_symbol(args.symbol).name
        interval = Interval.parse(args.interval)
        mode = parse_mode(args.mode or "majority")
        source = ReplaySource.from_csv(args.replay, symbol, interval) if args.replay else None
        printer = SignalPrinter(sys.stdout, flush_each=source is None)
        engine = RealtimeStrategyEngine(
            symbol,
            interval,
            args.strategies,
            mode,
            "replay" if source is not None else args.exchange,
            ws_url=args.ws_url,
            rest_url=args.rest_url,
            source=source,
            on_confirmed=printer,
        )
    except (ValueError, KeyError) as error:
        raise UserFacingError(_sentence(error)) from None
    status = StatusPrinter(sys.stderr)
    if source is None:
        engine.add_snapshot_listener(status)
    try:
        asyncio.run(engine.start())
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ExchangeError as error:
        if str(error) in status.printed:
            return 2  # the feed's ERROR status already said it, in the same words
        raise UserFacingError(str(error)) from None
    sys.stdout.flush()
    return 0


def _sentence(error: BaseException) -> str:
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return text or type(error).__name__
