"""Command line: argument parsing and dispatch only.

Each command's work lives in `cryptoai_tui/commands/<name>.py` and is imported only when
that command runs, so `cryptoai-tui --help` stays instant and pandas never loads at start.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from cryptoai_tui.errors import UserFacingError

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


def _add_connection_options(parser: argparse.ArgumentParser, default_exchange: str) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--exchange", choices=EXCHANGES, default=default_exchange,
        help=f"which exchange to read (default: {default_exchange}); 'sim' starts the built-in "
             "simulated exchange in-process on a free loopback port",
    )
    group.add_argument(
        "--ws-url", metavar="URL",
        help="override the WebSocket base (a testnet, a proxy or a simulator, e.g. "
             "ws://127.0.0.1:8765); the exchange's own paths are appended",
    )
    group.add_argument(
        "--rest-url", metavar="URL",
        help="override the REST base (e.g. http://127.0.0.1:8765); the exchange's own paths "
             "are appended",
    )


def _add_strategy_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument(
        "--strategies", metavar="LIST", required=required,
        help="comma-separated strategy names or 'all' ("
             + ", ".join(STRATEGY_NAMES)
             + "); parameters as name:key=value, e.g. 'rsi:period=10,lower=25;macd'. "
               "Use ';' between strategies when a strategy has parameters",
    )
    parser.add_argument(
        "--mode", choices=MODES, default=None if not required else "majority",
        help="confluence mode: all (every strategy agrees), any (one fires, none opposes), "
             "majority (more than half agree); default majority",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoai-tui",
        description="A keyboard-driven terminal Strategy Lab for crypto markets. Without a "
                    "command it opens the app.",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "--symbol", metavar="SYMBOL",
        help="preselect the asset (ETHUSDT, eth/usdt, ETH/USDT:USDT) and skip its step",
    )
    parser.add_argument(
        "--interval", metavar="INTERVAL",
        help="preselect the timeframe (1m, 5m, 1h, ...); with --symbol, --strategies and "
             "--mode the live screen opens straight away",
    )
    _add_strategy_options(parser, required=False)
    _add_connection_options(parser, default_exchange="binance")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = commands.add_parser(
        "sim", help="run the built-in simulated exchange (Binance and Bybit protocols)",
        description="Serve a simulated exchange on one loopback port: the Binance spot REST "
                    "and WebSocket protocol and the Bybit v5 protocol, with a seeded market "
                    "and optional faults. Stop with Ctrl+C.",
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one (default 8765)")
    sim.add_argument("--seed", type=int, default=7, help="seed of the market and the faults (default 7)")
    sim.add_argument(
        "--speed", type=float, default=1.0,
        help="simulated time runs this many times faster than real time (default 1); the "
             "exchange clock in every message and in /time is the simulated one",
    )
    sim.add_argument(
        "--symbols", nargs="+", metavar="SYMBOL",
        help="symbols to list (default: 26 familiar USDT pairs plus ETHBTC, BNBBTC, SOLBTC, "
             "BTCUSDC, ETHUSDC); any other name gets a plausible made-up price",
    )
    sim.add_argument(
        "--replay", metavar="CSV",
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
        "--push-interval", type=float, metavar="SECONDS",
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
    stream.add_argument("symbols", nargs="+", metavar="SYMBOL", help="one or more symbols")
    stream.add_argument("--interval", default="1m", help="timeframe (default 1m)")
    stream.add_argument("--history", type=int, default=0, metavar="N",
                        help="first print the last N closed candles from the bootstrap (default 0)")
    stream.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                        help="output format (default jsonl)")
    _add_connection_options(stream, default_exchange="binance")

    signals = commands.add_parser(
        "signals", help="print one JSON line per confirmed signal",
        description="Run the strategies live (or over a CSV with --replay) and print one JSON "
                    "line per closed candle after warm-up.",
    )
    signals.add_argument("--symbol", required=True, help="symbol, e.g. BTCUSDT")
    signals.add_argument("--interval", default="1m", help="timeframe (default 1m)")
    _add_strategy_options(signals, required=True)
    signals.add_argument(
        "--replay", metavar="CSV",
        help="feed the candles of a CSV through the live code path, as fast as possible",
    )
    _add_connection_options(signals, default_exchange="binance")
    return parser


def _version() -> str:
    from cryptoai_tui import __version__

    return f"cryptoai-tui {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sim":
            from cryptoai_tui.commands.sim import run
        elif args.command == "stream":
            from cryptoai_tui.commands.stream import run
        elif args.command == "signals":
            from cryptoai_tui.commands.signals import run
        else:
            from cryptoai_tui.commands.app import run
        return run(args)
    except KeyboardInterrupt:
        return 0
    except UserFacingError as error:
        print(f"cryptoai-tui: {error}", file=sys.stderr)
        return 2



if __name__ == "__main__":
    sys.exit(main())
