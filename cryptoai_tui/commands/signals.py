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
from typing import TYPE_CHECKING, Any, Callable, TextIO

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot
from cryptoai_tui.strategies.signal import Action

if TYPE_CHECKING:
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.wiring import SimulatorSettings


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
    """Reports connection changes on stderr so stdout stays pure JSON lines.

    An ERROR with no retry planned means the feed gave up: `failed` turns True and
    `on_failure` (the command's stop) is called once, so the run ends with a non-zero exit
    instead of waiting forever."""

    def __init__(self, err: TextIO, on_failure: Callable[[], object] | None = None) -> None:
        self.err = err
        self.on_failure = on_failure
        self.failed = False
        self._last: tuple[Any, str] | None = None
        self.printed: set[str] = set()

    def __call__(self, snapshot: Snapshot) -> None:
        from cryptoai_tui.exchanges.redact import mask_secrets
        from cryptoai_tui.feed.status import ConnectionState

        message = mask_secrets(snapshot.state_message)
        key = (snapshot.state, message)
        if key != self._last and message:
            self._last = key
            self.printed.add(message)
            # the feed carries the retry time as data; this front end says it in words
            from cryptoai_tui.feed.status import retry_sentence

            retry = retry_sentence(snapshot.state, snapshot.retry_in)
            line = f"{message} {retry}" if retry else message
            print(f"cryptoai-tui: {line}", file=self.err, flush=True)
        if snapshot.state is ConnectionState.ERROR and snapshot.retry_in is None and not self.failed:
            self.failed = True
            if self.on_failure is not None:
                self.on_failure()


def run(args: argparse.Namespace) -> int:
    from cryptoai_tui.engine import EngineOptions, RealtimeStrategyEngine
    from cryptoai_tui.exchanges.errors import ExchangeError
    from cryptoai_tui.market.interval import Interval
    from cryptoai_tui.market.symbol import parse_symbol
    from cryptoai_tui.replay import ReplaySource
    from cryptoai_tui.strategies.signal import ConfluenceMode
    from cryptoai_tui.wiring import exchange_display_name

    try:
        symbol = parse_symbol(args.symbol).name
        interval = Interval.parse(args.interval)
        mode = ConfluenceMode.parse(args.mode or "majority")
        replay = ReplaySource.from_csv(args.replay, symbol, interval) if args.replay else None
        exchange = "replay" if replay is not None else args.exchange
        engine = RealtimeStrategyEngine(
            symbol, interval, args.strategies, mode, exchange,
            options=EngineOptions(venue=exchange_display_name(exchange, args.ws_url, args.rest_url)),
        )
    except (ValueError, KeyError) as error:
        raise UserFacingError(_sentence(error)) from None
    from cryptoai_tui.commands.running import run_until_stopped, simulator_settings
    from cryptoai_tui.exchanges.redact import mask_secrets

    simulator = simulator_settings(args) if replay is None else None
    seed = simulator.effective_seed if simulator is not None else None
    printer = SignalPrinter(sys.stdout, flush_each=replay is None)
    status = StatusPrinter(sys.stderr)
    engine.add_listener(on_confirmed=printer, on_snapshot=status if replay is None else None)

    async def run_engine() -> None:
        if replay is not None:
            await engine.run(replay)
            return
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []  # held, so the stop task is not collected
        status.on_failure = lambda: stopping.append(loop.create_task(engine.stop()))
        await _run_live(engine, args, simulator)

    try:
        stopped = run_until_stopped(run_engine())
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ExchangeError as error:
        if mask_secrets(str(error)) in status.printed:
            return 2  # the feed's ERROR status already said it, in the same words
        raise UserFacingError(mask_secrets(str(error))) from None
    sys.stdout.flush()
    if seed is not None:
        print(f"cryptoai-tui: the simulated exchange ran with seed {seed}; --seed {seed} replays this "
              "market.", file=sys.stderr, flush=True)
    if stopped is not None:
        return stopped
    return 2 if status.failed else 0


async def _run_live(engine: RealtimeStrategyEngine, args: argparse.Namespace,
                    simulator: SimulatorSettings | None) -> None:
    """The engine over a live KlineFeed built by the composition root."""
    from cryptoai_tui.wiring import open_kline_feed

    async with open_kline_feed(engine.exchange, args.symbol, engine.interval.name,
                               args.ws_url, args.rest_url, simulator=simulator) as feed:
        await engine.run(feed)


def _sentence(error: BaseException) -> str:
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    return text or type(error).__name__
