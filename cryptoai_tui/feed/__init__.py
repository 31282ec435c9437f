"""Live kline sessions: connect, subscribe, heartbeat, stall watchdog, reconnect with backoff,
REST bootstrap and gap backfill, de-duplication -> an ordered stream of CandleEvent.

`KlineFeed` is the asyncio core the engine reads; the script API that wraps it for
synchronous code (`StreamManager`, `fetch_realtime_data`) is a front end and lives above, in
`cryptoai_tui.api`.
"""

from cryptoai_tui.exchanges.errors import FeedConfigError
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.kline_feed import KlineFeed
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus, retry_sentence

__all__ = [
    "ConnectionState",
    "FeedConfig",
    "FeedConfigError",
    "FeedCounters",
    "FeedStatus",
    "KlineFeed",
    "retry_sentence",
]
