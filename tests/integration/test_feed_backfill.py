"""History that arrives late (issue 9 §3 "backfills later"): a REST server on loopback that
refuses the klines N times and then serves the simulator's. The stream goes live at once,
the feed retries the history in the background, and when it comes every consumer gets the
stream's whole series, history and the live candles already seen, once each, in order."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from cryptoai_tui.engine import EngineOptions, RealtimeStrategyEngine
from cryptoai_tui.exchanges.registry import get_protocol
from cryptoai_tui.feed import ConnectionState, FeedConfig, FeedStatus, KlineFeed
from cryptoai_tui.market import CandleEvent
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange
from cryptoai_tui.snapshot import ConfirmedSignal
from cryptoai_tui.strategies.signal import Action
from tests.integration.test_feed_recovery import FAST, Run, assert_exactly_once_in_order, run_until
from tests.unit.engine_doubles import Watch, burst

ROOT = Path(__file__).resolve().parents[2]
ENCODER = get_protocol("binance")
GARBAGE = b"<html><body><h1>502 Bad Gateway</h1> [/] </body></html>"


class RefusingRest:
    """REST on loopback: the simulator's answers, except the first `refusals` klines
    requests, which get a 502 page with status 200 (malformed, not retryable by status)."""

    def __init__(self, sim: SimExchange, refusals: int) -> None:
        self.sim = sim
        self.refusals = refusals
        #: cleared: refuse every klines request, whatever the count (the test opens it)
        self.open = asyncio.Event()
        self.open.set()
        self.klines_asked = 0
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            status, body = 200, GARBAGE
            if path.startswith(ENCODER.time_path):
                body = json.dumps(ENCODER.encode_server_time(self.sim.now_ms())).encode()
            else:
                if "klines" in path:
                    self.klines_asked += 1
                if "klines" not in path or (self.klines_asked > self.refusals and self.open.is_set()):
                    async with httpx.AsyncClient() as http:
                        reply = await http.get(self.sim.rest_url + path)
                    status, body = reply.status_code, reply.content
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        finally:
            writer.close()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[RefusingRest]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


#: three malformed replies end the bootstrap; the background retries start at 0.2 s
CONFIG = FeedConfig(
    seed=3, backoff_base_s=0.02, backoff_cap_s=0.05, stall_timeout_s=2.0, bootstrap_malformed_tries=3,
    history_retry_base_s=0.2, history_retry_cap_s=0.3,
)
HISTORY = 60


async def test_a_stream_live_without_history_gets_it_later_once_each_and_in_order() -> None:
    """Refused 3 times at the bootstrap and then in the background until two candles
    closed live: live at once, a retry line for each with its delay as data, then the reset, the history and the live
    candles again, in order, equal to the simulator's, then live goes on."""
    streams = [("BTCUSDT", "1m")]
    async with SimExchange(SimConfig(speed=60, seed=35)) as sim, RefusingRest(sim, refusals=5).serving() as rest:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, rest.url), streams, history=HISTORY, config=CONFIG)
        run = Run(streams)
        events: list[CandleEvent | FeedStatus] = []
        restored = 0

        rest.open.clear()  # the history is refused until two candles closed live

        def done() -> bool:
            nonlocal restored
            if not rest.open.is_set() and len(run.closed[streams[0]]) >= 2:
                rest.open.set()
            if not restored and any(s.reset for s in run.statuses):
                restored = len(run.closed[streams[0]])
            # two live closes after the replay: live went on
            return bool(restored) and len(run.closed[streams[0]]) >= restored + HISTORY + 2

        real_take = run.take

        def take(event: CandleEvent | FeedStatus) -> None:
            events.append(event)
            real_take(event)

        run.take = take  # type: ignore[method-assign]
        await run_until(feed, run, done, deadline=30.0)
        klines_asked = rest.klines_asked

    said = run.messages()
    assert any(m.startswith("Could not load the BTCUSDT 1m history") for m in said)
    retries = [s for s in run.statuses if s.message.startswith("Still no valid BTCUSDT 1m history")]
    assert len(retries) >= 2 and {s.retry_in for s in retries} == {0.3}  # 0.2 doubled, capped at 0.3
    assert all(s.state is ConnectionState.LIVE and s.symbol == "BTCUSDT" for s in retries)
    assert klines_asked >= 6  # 3 at the bootstrap, 2 refused retries, then served

    resets = [i for i, e in enumerate(events) if isinstance(e, FeedStatus) and e.reset]
    assert len(resets) == 1
    at = resets[0]
    before = [e for e in events[:at] if isinstance(e, CandleEvent) and e.candle.closed]
    assert before, "nothing went live before the history came"
    assert all(not e.backfilled for e in before)
    after = [e for e in events[at + 1:] if isinstance(e, CandleEvent)]
    end = next(i for i, e in enumerate(events[at + 1:]) if isinstance(e, FeedStatus) and e.backfilled)
    replay = [e for e in events[at + 1:at + 1 + end] if isinstance(e, CandleEvent)]
    assert replay and all(e.backfilled and e.candle.closed for e in replay)
    # the replay holds every live candle already delivered, and history before them
    opens = [e.candle.open_time for e in replay]
    assert opens == sorted(set(opens))
    assert [e.candle for e in replay[-len(before):]] == [e.candle for e in before]
    history = replay[:-len(before)]
    assert len(history) >= HISTORY - len(before)
    assert events[at + 1 + end].backfilled == len(history)
    truth = sim.closed_candles("BTCUSDT", "1m", opens[0], opens[-1])
    assert [e.candle for e in replay] == truth
    # then live goes on from where it was, nothing doubled
    live_after = [e for e in after[len(replay):] if e.candle.closed]
    assert live_after and live_after[0].candle.open_time == before[-1].candle.open_time + 60_000
    assert not any(e.backfilled for e in live_after)
    assert feed.counters.duplicates_dropped == 0
    # the series a consumer rebuilds from the reset on is the simulator's, once each
    rebuilt = Run(streams)
    rebuilt.closed[streams[0]] = replay + live_after
    assert_exactly_once_in_order(sim, rebuilt)
    assert max(run.behind(sim).values()) <= 2


