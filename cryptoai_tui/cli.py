"""Command line: argument parsing and dispatch only.

Each command's work lives in `cryptoai_tui/commands/<name>.py` and is imported only when
that command runs, so `cryptoai-tui --help` stays instant and pandas never loads at start.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from typing import Callable, NoReturn, Sequence

from cryptoai_tui.alerts.rules import GRAMMAR as ALERT_GRAMMAR
from cryptoai_tui.errors import Terminated, UserFacingError, raise_terminated

# These names are copied here, not imported, so `--help` loads nothing heavy; the tests
# (test_strategy_registry, test_exchange_registry, test_sim_faults) keep the copies in sync.
EXCHANGES = ("binance", "binanceus", "binance-futures", "bybit-spot", "bybit-linear", "sim")
STRATEGY_NAMES = (
    "rsi", "ema_cross", "bollinger", "macd", "stochastic", "adx",
    "bos", "choch", "order_block", "fvg", "liquidity_sweep",
)
MODES = ("all", "any", "majority")
FAULTS = (
    "drop", "drop-1008", "stall", "malformed", "duplicate", "reorder", "missing-final",
    "rest-429", "rest-418", "rest-5xx", "restart",
)


#: exit status after Ctrl+C (128 + SIGINT), as shells report a process stopped by it
EXIT_INTERRUPTED = 128 + signal.SIGINT
#: exit status after SIGTERM (128 + SIGTERM): stopped on request, cleanly
EXIT_TERMINATED = 128 + signal.SIGTERM
_ARGUMENT_PREFIX = re.compile(r"^argument [^:]+: ")


class _Parser(argparse.ArgumentParser):
    """argparse that states a mistake in one sentence, not the whole usage text."""

    def error(self, message: str) -> NoReturn:
        message = _ARGUMENT_PREFIX.sub("", message)
        if not message.endswith("."):
            message += "."
        if not any(words in message for words in ("Valid values", "such as", "e.g.")):
            message += f" See {self.prog} --help."
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def _choice(option: str, noun: str, choices: Sequence[str]) -> Callable[[str], str]:
    """A case-insensitive choice: `--exchange Binance` means binance."""

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value in choices:
            return value
        if not value:
            raise argparse.ArgumentTypeError(f"{option} is empty; give one of: {', '.join(choices)}")
        raise argparse.ArgumentTypeError(
            f"{option} {text!r} is not {noun}. Valid values: {', '.join(choices)}")

    return parse


def _text(option: str, example: str) -> Callable[[str], str]:
    """A value that must not be empty (`--symbol ""` is a mistake, not "no symbol")."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{option} is empty; give a value such as {example}")
        return text.strip()

    return parse


def _url(option: str, kind: str) -> Callable[[str], str]:
    """A base URL checked before anything starts: ws(s):// for WebSockets, http(s):// for REST."""

    def parse(text: str) -> str:
        from cryptoai_tui.wiring import check_endpoint_urls

        try:
            if kind == "ws":
                check_endpoint_urls(text, None, ws_name=option)
            else:
                check_endpoint_urls(None, text, rest_name=option)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
        return text.strip()

    return parse


def _mode(text: str) -> str:
    """all, any or majority in any case, or a positive whole number K (at least K of the
    chosen strategies on the trigger's side; checked against N once the strategies are known)."""
    value = text.strip().lower()
    if value in MODES or (value.isdigit() and int(value) > 0):
        return value
    raise argparse.ArgumentTypeError(
        f"--mode {text!r} is not a confluence mode. Valid values: {', '.join(MODES)}, or a whole "
        "number K above 0 (a trigger and at least K strategies on its side)")


