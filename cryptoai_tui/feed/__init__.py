"""Live kline sessions: connect, subscribe, heartbeat, stall watchdog, reconnect with backoff,
REST bootstrap and gap backfill, de-duplication -> an ordered stream of CandleEvent.

`KlineFeed` is the asyncio core the engine reads; the script API that wraps it for
synchronous code (`StreamManager`, `fetch_realtime_data`) is a front end and lives above, in
`cryptoai_tui.api`.

`KlineFeed`, `FeedConfig` and `FeedConfigError` load on first use (PEP 562): the feed pulls in
httpx and websockets, and the app's start-up, which only needs `feed.status` for the
snapshot's types, should not pay for them before a session starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus, retry_sentence

if TYPE_CHECKING:
    from cryptoai_tui.feed.config import FeedConfig
    from cryptoai_tui.exchanges.errors import FeedConfigError
    from cryptoai_tui.feed.kline_feed import KlineFeed

_LAZY = {
    "FeedConfig": "cryptoai_tui.feed.config",
    "FeedConfigError": "cryptoai_tui.exchanges.errors",
    "KlineFeed": "cryptoai_tui.feed.kline_feed",
}

__all__ = [
    "ConnectionState",
    "FeedConfig",
    "FeedConfigError",
    "FeedCounters",
    "FeedStatus",
    "KlineFeed",
    "retry_sentence",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cryptoai_tui.feed' has no attribute {name!r}")