async def test_removing_a_stream_stops_its_history_retries() -> None:
    streams = [("BTCUSDT", "1m"), ("ETHUSDT", "1m")]
    async with SimExchange(SimConfig(speed=60, seed=36)) as sim, RefusingRest(sim, refusals=10**6).serving() as rest:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, rest.url), streams, history=20, config=CONFIG)
        run = Run(streams)

        def retried(symbol: str) -> int:
            return sum(1 for s in run.statuses if s.message.startswith(f"Still no valid {symbol} 1m"))

        async with feed:
            async for event in feed:
                run.take(event)
                if retried("BTCUSDT") >= 1 and ("BTCUSDT", "1m") in feed.streams:
                    await feed.remove_stream("BTCUSDT", "1m")
                    removed_at = len(run.statuses)
                if retried("ETHUSDT") >= 4:
                    break
    after_removal = run.statuses[removed_at:]
    assert not any(s.message.startswith("Still no valid BTCUSDT") for s in after_removal)
    assert any(s.message.startswith("Still no valid ETHUSDT") for s in after_removal)
    assert run.closed[("ETHUSDT", "1m")], "the stream that stayed kept flowing"


async def test_the_engine_restarts_the_stream_and_its_strategies_warm_up_on_the_late_history() -> None:
    """The engine's series is history + live exactly once in order (the simulator's), and
    its strategies read exactly what a fresh engine reads from those candles."""
    async with SimExchange(SimConfig(speed=60, seed=37)) as sim, RefusingRest(sim, refusals=4).serving() as rest:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, rest.url), [("ETHUSDT", "1m")], history=HISTORY,
                         config=CONFIG)
        engine = RealtimeStrategyEngine("ETHUSDT", "1m", ["ema_cross", "rsi"], "majority", "binance")
        watch = Watch(engine)
        async with feed:
            task = asyncio.create_task(engine.run(feed))
            async with asyncio.timeout(30):
                while not (len(engine.series) >= HISTORY + 2 and engine.snapshot.state is ConnectionState.LIVE):
                    await watch.snapshot_after()
            await engine.stop()
            await task
    candles = engine.series.candles()
    assert candles == sim.closed_candles("ETHUSDT", "1m", candles[0].open_time, candles[-1].open_time)
    assert len(candles) >= HISTORY + 2
    last = watch.confirmed[-1]
    assert all(row.signal.action is not Action.WARMUP for row in last.rows), last.rows
    # what the screen shows restarted too: recent candles once each, in order, and the
    # recent signals one per candle of the rebuilt series
    recent = [c for c in engine.snapshot.recent_candles if c.closed]
    assert recent == candles[-len(recent):]
    assert len(recent) == min(len(candles), EngineOptions().recent_candles)
    signal_opens = [s.open_time for s in engine.snapshot.recent_signals]
    assert signal_opens == [c.open_time for c in candles[-len(signal_opens):]]

    fresh = RealtimeStrategyEngine("ETHUSDT", "1m", ["ema_cross", "rsi"], "majority", "binance")
    fresh_watch = Watch(fresh)
    await fresh.run(burst([CandleEvent("binance", "ETHUSDT", "1m", c, 0.0, c.close_time) for c in candles]))
    assert fresh_watch.confirmed[-1].open_time == last.open_time
    def read(signal: ConfirmedSignal) -> list[tuple[object, ...]]:  # timings differ, readings must not
        return [(row.name, row.signal, row.changed_at, row.error) for row in signal.rows]

    assert read(fresh_watch.confirmed[-1]) == read(last)
    assert fresh_watch.confirmed[-1].confluence == last.confluence
    assert engine.snapshot.metrics.strategy_errors == 0


