"""WatchlistEngine against the simulator over loopback: several symbols on one connection,
every closed candle of every symbol evaluated by that symbol's live engine (the very
signals a single-symbol backtest computes), 24 h columns, and feed health."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from cryptoai_tui.wiring import open_watch_feed
from cryptoai_tui.engine.history import evaluate_history
from cryptoai_tui.engine.watchlist import WatchlistEngine, WatchRow
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.signal import Action

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "SIM001USDT")
HISTORY = 60
LIVE_CLOSES = 4
FAST = FeedConfig(stall_timeout_s=10.0, backoff_base_s=0.05, backoff_cap_s=0.2, seed=3)


async def _until(condition: object, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_every_closed_candle_of_every_symbol_is_evaluated_as_a_backtest_would() -> None:
    async with SimExchange(SimConfig(speed=600.0, seed=5, symbols=SYMBOLS)) as sim:
        async with open_watch_feed("binance", ["SOLUSDT", "SIM001USDT"], "1m", sim.ws_url, sim.rest_url,
                                   top=2, history=HISTORY, feed_config=FAST) as (feed, names, tickers):
            # the two most-traded of the listing (BTC and ETH turn over 4-100 times what the
            # others do) join the named two, after them
            assert names == ["SOLUSDT", "SIM001USDT", "BTCUSDT", "ETHUSDT"]
            assert len(feed._connections) == 1  # one connection carries every stream
            engine = WatchlistEngine(names, "1m", "rsi,macd,ema_cross", "any", "binance")
            seen: dict[str, list[ConfirmedSignal]] = defaultdict(list)
            engine.add_listener(lambda symbol, signal: seen[symbol].append(signal))
            run = asyncio.create_task(engine.run(feed, tickers))
            await _until(lambda: all(len(seen[s]) >= HISTORY + LIVE_CLOSES for s in names))
            rows = {row.symbol: row for row in engine.rows()}
            await engine.stop()
            await run
            truth = {s: sim.closed_candles(s, "1m", seen[s][0].open_time, seen[s][-1].open_time) for s in names}

    for symbol in names:
        signals = seen[symbol]
        candles = truth[symbol]
        # every closed candle, once and in order, none lost between the history and the socket
        assert [s.open_time for s in signals] == [c.open_time for c in candles]
        expected = evaluate_history("rsi,macd,ema_cross", candles, mode="any", window=500)
        assert [(s.confluence.action, s.confluence.confidence) for s in signals] == \
               [(e.confluence.action, e.confluence.confidence) for e in expected]
        row = rows[symbol]
        assert row.closed_evaluated >= len(signals) - 1
        assert row.state is ConnectionState.LIVE and row.price is not None and row.strategies == 3
        assert row.bullish + row.bearish <= 3
        assert row.turnover is not None and row.turnover > 0 and row.day_change is not None
        sides = [s for s in signals if s.confluence.action in (Action.BUY, Action.SELL)]
        if sides:
            assert row.last_signal is sides[-1].confluence.action
            assert row.last_signal_time == sides[-1].open_time + 59_999
        else:
            assert row.last_signal is None


async def test_changes_hand_over_only_rows_that_changed_and_health_shows_repairs() -> None:
    async with SimExchange(SimConfig(speed=600.0, seed=9, symbols=SYMBOLS)) as sim:
        async with open_watch_feed("binance", SYMBOLS, "1m", sim.ws_url, sim.rest_url,
                                   history=HISTORY, feed_config=FAST) as (feed, names, tickers):
            clock = [1000.0]
            engine = WatchlistEngine(names, "1m", "rsi", "majority", "binance", clock=lambda: clock[0])
            first = engine.changes()
            assert [row.symbol for row in first] == list(SYMBOLS)  # everything, once
            assert engine.changes() == ()
            # history is loading: the feed says which streams are repairing, rows mark it
            marked: set[str] = set()
            run = asyncio.create_task(engine.run(feed, tickers))

            def collect() -> bool:
                marked.update(row.symbol for row in engine.changes() if row.repairing)
                return all(row.state is ConnectionState.LIVE and not row.repairing and row.price
                           for row in engine.rows())

            await _until(collect)
            assert marked, "no row was ever marked repairing while its history loaded"
            engine.changes()
            clock[0] = 2000.0
            await _until(lambda: bool(engine.changes()))
            # a frame later, only what changed since: never more rows than exist, each newest
            changed: list[WatchRow] = []
            await _until(lambda: bool(changed.extend(engine.changes()) or len(changed) >= 3))
            assert all(row.updated_at == 2000.0 for row in changed)
            current = {row.symbol: row for row in engine.rows()}
            assert all(row.sequence <= current[row.symbol].sequence for row in changed)
            await engine.stop()
            await run
    assert all(row.state is ConnectionState.STOPPED for row in engine.rows())
