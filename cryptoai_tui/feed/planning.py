"""How streams are spread over connections and how fast we may talk on one.

Pure functions over a protocol object (which never opens a socket), so the limits of
exchanges.md §0 are tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cryptoai_tui.exchanges.base import ExchangeProtocol


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    """Where to connect and what to subscribe by message once connected.

    Binance takes streams in the URL (no message needed, nothing counted against the
    5 messages/s limit), but a URL has a practical length limit, so streams beyond it are
    subscribed by throttled SUBSCRIBE messages. Bybit takes none in the URL.
    """

    url: str
    url_streams: tuple[str, ...]
    subscribe_streams: tuple[str, ...]


def plan_connection(protocol: ExchangeProtocol, streams: Sequence[str], max_url_length: int) -> ConnectionPlan:
    """Put as many streams in the URL as fit within `max_url_length`; subscribe the rest."""
    bare = protocol.ws_url(())
    if not streams:
        return ConnectionPlan(bare, (), ())
    if protocol.ws_url(streams[:1]) == bare:
        return ConnectionPlan(bare, (), tuple(streams))
    # Largest prefix whose URL fits; URL length grows with the prefix, so bisect.
    low, high = 0, len(streams)
    while low < high:
        middle = (low + high + 1) // 2
        if len(protocol.ws_url(streams[:middle])) <= max_url_length:
            low = middle
        else:
            high = middle - 1
    in_url = tuple(streams[:low])
    url = protocol.ws_url(in_url) if in_url else bare
    return ConnectionPlan(url, in_url, tuple(streams[low:]))


class SendPacer:
    """Spaces our outgoing frames so a connection stays under the exchange's incoming-message
    limit (Binance closes with 1008 "Too many requests" above 5/s, and bans repeat offenders).

    `reserve(now)` books the next free slot and says how long to wait for it.
    """

    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"A send rate must be positive, not {rate_per_s}.")
        self.spacing_s = 1.0 / rate_per_s
        self._next_free: float | None = None

    def reserve(self, now: float) -> float:
        slot = now if self._next_free is None or self._next_free <= now else self._next_free
        self._next_free = slot + self.spacing_s
        return slot - now

    def sent(self, now: float) -> None:
        """A frame really went out at `now`: the next one waits a full spacing after it,
        however late this one was. Slots booked ahead would otherwise all fall due during
        a stall of the event loop and leave back to back, which is what the exchange counts
        (the simulator closed such a connection with 1008 on a loaded machine)."""
        if self._next_free is None or self._next_free < now + self.spacing_s:
            self._next_free = now + self.spacing_s