async def test_stream_prints_the_late_history_backfilled_without_repeating_a_candle() -> None:
    """`cryptoai-tui stream` as a subprocess with its default retry (5 s): the history
    refused at the bootstrap is printed once it comes, marked backfilled; the live candles
    already printed are not printed again."""
    async with SimExchange(SimConfig(speed=60, seed=38)) as sim, RefusingRest(sim, refusals=3).serving() as rest:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cryptoai_tui", "stream", "BTCUSDT", "--interval", "1m", "--history", "30",
            "--exchange", "binance", "--ws-url", sim.ws_url, "--rest-url", rest.url, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        lines: list[dict[str, object]] = []
        try:
            async with asyncio.timeout(60):
                while not (any(line["backfilled"] for line in lines)
                           and not lines[-1]["backfilled"] and lines[-1]["open_time"] > max(
                               int(line["open_time"]) for line in lines[:-1])):  # type: ignore[call-overload]
                    raw = await process.stdout.readline()
                    assert raw, "stream ended"
                    lines.append(json.loads(raw))
        finally:
            process.terminate()
            _, err = await process.communicate()
    stderr = err.decode()
    assert "Could not load the BTCUSDT 1m history" in stderr and "Retrying in 5.0 s." in stderr
    assert "Backfilled" in stderr
    opens = [int(line["open_time"]) for line in lines]  # type: ignore[call-overload]
    assert len(opens) == len(set(opens)), "a candle printed twice"
    live_first = [line for line in lines if not line["backfilled"]]
    backfilled = [line for line in lines if line["backfilled"]]
    assert live_first[0] is lines[0]  # live before the history came
    assert max(int(line["open_time"]) for line in backfilled) < int(lines[0]["open_time"])  # type: ignore[call-overload]
    assert lines.index(backfilled[0]) + len(backfilled) >= 30  # the history asked for, at least
    everything = sorted(opens)
    truth = sim.closed_candles("BTCUSDT", "1m", everything[0], everything[-1])
    assert everything == [c.open_time for c in truth]
    by_open = {int(line["open_time"]): line for line in lines}  # type: ignore[call-overload]
    assert all(by_open[c.open_time]["close"] == c.close for c in truth)


async def test_stream_manager_buffers_get_the_late_history_and_callbacks_the_full_window() -> None:
    """The Python API: ready at once with live candles only; once the history comes the
    buffer holds history + live once each in order (the simulator's), the replay calls no
    callback, and the next live close calls back with the whole window."""
    from cryptoai_tui.api import StreamManager

    async with SimExchange(SimConfig(speed=60, seed=39)) as sim, RefusingRest(sim, refusals=4).serving() as rest:
        frames: list[object] = []
        manager = StreamManager("binance", sim.ws_url, rest.url, config=CONFIG)
        rest.open.clear()  # the history waits until two live closes have called back
        async with manager:
            await asyncio.to_thread(manager.start_stream, "BTCUSDT", "1m", HISTORY, frames.append)
            assert await manager.ready("BTCUSDT", "1m", timeout=20)
            async with asyncio.timeout(30):
                while len(frames) < 2:
                    await asyncio.sleep(0.02)
                rest.open.set()
                while not any(len(frame) >= HISTORY - 1 for frame in frames):  # type: ignore[arg-type]
                    await asyncio.sleep(0.02)
            data = await asyncio.to_thread(manager.get_data, "BTCUSDT", "1m")
    assert len(data) >= HISTORY - 1
    opens = [int(ts.timestamp() * 1000) for ts in data.index]
    truth = sim.closed_candles("BTCUSDT", "1m", opens[0], opens[-1])
    assert opens == [c.open_time for c in truth]
    assert list(data["close"]) == [c.close for c in truth]
    sizes = [len(frame) for frame in frames]  # type: ignore[arg-type]
    # live-only windows first, then the full one: no callback for a replayed candle
    grown = next(i for i, size in enumerate(sizes) if size >= HISTORY - 1)
    assert grown > 0 and all(size < 20 for size in sizes[:grown])


