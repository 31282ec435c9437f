"""Live kline sessions: connect, subscribe, heartbeat, stall watchdog, reconnect with backoff,
REST bootstrap and gap backfill, de-duplication -> an ordered stream of CandleEvent.

`KlineFeed` is the asyncio core the engine reads; `StreamManager` (alias
`RealTimeDataManager`) and `fetch_realtime_data` wrap it for synchronous scripts.
"""

from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.kline_feed import FeedConfigError, KlineFeed
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.feed.stream_manager import RealTimeDataManager, StreamManager, fetch_realtime_data

__all__ = [
    "ConnectionState",
    "FeedConfig",
    "FeedConfigError",
    "FeedCounters",
    "FeedStatus",
    "KlineFeed",
    "RealTimeDataManager",
    "StreamManager",
    "fetch_realtime_data",
]
