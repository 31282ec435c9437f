"""`cryptoai-tui signals`: one JSON line per confirmed BUY or SELL, live or over a CSV.

Live and `--replay` share everything but the source: the engine, its evaluation order and
this printer, so a replay of the candles a live run saw prints the same lines. By default
only confirmed confluence BUY/SELL verdicts are printed (what a trader acts on);
`--all-candles` prints every evaluated closed candle after warm-up, HOLDs included, which
is what tests and scripts that study the strategies read.

Lines are encoded with orjson when it is installed (a dependency; several times faster
than the standard library on these lines), else with `json`; both give the same text
shape and both write NaN and infinities as null, so every line is strict JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import numbers
import os
import re
import sys
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot, StrategyRow
from cryptoai_tui.strategies.signal import Action, Stance

if TYPE_CHECKING:
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.wiring import SimulatorSettings

Encoder = Callable[[dict[str, Any]], str]


@dataclass(frozen=True, slots=True)
class LineContext:
    """What every line says about where it comes from: the confirmed signal itself only
    knows its candle."""

    exchange: str
    symbol: str
    interval: str


def iso_time(open_time_ms: int) -> str:
    """A candle's open time as ISO 8601 UTC ("2020-12-01T00:00:00Z"); candles open on whole
    seconds, so no fraction is written."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(open_time_ms // 1000))


def confirmed_signal_json(signal: ConfirmedSignal, context: LineContext) -> dict[str, Any]:
    """The documented line (README, "signals"): exchange, symbol, interval, open_time, time,
    close, history, confluence {mode, action, confidence, triggered_by, confirmed_by,
    opposed_by, reason} and strategies {name: {action, stance, confidence, values}}, where a
    strategy's `action` is its trigger (BUY/SELL) or HOLD/WARMUP/ERROR. Non-finite numbers
    become null."""
    line = _line(signal, context)
    line["close"] = _number(signal.close)
    line["confluence"]["confidence"] = _number(signal.confluence.confidence)
    for entry in line["strategies"].values():
        entry["confidence"] = _number(entry["confidence"])
        entry["values"] = {key: _number(value) for key, value in entry["values"].items()}
    return line


def _line(signal: ConfirmedSignal, context: LineContext) -> dict[str, Any]:
    """The line as plain dicts and numbers as they are (the encoders write NaN as null)."""
    confluence = signal.confluence
    return {
        "exchange": context.exchange,
        "symbol": context.symbol,
        "interval": context.interval,
        "open_time": signal.open_time,
        "time": iso_time(signal.open_time),
        "close": signal.close,
        "history": signal.history,
        "confluence": {
            "mode": confluence.mode.value,
            "action": confluence.action.value,
            "confidence": confluence.confidence,
            "triggered_by": list(confluence.triggered_by),
            "confirmed_by": list(confluence.confirmed_by),
            "opposed_by": list(confluence.opposed_by),
            "reason": confluence.reason,
        },
        "strategies": _strategies(signal.rows),
    }


def _strategies(rows: tuple[StrategyRow, ...]) -> dict[str, dict[str, Any]]:
    """Each row's entry of a line. A replay writes eleven per candle: the enums' texts come
    from a dict (an Enum's `.value` is a property, several times the cost of the lookup)."""
    text = _ENUM_TEXT
    entries: dict[str, dict[str, Any]] = {}
    for row in rows:
        signal = row.signal
        entries[row.name] = {
            "action": text[signal.action],
            "stance": text[signal.stance],
            "confidence": signal.confidence,
            "values": dict(signal.values),
        }
    return entries


#: every Action's and Stance's text, by member (see `_strategies`)
_ENUM_TEXT: dict[Enum, str] = {member: member.value for kind in (Action, Stance) for member in kind}