def _positive_float(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{option} must be a number above 0, not {text!r}")
        return value

    return parse


def _number(option: str) -> Callable[[str], float]:
    """Any number; its range is checked by what it configures, in that one's words."""

    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a number, not {text!r}") from None

    return parse


def _whole(option: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, not {text!r}") from None

    return parse


def _add_connection_options(parser: argparse.ArgumentParser, default_exchange: str, *, remembered: bool = False) -> None:
    """`remembered`: the app's --exchange defaults to the last one used (None here, resolved
    by the app command, which reads the config file)."""
    group = parser.add_argument_group("connection")
    default_text = f"the last one used, else {default_exchange}" if remembered else default_exchange
    group.add_argument(
        "--exchange", type=_choice("--exchange", "an exchange", EXCHANGES),
        default=None if remembered else default_exchange,
        help=f"which exchange to read, one of {', '.join(EXCHANGES)} (default: {default_text}); 'sim' starts the built-in "
             "simulated exchange in-process on a free loopback port",
    )
    group.add_argument(
        "--ws-url", metavar="URL", type=_url("--ws-url", "ws"),
        help="override the WebSocket base (a testnet, a proxy or a simulator, e.g. "
             "ws://127.0.0.1:8765); the exchange's own paths are appended",
    )
    group.add_argument(
        "--rest-url", metavar="URL", type=_url("--rest-url", "rest"),
        help="override the REST base (e.g. http://127.0.0.1:8765); the exchange's own paths "
             "are appended",
    )
    group.add_argument(
        "--seed", type=_whole("--seed"), default=None,
        help="with --exchange sim: seed of the simulated market, to see the same market again "
             "(default: a fresh one each run)",
    )
    group.add_argument(
        "--sim-speed", type=_positive_float("--sim-speed"), default=None, metavar="X",
        help="with --exchange sim: simulated time runs X times faster than real time; 1 is "
             "real time (default 30: a 1m candle closes every 2 s)",
    )


def _add_strategy_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument(
        "--strategies", metavar="LIST", required=required, type=_text("--strategies", "rsi,macd"),
        help="comma-separated strategy names or 'all' ("
             + ", ".join(STRATEGY_NAMES)
             + "); parameters as name:key=value, e.g. 'rsi:period=10,lower=25;macd'. "
               "Use ';' between strategies when a strategy has parameters",
    )
    parser.add_argument(
        "--mode", type=_mode, default=None if not required else "majority",
        help="confluence mode, any case; every mode needs a trigger (a strategy's BUY or SELL on "
             "the candle): all (and no strategy leaning against it), any (and no opposite "
             "trigger), majority (and more than half of the strategies on its side), or a "
             "number K (and at least K of them on its side, e.g. 3 for '3 of 11'); default majority",
    )


def _add_sink_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sink", metavar="URL", type=_text("--sink", "kafka://127.0.0.1:9092/signals"),
        help="where the JSON lines go: stdout (default) or kafka://HOST:PORT[,HOST:PORT]/TOPIC, one "
             "message per line keyed by exchange:symbol:interval (needs pip install "
             "\"cryptoai-tui[kafka]\"); librdkafka options may follow as ?name=value&...",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cryptoai-tui",
        description="A keyboard-driven terminal Strategy Lab for crypto markets. Without a "
                    "command it opens the app.",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "--symbol", metavar="SYMBOL", type=_text("--symbol", "BTCUSDT"),
        help="preselect the asset (ETHUSDT, eth/usdt, ETH/USDT:USDT) and skip its step",
    )
    parser.add_argument(
        "--interval", metavar="INTERVAL", type=_text("--interval", "1m"),
        help="preselect the timeframe (1m, 5m, 1h, ...); with --symbol, --strategies and "
             "--mode the live screen opens straight away",
    )
    _add_strategy_options(parser, required=False)
    _add_session_journal_options(parser)
    _add_connection_options(parser, default_exchange="binance", remembered=True)

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = commands.add_parser(
        "sim", help="run the built-in simulated exchange (Binance and Bybit protocols)",
        description="Serve a simulated exchange on one loopback port: the Binance spot REST "
                    "and WebSocket protocol and the Bybit v5 protocol, with a seeded market "
                    "and optional faults. Stop with Ctrl+C.",
    )
    sim.add_argument("--host", default="127.0.0.1", type=_text("--host", "127.0.0.1"),
                     help="address to listen on (default 127.0.0.1, this machine only)")
    sim.add_argument("--port", type=_whole("--port"), default=8765,
                     help="port to listen on; 0 picks a free one (default 8765)")
    sim.add_argument("--seed", type=_whole("--seed"), default=7, help="seed of the market and the faults (default 7)")
    sim.add_argument(
        "--speed", type=_number("--speed"), default=1.0,
        help="simulated time runs this many times faster than real time (default 1); the "
             "exchange clock in every message and in /time is the simulated one",
    )
    sim.add_argument(
        "--symbols", nargs="+", metavar="SYMBOL",
        help="symbols to list (default: 26 familiar USDT pairs plus ETHBTC, BNBBTC, SOLBTC, "
             "BTCUSDC, ETHUSDC); any other name gets a plausible made-up price",
    )
    sim.add_argument(
        "--replay", metavar="CSV", type=_text("--replay", "BTCUSDT-1h.csv"),
        help="serve a CSV of real candles (open_time_ms,open,high,low,close,volume; symbol from "
             "the file name, e.g. BTCUSDT-1h.csv) as that symbol's history, then play the rest "
             "live in order; other symbols stay simulated",
    )
    sim.add_argument(
        "--fault", action="append", default=[], metavar="FAULT[=VALUE]",
        help="switch on a fault, repeatable: " + ", ".join(FAULTS)
             + ". VALUE is a probability per message/request (default 0.01) or, for drop, "
               "drop-1008, stall and restart, seconds between events (default 30). Tune with "
               "stall-for=S, retry-after=S (fractions allowed), ban-for=S, down-for=S. "
               "Unknown symbols always behave as on the real exchanges",
    )
    sim.add_argument(
        "--push-interval", type=_number("--push-interval"), metavar="SECONDS",
        help="real seconds between forming-candle updates of a stream (default 2, shortened at "
             "high --speed so a candle still gets about four)",
    )
    sim.add_argument(
        "--flood", action="store_true",
        help="benchmark mode: send forming updates of every stream as fast as the connection "
             "takes them (each candle's final still goes out exactly once)",
    )

    stream = commands.add_parser(
        "stream", help="print closed candles of one or more symbols as they close",
        description="Stream closed candles to stdout, one line each (status goes to stderr). "
                    "Ctrl+C exits after flushing.",
    )
    stream.add_argument("symbols", nargs="+", metavar="SYMBOL", type=_text("SYMBOL", "BTCUSDT"),
                        help="one or more symbols")
    stream.add_argument("--interval", default="1m", type=_text("--interval", "1m"), help="timeframe (default 1m)")
    stream.add_argument("--history", type=_whole("--history"), default=0, metavar="N",
                        help="first print the last N closed candles from the bootstrap (default 0)")
    stream.add_argument("--format", type=_choice("--format", "an output format", ("jsonl", "csv")), default="jsonl",
                        help="output format: jsonl or csv, any case (default jsonl)")
    _add_sink_option(stream)
    _add_connection_options(stream, default_exchange="binance")

    signals = commands.add_parser(
        "signals", help="print one JSON line per confirmed BUY or SELL signal",
        description="Run the strategies live (or over a CSV with --replay) and print one JSON "
                    "line per confirmed confluence BUY or SELL, at the candle close; with "
                    "--all-candles, one line per closed candle after warm-up, HOLDs included.",
    )
    signals.add_argument("--symbol", required=True, type=_text("--symbol", "BTCUSDT"), help="symbol, e.g. BTCUSDT")
    signals.add_argument("--interval", default="1m", type=_text("--interval", "1m"), help="timeframe (default 1m)")
    _add_strategy_options(signals, required=True)
    signals.add_argument(
        "--replay", metavar="CSV", type=_text("--replay", "BTCUSDT-1m.csv"),
        help="feed the candles of a CSV through the live code path, as fast as possible; a "
             "file named after a symbol (BTCUSDT-1h.csv) must match --symbol",
    )
    signals.add_argument(
        "--all-candles", action="store_true",
        help="print every evaluated closed candle after warm-up, HOLDs included (default: only "
             "confirmed BUY and SELL signals)",
    )
    _add_session_journal_options(signals)
    signals.add_argument("--alerts", action="store_true",
                         help="with --replay: fire the armed alert rules too (live runs always do)")
    _add_sink_option(signals)
    _add_connection_options(signals, default_exchange="binance")
    _add_watch_parser(commands)
    _add_journal_parser(commands)
    _add_alert_parser(commands)
    _add_backtest_parser(commands)
    return parser


def _add_session_journal_options(parser: argparse.ArgumentParser) -> None:
    """--journal PATH / --no-journal for a command (or the app) that confirms signals."""
    parser.add_argument("--journal", metavar="PATH", type=_text("--journal", "journal.sqlite"),
                        help="journal confirmed signals in this SQLite file (default: journal.sqlite in "
                             "the user data directory, or $CRYPTOAI_TUI_DATA_DIR)")
    parser.add_argument("--no-journal", action="store_true", help="do not journal confirmed signals")


def _add_watch_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    watch = commands.add_parser(
        "watch", help="a watchlist: many symbols on one connection, one JSON line per confirmed signal",
        description="Run the strategies on every closed candle of every symbol (one exchange "
                    "connection where it allows) and print one JSON line per confirmed BUY or SELL "
                    "(--all-candles: per symbol and closed candle after warm-up), the lines signals "
                    "prints, with exchange, symbol and interval first.",
    )
    watch.add_argument("symbols", nargs="*", metavar="SYMBOL", type=_text("SYMBOL", "BTCUSDT"),
                       help="symbols to watch (with --top, watched as well as the top N)")
    watch.add_argument("--top", type=_whole("--top"), metavar="N",
                       help="also watch the N most-traded symbols by 24 h quote volume")
    watch.add_argument("--interval", default="1m", type=_text("--interval", "1m"), help="timeframe (default 1m)")
    watch.add_argument("--history", type=_whole("--history"), default=150, metavar="N",
                       help="closed candles each symbol loads before going live (default 150)")
    watch.add_argument(
        "--all-candles", action="store_true",
        help="print every evaluated closed candle of every symbol after warm-up, HOLDs included "
             "(default: only confirmed BUY and SELL signals, as signals does)",
    )
    _add_strategy_options(watch, required=True)
    _add_connection_options(watch, default_exchange="binance")
    _add_sink_option(watch)


_ALERT_GRAMMAR_HELP = ALERT_GRAMMAR.replace("%", "%%")  # argparse formats help with %


def _add_journal_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "journal", help="read the signal journal (every confirmed signal, graded)",
        description="Every confirmed signal of every session is journaled in SQLite and graded once "
        "1, 5 and 20 candles have closed after it.",
    )
    actions = parser.add_subparsers(dest="journal_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the newest signals")
    export = actions.add_parser("export", help="every signal as CSV")
    export.add_argument("--csv", required=True, metavar="FILE", help="where to write; - for stdout")
    stats = actions.add_parser("stats", help="hit rate and mean return by strategy and mode")
    stats.add_argument("--horizon", type=int, choices=(1, 5, 20), default=5,
                       help="candles after the signal to grade at (default 5)")
    for sub in (listing, export, stats):
        sub.add_argument("--journal", metavar="PATH", help="the journal file (default: journal.sqlite "
                         "in the user data directory, or $CRYPTOAI_TUI_DATA_DIR)")
        sub.add_argument("--symbol", help="only this symbol (e.g. BTCUSDT)")
        sub.add_argument("--interval", help="only this timeframe")
        sub.add_argument("--mode", help="only this confluence mode")
        sub.add_argument("--action", type=str.upper, choices=("BUY", "SELL"), help="only BUY or SELL")
        sub.add_argument("--since", metavar="DATE", help="only candles from this UTC date or time "
                         "(2026-11-01 or 2026-11-01T12:00)")
    listing.add_argument("--limit", type=int, default=50, help="how many rows (default 50)")


