"""The error type every front end prints as one sentence, without a traceback.

It lives below the command-line parser and the commands so both can import it: when it lived
in `cli.py`, running `python -m cryptoai_tui.cli` loaded a second copy of that module and a
command's error escaped as a traceback.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is a complete sentence for the user; printed without a traceback."""


class Terminated(BaseException):
    """SIGTERM arrived while no event loop was handling it: unwind like Ctrl+C (a
    BaseException, so `except Exception` on the way out does not swallow it) and exit with
    the SIGTERM status."""


def raise_terminated(signum: int, frame: object) -> None:
    """A `signal.signal` handler for SIGTERM that turns it into `Terminated`."""
    raise Terminated