async def test_signals_prints_warmed_up_strategies_once_the_late_history_comes() -> None:
    """`cryptoai-tui signals` as a subprocess (default retry, 5 s): RSI cannot warm up on
    the few live candles of the first seconds, yet its lines come, first the history
    (marked so), then live, each candle once, equal to the simulator's candles."""
    async with SimExchange(SimConfig(speed=30, seed=40)) as sim, RefusingRest(sim, refusals=3).serving() as rest:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cryptoai_tui", "signals", "--symbol", "BTCUSDT", "--interval", "1m",
            "--exchange", "binance", "--ws-url", sim.ws_url, "--rest-url", rest.url, "--strategies", "rsi",
            "--all-candles", cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        lines: list[dict[str, object]] = []
        try:
            async with asyncio.timeout(60):
                while not (lines and lines[-1]["history"] is False):
                    raw = await process.stdout.readline()
                    assert raw, "signals ended"
                    lines.append(json.loads(raw))
        finally:
            process.terminate()
            _, err = await process.communicate()
    stderr = err.decode()
    assert "Could not load the BTCUSDT 1m history" in stderr
    assert lines[0]["history"] is True and len(lines) > 100  # the 500 history candles, warmed after 15
    assert all(line["strategies"]["rsi"]["action"] != "WARMUP" for line in lines)  # type: ignore[index]
    opens = [int(line["open_time"]) for line in lines]  # type: ignore[call-overload]
    assert opens == sorted(set(opens))
    assert opens == [c.open_time for c in sim.closed_candles("BTCUSDT", "1m", opens[0], opens[-1])]


async def test_history_that_comes_before_any_live_close_is_the_series_and_live_follows_it() -> None:
    """A real-time clock (speed 1): the history comes back before a candle closes live, so
    the replay is the history alone, ending at the candle before the forming one; the
    forming updates that follow are accepted as the next candle, not taken for a gap."""
    async with SimExchange(SimConfig(speed=1, seed=42)) as sim, RefusingRest(sim, refusals=3).serving() as rest:
        feed = KlineFeed(get_protocol("binance", sim.ws_url, rest.url), [("BTCUSDT", "1m")], history=20,
                         config=CONFIG)
        events: list[CandleEvent | FeedStatus] = []

        async def consume() -> None:
            async with feed:
                async for event in feed:
                    events.append(event)
                    resets = [i for i, e in enumerate(events) if isinstance(e, FeedStatus) and e.reset]
                    if resets and sum(1 for e in events[resets[0]:] if isinstance(e, CandleEvent)
                                      and not e.backfilled) >= 2:
                        return

        await asyncio.wait_for(consume(), 30)
        at = next(i for i, e in enumerate(events) if isinstance(e, FeedStatus) and e.reset)
        live_closed_before = [e for e in events[:at] if isinstance(e, CandleEvent) and e.candle.closed]
        replay = [e for e in events[at:] if isinstance(e, CandleEvent) and e.backfilled]
        after = [e for e in events[at:] if isinstance(e, CandleEvent) and not e.backfilled]
        now_open = sim.current_open_time("1m")
    if live_closed_before:
        return  # a minute turned while the history was refused: the other test's case
    assert len(replay) == 20
    assert [e.candle for e in replay] == sim.closed_candles("BTCUSDT", "1m", replay[0].candle.open_time,
                                                              replay[-1].candle.open_time)
    assert after[0].candle.open_time == replay[-1].candle.open_time + 60_000
    assert replay[-1].candle.open_time >= now_open - 2 * 60_000
    said = [e.message for e in events if isinstance(e, FeedStatus)]
    assert not any("missed" in m for m in said)  # no gap repair was needed to join them
    assert feed.counters.duplicates_dropped == 0 and feed.counters.candles_backfilled == 20