def _add_alert_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "alert", help="price and signal alerts: add, list, remove, test, preview",
        description=f"Alert rules live in the config file. Rules: {ALERT_GRAMMAR}.",
    )
    actions = parser.add_subparsers(dest="alert_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="arm a new rule")
    add.add_argument("--symbol", required=True, help="e.g. BTCUSDT")
    add.add_argument("--interval", help="only this timeframe (default: any the session watches)")
    add.add_argument("--when", required=True, metavar="RULE", help=f"the rule: {_ALERT_GRAMMAR_HELP}")
    add.add_argument("--notify", action="append", default=[], metavar="URL",
                     help="where to send it, in apprise's URL syntax (tgram://TOKEN/CHAT, discord://ID/TOKEN, "
                     "json://host:port/path); repeat for several")
    add.add_argument("--frequency", default="per-candle", help="once, per-candle (default) or every")
    add.add_argument("--cooldown", default="0s", help="least time between two fires, e.g. 15m (default 0)")
    add.add_argument("--rearm", default="0.1%", help="how far the price must move back past a level "
                     "before the rule can fire on it again (default 0.1%%)")
    add.add_argument("--expires", metavar="DATE", help="stop after this UTC date, e.g. 2027-01-31")
    add.add_argument("--no-in-app", action="store_true", help="no toast or bell in the app")
    add.add_argument("--app-notify", metavar="LIST", help="how it shows in the app: any of toast, bell, "
                     "desktop (the terminal's OSC 9/777 notification), comma-separated, or none (default: all)")
    list_ = actions.add_parser("list", help="the armed rules (secrets masked)")
    remove = actions.add_parser("remove", help="disarm a rule")
    remove.add_argument("id")
    test = actions.add_parser("test", help="send a test message to a rule's targets")
    test.add_argument("id")
    preview = actions.add_parser("preview", help="how often a rule would have fired over history")
    preview.add_argument("rule", metavar="RULE", help=f"the rule: {_ALERT_GRAMMAR_HELP}")
    preview.add_argument("--replay", metavar="CSV", help="candles to replay "
                         "(open_time_ms,open,high,low,close,volume); without it the exchange's "
                         "REST history is used")
    preview.add_argument("--symbol", default="REPLAY", help="the symbol the rule is for (needed "
                         "without --replay)")
    preview.add_argument("--interval", required=True, help="the timeframe, e.g. 1h")
    preview.add_argument("--candles", type=_whole("--candles"), default=1000, metavar="N",
                         help="without --replay: how many of the newest closed candles to fetch (default 1000)")
    _add_connection_options(preview, default_exchange="binance")
    preview.add_argument("--frequency", default="per-candle")
    preview.add_argument("--cooldown", default="0s")
    preview.add_argument("--rearm", default="0.1%")
    for sub in (add, list_, remove, test, preview):
        sub.add_argument("--config", metavar="PATH", help="the config file (default: config.toml in "
                         "the user config directory, or $CRYPTOAI_TUI_CONFIG)")


def _add_backtest_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from cryptoai_tui.commands.backtest import TRADE_MODEL_HELP

    parser = commands.add_parser(
        "backtest", help="test strategies over history (a CSV or a downloaded span), or sweep their parameters",
        description="Run the live strategy code over history and trade the confirmed confluence "
                    "signals. " + TRADE_MODEL_HELP,
    )
    parser.add_argument("--symbol", required=True, type=_text("--symbol", "BTCUSDT"), help="symbol, e.g. BTCUSDT")
    parser.add_argument("--interval", default="1h", type=_text("--interval", "1h"), help="timeframe (default 1h)")
    _add_strategy_options(parser, required=False)
    source = parser.add_argument_group("candles")
    source.add_argument("--replay", metavar="CSV", type=_text("--replay", "BTCUSDT-1h.csv"),
                        help="candles from a CSV (open_time_ms,open,high,low,close,volume), sorted, no gaps")
    source.add_argument("--allow-gaps", action="store_true",
                        help="accept a CSV with missing candles (an exchange's maintenance), as the live feed would")
    source.add_argument("--start", metavar="DATE", help="download from this UTC date (2024-01-01 or "
                        "2024-01-01T12:00) through the exchange's REST klines, cached locally")
    source.add_argument("--end", metavar="DATE", help="download up to this UTC date, exclusive (default now)")
    source.add_argument("--cache-dir", metavar="DIR", help="where downloaded candles are cached (default: "
                        "the user cache directory, or $CRYPTOAI_TUI_CACHE_DIR)")
    source.add_argument("--window", type=_whole("--window"), default=1000,
                        help="candles the live engine's window holds (default 1000, as live)")
    trade = parser.add_argument_group("trade model")
    trade.add_argument("--side", type=_choice("--side", "a side", ("long", "long-short")), default="long",
                       help="long (default): BUY opens, SELL closes; long-short: SELL also opens a short")
    trade.add_argument("--fee-bps", type=_number("--fee-bps"), default=10.0,
                       help="fee per side in basis points of the traded value (default 10)")
    trade.add_argument("--slippage-bps", type=_number("--slippage-bps"), default=0.0,
                       help="slippage per fill in basis points, against you (default 0)")
    out = parser.add_argument_group("output")
    out.add_argument("--format", type=_choice("--format", "an output format", ("text", "json")), default="text",
                     help="text (default) or json: one object with every figure")
    out.add_argument("--trades", metavar="CSV", help="write one row per trade")
    out.add_argument("--equity", metavar="CSV", help="write the equity curve, one row per candle")
    sweep = parser.add_argument_group("sweeps")
    sweep.add_argument("--sweep", metavar="SPEC", type=_text("--sweep", "rsi:period=7..21:7"),
                       help="run every combination, e.g. 'rsi:period=7..21:7,lower=20..30:5;macd:fast=8..12:2' "
                            "(start..stop:step, stop included)")
    sweep.add_argument("--rank-by", default="total_return", metavar="FIGURE",
                       help="the figure the table is ranked by (default total_return; max_drawdown ranks lowest first)")
    sweep.add_argument("--results", metavar="CSV", help="write one row per combination: parameters and every figure")
    sweep.add_argument("--workers", type=_whole("--workers"), default=None,
                       help="local processes (default: the number of cores)")
    sweep.add_argument("--ray", metavar="ADDRESS", nargs="?", const="",
                       help="run the sweep as Ray tasks on this cluster (or $RAY_ADDRESS; without a value, "
                            "a local Ray); needs pip install \"cryptoai-tui[ray]\"")
    parser.add_argument("--journal", metavar="PATH", type=_text("--journal", "journal.sqlite"),
                        help="also journal the span's confirmed signals in this SQLite file, as history "
                             "entries (runs the live evaluator over the span too: slower)")
    _add_connection_options(parser, default_exchange="binance")


def _version() -> str:
    from cryptoai_tui.version import __version__

    return f"cryptoai-tui {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run one command, and turn its ending into an exit status: 0 done, 2 a mistake
    or a failure said in one sentence, 130 after Ctrl+C, 143 after SIGTERM."""
    previous = signal.signal(signal.SIGTERM, raise_terminated)  # until a command's loop takes over
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command == "sim":
            from cryptoai_tui.commands.sim import run
        elif args.command == "stream":
            from cryptoai_tui.commands.stream import run
        elif args.command == "signals":
            from cryptoai_tui.commands.signals import run
        elif args.command == "watch":
            from cryptoai_tui.commands.watch import run
        elif args.command == "journal":
            from cryptoai_tui.commands.journal import run
        elif args.command == "alert":
            from cryptoai_tui.commands.alert import run
        elif args.command == "backtest":
            from cryptoai_tui.commands.backtest import run
        else:
            from cryptoai_tui.commands.app import run
        return run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED
    except UserFacingError as error:
        from cryptoai_tui.exchanges.redact import mask_secrets

        print(f"cryptoai-tui: {mask_secrets(str(error))}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
