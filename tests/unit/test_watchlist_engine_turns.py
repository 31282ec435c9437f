"""WatchlistEngine without sockets: rows take turns (never two items in one loop turn),
and stop() ends every engine whatever the run was awaiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from cryptoai_tui.engine.watchlist import WatchlistEngine
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus
from cryptoai_tui.market import CandleEvent
from tests.conftest import load_candles

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


class Replay:
    """Items for several symbols, then the end (or open until cancelled)."""

    counters = FeedCounters()
    clock_offset_ms = None
    repairing: frozenset[tuple[str, str]] = frozenset()

    def __init__(self, items: Sequence[CandleEvent | FeedStatus], hold_open: bool) -> None:
        self.items = items
        self.hold_open = hold_open

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._events()

    async def _events(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        for item in self.items:
            yield item
        if self.hold_open:
            await asyncio.Event().wait()


def _items(count: int) -> list[CandleEvent | FeedStatus]:
    candles = load_candles("BTCUSDT-1h.csv", limit=count)
    items: list[CandleEvent | FeedStatus] = [FeedStatus(ConnectionState.LIVE, "Streaming.")]
    for candle in candles:  # interleaved, as a feed delivers many streams
        for symbol in SYMBOLS:
            items.append(CandleEvent("binance", symbol, "1h", candle, 0.0, candle.close_time))
    return items


async def test_rows_take_turns_one_item_per_loop_turn() -> None:
    turn = [0]
    ticking = True

    def tick() -> None:
        turn[0] += 1
        if ticking:
            asyncio.get_running_loop().call_soon(tick)

    # no budget: every item ends its turn, so two items never share one
    engine = WatchlistEngine(SYMBOLS, "1h", "rsi,macd", "majority", "binance", turn_budget_s=0.0)
    seen: list[tuple[int, str]] = []
    engine.add_listener(lambda symbol, signal: seen.append((turn[0], symbol)))
    asyncio.get_running_loop().call_soon(tick)
    run = asyncio.create_task(engine.run(Replay(_items(40), hold_open=True)))
    async with asyncio.timeout(30):
        while len(seen) < 40 * len(SYMBOLS):
            await asyncio.sleep(0.01)
    ticking = False
    turns = [t for t, _ in seen]
    assert len(set(turns)) == len(turns), "two rows evaluated a candle in the same loop turn"
    assert {s for _, s in seen} == set(SYMBOLS)
    # and still fair: no row waits for another's whole history
    first_done = {s: max(i for i, (_, x) in enumerate(seen) if x == s) for s in SYMBOLS}
    assert max(first_done.values()) - min(first_done.values()) < 2 * len(SYMBOLS)
    await engine.stop()
    await run
    assert not engine.running


async def test_stop_while_rows_work_through_a_backlog_ends_cleanly() -> None:
    engine = WatchlistEngine(SYMBOLS, "1h", "all", "majority", "binance")
    run = asyncio.create_task(engine.run(Replay(_items(300), hold_open=False)))
    async with asyncio.timeout(30):
        while sum(row.closed_evaluated for row in engine.rows()) < 30:
            await asyncio.sleep(0)
    await engine.stop()  # the source has ended; the rows were still busy with its backlog
    await run  # no CancelledError escapes
    assert not engine.running
    assert sum(row.closed_evaluated for row in engine.rows()) < 300 * len(SYMBOLS)  # the rest dropped
    assert all(row.state is ConnectionState.STOPPED for row in engine.rows())
