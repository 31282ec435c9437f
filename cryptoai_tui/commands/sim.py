"""`cryptoai-tui sim`: serve the simulated exchange until Ctrl+C (or SIGTERM).

It prints the flags to paste into other commands, so a second terminal can point the app,
`stream` or `signals` at it with no guesswork. Stopping it is like stopping `stream` or
`signals`: the server closes its connections, says "stopped." and exits 130 after Ctrl+C,
143 after SIGTERM, as shells report a process a signal stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cryptoai_tui.errors import UserFacingError

if TYPE_CHECKING:
    from cryptoai_tui.sim.config import SimConfig
    from cryptoai_tui.sim.server import SimExchange


def build_config(args: argparse.Namespace) -> SimConfig:
    """Turn the parsed `sim` options into a SimConfig; bad values become UserFacingError."""
    from cryptoai_tui.sim.config import SimConfig, SimConfigError
    from cryptoai_tui.sim.faults import FaultConfigError, parse_faults
    from cryptoai_tui.sim.market import symbol_spec

    try:
        faults = parse_faults(args.fault or [])
    except FaultConfigError as exc:
        raise UserFacingError(str(exc)) from None
    symbols: tuple[str, ...] = ()
    if args.symbols:
        names = [part.strip().upper() for item in args.symbols for part in item.split(",") if part.strip()]
        try:
            symbols = tuple(dict.fromkeys(symbol_spec(name).name for name in names))
        except ValueError as exc:
            raise UserFacingError(str(exc)) from None
    replay: tuple[Path, ...] = ()
    if args.replay:
        path = Path(args.replay)
        if not path.is_file():
            raise UserFacingError(f"Replay file {args.replay!r} does not exist; give the path of a CSV "
                                  "with open_time_ms,open,high,low,close,volume rows.")
        replay = (path,)
    try:
        return SimConfig(host=args.host, port=args.port, seed=args.seed, speed=args.speed,
                         symbols=symbols, replay=replay, faults=faults,
                         push_interval_s=getattr(args, "push_interval", None),
                         flood=bool(getattr(args, "flood", False)))
    except SimConfigError as exc:
        raise UserFacingError(str(exc)) from None


def is_loopback(host: str) -> bool:
    """True when `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """The warning for a simulator that other machines can reach, or None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"Warning: listening on {host}, so other machines on the network can reach this simulated "
        "exchange and its fault controls; use --host 127.0.0.1 unless you mean that."
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C or SIGTERM; the exit status says which (130/143)."""
    from cryptoai_tui.commands.running import run_until_stopped

    config = build_config(args)
    warning = exposure_warning(config.host)
    if warning is not None:
        print(f"cryptoai-tui sim: {warning}", file=sys.stderr, flush=True)
    stopped = run_until_stopped(_serve(config, sys.stdout))
    print("cryptoai-tui sim: stopped.", file=sys.stderr, flush=True)
    return stopped if stopped is not None else 0


async def _serve(config: SimConfig, out: TextIO) -> None:
    from cryptoai_tui.market.candle_csv import CandleFileError
    from cryptoai_tui.sim.server import SimExchange

    try:
        sim = SimExchange(config)
    except CandleFileError as exc:
        raise UserFacingError(str(exc)) from None
    try:
        await sim.start()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise UserFacingError(
                f"Cannot listen on {config.host}:{config.port} ({exc.strerror}); pick another port "
                "with --port, or --port 0 for a free one."
            ) from None
        raise
    try:
        out.write(banner(sim))
        out.flush()
        await asyncio.Event().wait()  # until a signal cancels this task
    finally:
        await sim.stop()


def banner(sim: SimExchange) -> str:
    """What to tell the user on start: where it listens and the flags for other commands."""
    config = sim.config
    ws, rest = sim.ws_url, sim.rest_url
    flags = f"--ws-url {ws} --rest-url {rest}"
    symbols = sim.market.symbol_names
    shown = ", ".join(symbols[:8]) + (f" and {len(symbols) - 8} more" if len(symbols) > 8 else "")
    replay = "".join(f"\n  replaying  {s.symbol} from {s.source} ({len(s)} candles)" for s in sim.replays)
    return (
        f"cryptoai-tui sim: simulated exchange listening on {config.host}:{sim.port}\n"
        f"  seed {config.seed}, speed {config.speed:g}x, faults: {config.faults.describe()}\n"
        f"  symbols    {shown}{replay}\n"
        f"Point other commands at it with:\n"
        f"  Binance spot   --exchange binance {flags}\n"
        f"  Binance USD-M  --exchange binance-futures {flags}\n"
        f"  Bybit v5       --exchange bybit-spot {flags}   (or bybit-linear)\n"
        f"  e.g. cryptoai-tui stream BTCUSDT --interval 1m --exchange binance {flags}\n"
        f"Press Ctrl+C to stop.\n"
    )
