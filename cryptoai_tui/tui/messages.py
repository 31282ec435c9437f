"""The typed messages screens decide from (posting's and harlequin's `messages.py`).

A worker that finishes posts one of these to the screen that owns it; the screen decides
what to do from the message alone. No screen calls into another: the Lab learns how a live
session ended from the live screen's dismiss result, never by reaching into it, and the
live screen never learns about the Lab at all. They do not bubble: each is for the screen
whose worker posted it, not for the app above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from cryptoai_tui.tui.session import Endpoint


@dataclass
class SymbolChecked(Message, bubble=False):
    """The Lab's background check of one symbol on one endpoint is done.

    `listed` is None when the symbol list could not be loaded: that says nothing about the
    symbol (the live screen reports the network), so the Lab lets the session start.
    `suggestions` are the listed names the user probably meant when `listed` is False.
    """

    endpoint: Endpoint
    symbol: str
    listed: bool | None
    suggestions: tuple[str, ...] = ()


@dataclass
class EngineStopped(Message, bubble=False):
    """The live screen's engine worker ended: `error` is why, None when it ended cleanly.

    Posted by the worker itself as its last act, so the screen has one place that turns an
    ending into "go back to the Lab" or "say the feed stopped".
    """

    error: BaseException | None = None
