"""Closed candles the socket did not deliver: the REST bootstrap, gap repair, the replay of
parked klines, and the catch-up after a reconnect.

- The bootstrap is a repair parked from the start, so the race between the history request
  and the first socket message cannot lose or double a bar (ccxt#25699).
- A GAP parks the stream; the missing closed candles are fetched and emitted first, then
  the parked klines are replayed in exchange order through the same judge.
- A bootstrap whose history stays malformed goes live without it; `backfill_later` retries
  it in the background and `restore` restarts the stream with it (FeedStatus.reset), the
  closed candles delivered live meanwhile replayed after it from `StreamState.kept`.
- After a reconnect the catch-up asks the exchange's clock whether a candle closed while we
  were away, so a quiet stream is repaired without waiting for its next message.
- A parked kline that opens more than `FeedConfig.future_intervals` intervals after the
  exchange's clock (measured by the repair's own time request) is refused here and never
  reaches the sequencer, so the genuine candle after it is not taken for a duplicate.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cryptoai_tui.exchanges.errors import ExchangeError, MalformedMessageError, RegionBlockedError
from cryptoai_tui.feed.backoff import Backoff
from cryptoai_tui.feed.connection import FATAL
from cryptoai_tui.feed.history import HistoryClient
from cryptoai_tui.feed.sequencer import Verdict, next_open_time
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.feed.streams import StreamState, exchange_order
from cryptoai_tui.market import Candle, CandleEvent

if TYPE_CHECKING:
    from cryptoai_tui.feed.connection import FeedConnection
    from cryptoai_tui.feed.kline_feed import KlineFeed

_ACCEPT = Verdict.ACCEPT
#: the refusal reason of a kline from the future (counted with the parsers' reasons)
FUTURE = "open time in the future"


class StreamRepairer:
    """The REST side of a KlineFeed: everything that fetches closed candles and feeds them
    through the streams' sequencers in order."""

    def __init__(self, feed: KlineFeed) -> None:
        self.feed = feed

    # --- bootstrap ----------------------------------------------------------------------------
    def begin_bootstrap(self, stream: StreamState) -> None:
        feed = self.feed
        stream.repairing = True
        feed._bootstrapping += 1
        feed._spawn(self.bootstrap(stream), f"feed-bootstrap-{stream.name}")

    async def bootstrap(self, stream: StreamState) -> None:
        feed = self.feed
        total = stream.history
        label = f"{stream.symbol} {stream.interval_name}"
        feed._status(ConnectionState.BOOTSTRAPPING, f"Loading {total} closed {label} candles.", stream,
                     progress=0, total=total)

        def progress(done: int, of: int) -> None:
            feed._status(ConnectionState.BOOTSTRAPPING, f"Loading {label}: {done}/{of} candles.", stream,
                         progress=done, total=of)

        tries = feed.config.bootstrap_malformed_tries
        try:
            try:
                candles = await self.rest(stream, lambda history: history.last_closed(
                    stream.symbol, stream.interval, total, progress=progress, malformed_tries=tries))
            except MalformedMessageError as error:
                # History that cannot be had must not keep the live stream from starting;
                # it is fetched again in the background (`backfill_later`).
                stream.kept = deque(maxlen=max(1, total))
                feed._status(ConnectionState.LIVE,
                             f"Could not load the {label} history: {error} Going live on the "
                             "WebSocket without it.", stream, progress=0, total=total,
                             retry_in=feed.config.history_retry_base_s)
                candles = None
            if stream.conn is None:
                return  # removed while its history loaded
            if candles is not None:
                received_at = feed._now_ms()
                emitted = 0
                for candle in candles:
                    if stream.seq.offer(candle, candle.close_time) is _ACCEPT:
                        feed._put_candle(CandleEvent(feed.exchange, stream.symbol, stream.interval_name,
                                                     candle, received_at, candle.close_time))
                        emitted += 1
                # The marker consumers wait for: what follows for this stream is live.
                feed._status(ConnectionState.LIVE, f"Loaded {emitted} closed {label} candles.", stream,
                             progress=emitted, total=total)
        finally:
            feed._bootstrapping -= 1
        if not self.replay(stream):
            # a gap found right after the bootstrap (the socket ran ahead while it loaded)
            await self.repair(stream, grace=False)
        feed._maybe_live()
        if stream.kept is not None and stream.conn is not None:
            feed._spawn(self.backfill_later(stream), f"feed-backfill-{stream.name}")

    # --- history that came late -----------------------------------------------------------------
    async def backfill_later(self, stream: StreamState) -> None:
        """Retry the history of a stream that went live without it, with a bounded backoff
        (`FeedConfig.history_retry_base_s` doubling to `history_retry_cap_s`), one status line
        per failed retry with its delay as data; ends when the history is restored, the
        stream is removed or the feed closes (this task is cancelled with the feed)."""
        feed = self.feed
        config = feed.config
        label = f"{stream.symbol} {stream.interval_name}"
        delay = config.history_retry_base_s
        while True:
            await asyncio.sleep(delay)
            if stream.conn is None:
                return  # removed meanwhile
            try:
                candles: list[Candle] = await self.rest(stream, lambda history: history.last_closed(
                    stream.symbol, stream.interval, stream.history, malformed_tries=1))
            except MalformedMessageError as error:
                if stream.conn is None:
                    return
                delay = min(config.history_retry_cap_s, delay * 2)
                feed._status(ConnectionState.LIVE, f"Still no valid {label} history: {error}", stream,
                             retry_in=delay)
                continue
            if stream.conn is None:
                return
            self.restore(stream, candles)
            return

    def restore(self, stream: StreamState, history: list[Candle]) -> None:
        """Restart `stream` with the history that arrived late: a reset status, then the
        history candles older than anything delivered live, then the closed candles
        delivered live meanwhile, in order, once each, then a LIVE status. Synchronous, so no
        live kline of the stream can come between; the sequencer is already at the live
        edge (the replay repeats what it judged), so nothing counts as a duplicate."""
        feed = self.feed
        kept = list(stream.kept or ())
        stream.kept = None
        if kept:
            first = kept[0].open_time
            head = [candle for candle in history if candle.open_time < first]
        else:
            # nothing closed was delivered live: the history ends where the socket starts
            edge = stream.seq.expected_next
            head = [candle for candle in history if edge is None or candle.open_time < edge]
            if head:
                stream.seq.restore(head[-1].open_time)
        replay = head + kept
        label = f"{stream.symbol} {stream.interval_name}"
        feed._status(ConnectionState.BOOTSTRAPPING,
                     f"Loaded the {label} history late ({len(head)} closed candles); restarting the stream "
                     f"with it and the {len(kept)} delivered live since.", stream,
                     progress=len(replay), total=len(replay), reset=True)
        received_at = feed._now_ms()
        exchange, symbol, interval = feed.exchange, stream.symbol, stream.interval_name
        for candle in replay:
            feed._put_candle(CandleEvent(exchange, symbol, interval, candle, received_at, candle.close_time, True))
        feed._counts.backfilled += len(head)
        feed._status(ConnectionState.LIVE,
                     f"Backfilled {len(head)} {label} history candle{'s' if len(head) != 1 else ''}.", stream,
                     backfilled=len(head))

    # --- gap repair ---------------------------------------------------------------------------
    def start_repair(self, stream: StreamState, grace: bool) -> None:
        stream.repairing = True
        self.feed._spawn(self.repair(stream, grace), f"feed-repair-{stream.name}")

    async def repair(self, stream: StreamState, grace: bool) -> None:
        """Fetch the closed candles a stream is missing, emit them, then replay what waited."""
        feed = self.feed
        config = feed.config
        if grace:
            await asyncio.sleep(config.gap_grace_s)
            if self.replay(stream):
                return  # a reordered frame filled the hole by itself
        label = f"{stream.symbol} {stream.interval_name}"
        while True:
            total = 0
            hole_checks = 0
            while True:
                start = stream.seq.expected_next
                if start is None:
                    break
                candles = await self.rest(stream, lambda history: history.closed_since(
                    stream.symbol, stream.interval, start))
                if stream.conn is None:
                    return  # removed while it was being repaired
                self._refuse_future(stream)
                target = min((m.candle.open_time for m, _ in stream.pending), default=None)
                received_at = feed._now_ms()
                kept = stream.kept
                for candle in candles:
                    if stream.seq.offer(candle, candle.close_time) is _ACCEPT:
                        feed._put_candle(CandleEvent(feed.exchange, stream.symbol, stream.interval_name,
                                                     candle, received_at, candle.close_time, True))
                        if kept is not None:
                            kept.append(candle)
                        total += 1
                expected = stream.seq.expected_next
                if target is None or expected is None or expected >= target:
                    break
                if hole_checks < config.hole_retries:
                    # REST can trail the socket by a moment: ask again before calling it a hole.
                    hole_checks += 1
                    await asyncio.sleep(config.hole_retry_delay_s)
                    continue
                feed._status(ConnectionState.LIVE,
                             f"{feed.protocol.display_name} has no {label} candles from {utc(expected)} "
                             f"to {utc(target)}; continuing after the hole.", stream)
                stream.seq.accept_hole(target)
                break
            if total:
                feed._counts.backfilled += total
                feed._status(ConnectionState.LIVE,
                             f"Backfilled {total} missed {label} candle{'s' if total != 1 else ''}.", stream,
                             backfilled=total)
            if self.replay(stream):
                return

    def _refuse_future(self, stream: StreamState) -> None:
        """Drop parked klines that open beyond the exchange's clock just measured."""
        history = self.feed._history
        now = history.last_server_time if history is not None else None
        if now is None or not stream.pending:
            return
        step = stream.interval.ms if not stream.interval.is_calendar else 31 * 86_400_000
        horizon = now + self.feed.config.future_intervals * step
        kept = [item for item in stream.pending if item[0].candle.open_time <= horizon]
        refused = len(stream.pending) - len(kept)
        if refused:
            stream.pending = kept
            self.feed._refuse(FUTURE, f"{stream.symbol} {stream.interval_name} kline opening more than "
                              f"{self.feed.config.future_intervals} intervals after "
                              f"{self.feed.protocol.display_name}'s clock ({utc(now)}).", refused)

    def replay(self, stream: StreamState) -> bool:
        """Offer parked klines in exchange order; False (the rest still parked) at a new gap."""
        pending = stream.pending
        if pending:
            pending.sort(key=exchange_order)
            stream.pending = []
            apply = self.feed._apply
            for i, (message, received_at) in enumerate(pending):
                if apply(stream, message, received_at) is Verdict.GAP:
                    stream.pending = pending[i:]
                    return False
        stream.repairing = False
        return True

    async def rest(self, stream: StreamState | None, call: Callable[[HistoryClient], Awaitable[Any]]) -> Any:
        """A REST call that outlasts anything but a fatal answer, saying why it waits."""
        feed = self.feed
        assert feed._history is not None and feed._rest_slots is not None
        backoff = Backoff(feed._policy, feed._rng)
        while True:
            try:
                async with feed._rest_slots:
                    return await call(feed._history)
            except FATAL:
                raise
            except MalformedMessageError:
                raise  # the history client already retried it as often as asked
            except RegionBlockedError as error:
                wait = feed.config.region_block_retry_s
                feed._status(ConnectionState.ERROR, str(error), stream, retry_in=wait)
                await asyncio.sleep(wait)
            except ExchangeError as error:
                wait = backoff.next_delay()
                feed._status(ConnectionState.ERROR, str(error), stream, retry_in=wait)
                await asyncio.sleep(wait)

    # --- after a reconnect --------------------------------------------------------------------
    async def catch_up(self, conn: FeedConnection) -> None:
        """After a reconnect: did any candle close while we were away? Repair those streams."""
        waiting = [s for s in conn.streams if not s.repairing and s.seq.expected_next is not None]
        if not waiting:
            return
        now = await self.rest(None, lambda history: history.server_time())
        for stream in waiting:
            expected = stream.seq.expected_next
            if stream.repairing or stream.conn is not conn or expected is None:
                continue
            if next_open_time(stream.interval, expected) - 1 < now:
                self.start_repair(stream, grace=False)


def utc(ms: int) -> str:
    """A candle time for a sentence; any int (1e20 included) gives text, never an error."""
    try:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))
    except (OverflowError, OSError, ValueError):
        return f"open time {ms} ms"