def _plain_number(value: object) -> float | int:
    """The encoders' fallback for number types they do not know (numpy integers and floats
    register with the `numbers` ABCs); anything else is a bug worth a clear TypeError."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"Cannot write {type(value).__name__} in a signal line.")


def _json_encoder() -> Encoder:
    """The standard library's encoder, with non-finite numbers rebuilt as null (json would
    write the non-standard NaN/Infinity tokens)."""

    def encode(line: dict[str, Any]) -> str:
        text = json.dumps(line, separators=(",", ":"), default=_plain_number)
        if "NaN" in text or "Infinity" in text:
            text = json.dumps(_nulled(line), separators=(",", ":"), allow_nan=False, default=_plain_number)
        return text

    return encode


def _orjson_encoder() -> Encoder | None:
    try:
        import orjson
    except ImportError:
        return None
    dumps = orjson.dumps

    def encode(line: dict[str, Any]) -> str:
        return dumps(line, default=_plain_number).decode()

    return encode


def line_encoder(prefer_orjson: bool = True) -> Encoder:
    """orjson if installed (and wanted), else json; the benchmark measures both."""
    fast = _orjson_encoder() if prefer_orjson else None
    return fast or _json_encoder()


def _nulled(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulled(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def confirmed_signal_line(signal: ConfirmedSignal, context: LineContext, encode: Encoder | None = None) -> str:
    """`confirmed_signal_json` as one JSON line, built without its per-number checks (a
    replay prints thousands of lines a second): the encoder writes non-finite as null."""
    return (encode or _DEFAULT_ENCODER)(_line(signal, context))


def is_warmed_up(signal: ConfirmedSignal) -> bool:
    """True once no chosen strategy is still waiting for its lookback."""
    warmup = Action.WARMUP
    for row in signal.rows:  # a loop, not all(generator): once per confirmed candle
        if row.signal.action is warmup:
            return False
    return True


def is_actionable(signal: ConfirmedSignal) -> bool:
    """A confirmed confluence BUY or SELL: what `signals` prints by default."""
    return signal.confluence.action in (Action.BUY, Action.SELL)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    return number if math.isfinite(number) else None


class SignalPrinter:
    """Writes confirmed signals after warm-up as JSON lines (all candles, or only BUY/SELL);
    flushes each one when live, so a reader sees a signal the moment its candle closes."""

    def __init__(
        self, out: TextIO, flush_each: bool, context: LineContext, *,
        all_candles: bool = False, encode: Encoder | None = None,
    ) -> None:
        self.out = out
        self.flush_each = flush_each
        self.context = context
        self.all_candles = all_candles
        self.encode = encode or _DEFAULT_ENCODER
        self.lines = 0
        #: the newest candle printed: a stream whose history arrived late is evaluated again
        #: from its start, and a reader must not get a candle twice or a line out of order
        self._last_open: int | None = None

    def __call__(self, signal: ConfirmedSignal) -> None:
        if not self.all_candles and not is_actionable(signal):
            return
        if not is_warmed_up(signal):
            return
        if self._last_open is not None and signal.open_time <= self._last_open:
            return
        self._last_open = signal.open_time
        self.out.write(self.encode(_line(signal, self.context)) + "\n")
        self.lines += 1
        if self.flush_each:
            self.out.flush()


_DEFAULT_ENCODER = line_encoder()

#: the symbol a candle file's name starts with ("BTCUSDT-1h.csv"), as the simulator reads it
_NAME_TOKEN = re.compile(r"^([A-Za-z0-9]{2,20})(?:[-_.].*)?$")


def csv_symbol(path: str | Path) -> str | None:
    """The symbol a replay CSV names, or None when it names none.

    The format has no symbol column, so only the file name can say: its first token counts
    when it reads as a pair with a known quote asset (BTCUSDT-1h.csv, ethbtc_1m.csv), not
    when it is any word ("seen.csv", "candles.csv")."""
    from cryptoai_tui.market.symbol import split_pair

    match = _NAME_TOKEN.match(Path(path).stem)
    if match is None:
        return None
    name = match.group(1).upper()
    base, quote = split_pair(name)
    return name if base and quote else None


def replay_symbol_problem(path: str | Path, symbol: str) -> str | None:
    """A sentence when `--symbol` contradicts the symbol the CSV names (the lines would
    label one market's candles as another's), else None."""
    named = csv_symbol(path)
    if named is None or named == symbol:
        return None
    file = Path(path).name
    return (
        f"{file} holds {named} candles but --symbol is {symbol}: pass --symbol {named}, or "
        f"rename the file if it really holds {symbol}."
    )


class StatusPrinter:
    """Reports connection changes on stderr so stdout stays pure JSON lines.

    An ERROR with no retry planned means the feed gave up: `failed` turns True and
    `on_failure` (the command's stop) is called once, so the run ends with a non-zero exit
    instead of waiting forever."""

    def __init__(self, err: TextIO, on_failure: Callable[[], object] | None = None) -> None:
        self.err = err
        self.on_failure = on_failure
        self.failed = False
        self._last: tuple[Any, str, float | None] | None = None
        self.printed: set[str] = set()

    def __call__(self, snapshot: Snapshot) -> None:
        from cryptoai_tui.exchanges.redact import mask_secrets
        from cryptoai_tui.feed.status import ConnectionState

        message = mask_secrets(snapshot.state_message)
        # a new retry time is a new attempt: two refusals in a row say the same words, and
        # each is worth a line (their "Connecting to" between may share a burst and be skipped)
        key = (snapshot.state, message, snapshot.retry_at)
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
    from cryptoai_tui.strategies.confluence import parse_mode
    from cryptoai_tui.strategies.registry import check_fits
    from cryptoai_tui.wiring import exchange_display_name

    try:
        symbol = parse_symbol(args.symbol).name
        interval = Interval.parse(args.interval)
        mode = parse_mode(args.mode or "majority")
        if args.replay:
            problem = replay_symbol_problem(args.replay, symbol)
            if problem is not None:
                raise UserFacingError(problem)
        replay = ReplaySource.from_csv(args.replay, symbol, interval) if args.replay else None
        exchange = "replay" if replay is not None else args.exchange
        options = EngineOptions(venue=exchange_display_name(exchange, args.ws_url, args.rest_url))
        engine = RealtimeStrategyEngine(symbol, interval, args.strategies, mode, exchange, options=options)
        # refused before anything connects: a strategy that needs more candles than the
        # window holds would print nothing, forever
        check_fits(engine.strategies, options.window)
    except (ValueError, KeyError) as error:
        raise UserFacingError(_sentence(error)) from None
    from cryptoai_tui.commands.running import run_until_stopped, simulator_settings
    from cryptoai_tui.exchanges.redact import mask_secrets

    from cryptoai_tui.sinks import open_sink, sink_key

    simulator = simulator_settings(args) if replay is None else None
    seed = simulator.effective_seed if simulator is not None else None
    sink = open_sink(getattr(args, "sink", None))  # stdout, or kafka:// keyed by this stream
    printer = SignalPrinter(
        sink.text(key=sink_key(exchange, symbol, interval.name)), flush_each=replay is None,
        context=LineContext(exchange, symbol, interval.name),
        all_candles=bool(getattr(args, "all_candles", False)),
    )
    status = StatusPrinter(sys.stderr)
    engine.add_listener(on_confirmed=printer, on_snapshot=status if replay is None else None)
    from cryptoai_tui.commands.journal import hooks_plan  # the journal and alerts (issue 13)
    from cryptoai_tui.journal.hooks import session_hooks

    plan = hooks_plan(args, replay=replay is not None)

    async def run_engine() -> None:
        async with session_hooks(engine, plan):
            if replay is not None:
                await engine.run(replay)
                return
            loop = asyncio.get_running_loop()
            stopping: list[asyncio.Task[None]] = []  # held, so the stop task is not collected
            status.on_failure = lambda: stopping.append(loop.create_task(engine.stop()))
            await _run_live(engine, args, simulator)

    undelivered = 0
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
    finally:
        undelivered = sink.close()  # flushed on every way out; failures said on stderr
    sys.stdout.flush()
    if seed is not None:
        print(f"cryptoai-tui: the simulated exchange ran with seed {seed}; --seed {seed} replays this "
              "market.", file=sys.stderr, flush=True)
    if stopped is not None:
        return stopped
    return 2 if status.failed or undelivered else 0


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
