"""What every long-running command shares: the simulator options and a clean stop on a signal.

`stream` and `signals` run one coroutine until it ends or the user stops it. Ctrl+C and
SIGTERM both cancel that coroutine, so every `async with` on the way out runs (the feed
sends its WebSocket close frames, the in-process simulator stops) and nothing is printed
half-way; the command then exits 130 (Ctrl+C) or 143 (SIGTERM), as shells report a process
a signal stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from cryptoai_tui.errors import Terminated, UserFacingError, raise_terminated

if TYPE_CHECKING:
    from cryptoai_tui.wiring import SimulatorSettings

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


T = TypeVar("T")

def simulator_settings(args: argparse.Namespace) -> SimulatorSettings | None:
    """The simulator `--seed`/`--sim-speed` ask for (a fresh seed when none is given), to
    hand to the wiring; None when the exchange is not the simulator, where the options
    would silently do nothing, so giving them there is refused."""
    from cryptoai_tui.wiring import SimulatorSettings, is_simulator

    seed: int | None = getattr(args, "seed", None)
    speed: float | None = getattr(args, "sim_speed", None)
    if not is_simulator(args.exchange):
        given = [name for name, value in (("--seed", seed), ("--sim-speed", speed)) if value is not None]
        if given:
            raise UserFacingError(
                f"{' and '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to the built-in "
                f"simulator; add --exchange sim, or leave {'it' if len(given) == 1 else 'them'} out."
            )
        return None
    return SimulatorSettings.fresh(seed, speed)


def run_until_stopped(main: Coroutine[Any, Any, Any]) -> int | None:
    """`asyncio.run(main)`, where Ctrl+C or SIGTERM cancels `main` and waits for it to
    unwind. Returns None when `main` ended by itself, else the exit status for the signal."""

    async def runner() -> int | None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        received: list[int] = []

        def stop(signum: int) -> None:
            received.append(signum)
            task.cancel()

        for signum in _STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):  # no handlers on Windows
                loop.add_signal_handler(signum, stop, signum)
        try:
            await main
        except asyncio.CancelledError:
            if not received:
                raise
        finally:
            for signum in _STOP_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            _restore_python_handlers()
        return 128 + received[0] if received else None

    return asyncio.run(runner())


def run_to_result(main: Coroutine[Any, Any, T]) -> T:
    """`run_until_stopped` for a command that needs what `main` returns (a download): a
    Ctrl+C or SIGTERM cancels it cleanly, then ends the command with 130 or 143 through the
    CLI's own handling (KeyboardInterrupt / Terminated), never a half-finished result."""
    results: list[T] = []

    async def keep() -> None:
        results.append(await main)

    stopped = run_until_stopped(keep())
    if stopped is not None:
        raise Terminated if stopped == 128 + signal.SIGTERM else KeyboardInterrupt
    return results[0]


def _restore_python_handlers() -> None:
    """asyncio leaves SIGTERM at the default (kill at once) when its handler goes; put back
    the command line's own, so a SIGTERM during the exit flush still ends in a clean status."""
    signal.signal(signal.SIGTERM, raise_terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)
