"""Tick-to-snapshot latency: one Binance kline frame in, one published Snapshot out.

Ours: the frame is decoded by the Binance protocol's `parse_ws_message`, handed to the real
RealtimeStrategyEngine as a CandleEvent, and timed until the snapshot listener fires (all 11
strategies, 1000-candle window, confluence, Snapshot). The source waits for each snapshot
before sending the next frame, so nothing is coalesced and every frame is measured.

Baseline (the seed design, same run, same frames): `json.loads`, append to a candle list,
rebuild a pandas DataFrame of the window and compute the indicators with pandas
(ewm/rolling, no TA-Lib) on every message.

Frames: for each of the candles after the first 1000 of tests/data/candles/BTCUSDT-1h.csv,
`--updates` forming updates walking towards the candle's close, then the closing frame.

Prints JSON: p50_us, p99_us, baseline_p50_us, baseline_p99_us, speedup (baseline p50 / ours).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import AsyncIterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptoai_tui.engine import EngineOptions, RealtimeStrategyEngine  # noqa: E402
from cryptoai_tui.exchanges.binance import BinanceSpot  # noqa: E402
from cryptoai_tui.exchanges.base import KlineMessage  # noqa: E402
from cryptoai_tui.feed.status import ConnectionState, FeedCounters, FeedStatus  # noqa: E402
from cryptoai_tui.market import Candle, CandleEvent, Interval  # noqa: E402
from cryptoai_tui.replay import read_candles_csv  # noqa: E402
from cryptoai_tui.snapshot import Snapshot  # noqa: E402

CSV = ROOT / "tests" / "data" / "candles" / "BTCUSDT-1h.csv"
SYMBOL = "BTCUSDT"
INTERVAL = Interval.parse("1h")
WINDOW = 1000


def forming_steps(candle: Candle, updates: int) -> list[Candle]:
    """`updates` forming versions of `candle` whose close walks from open to the final close."""
    steps = []
    for k in range(1, updates + 1):
        close = candle.open + (candle.close - candle.open) * k / (updates + 1)
        steps.append(Candle(candle.open_time, candle.open, max(candle.open, close), min(candle.open, close),
                            close, candle.volume * k / (updates + 1), candle.close_time, False))
    return steps


def frames_for(candles: list[Candle], updates: int, protocol: BinanceSpot) -> list[str]:
    frames = []
    for candle in candles:
        for step in forming_steps(candle, updates) + [candle]:
            frames.append(protocol.encode_kline(SYMBOL, INTERVAL.name, step, candle.open_time + 1))
    return frames


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def measure_engine(
    history: list[Candle], frames: list[str], protocol: BinanceSpot, pause_s: float = 0.0
) -> tuple[list[float], dict[str, float]]:
    """Latencies (µs) of `frames` and each strategy's p50; `pause_s` idles the loop between
    frames as a live stream does (0, the benchmark's figure: frames back to back)."""
    published = asyncio.Event()
    marks: dict[str, int] = {}
    latencies: list[float] = []
    strategy_us: dict[str, list[float]] = {}

    def on_snapshot(snapshot: Snapshot) -> None:
        marks["out"] = time.perf_counter_ns()
        published.set()
        if snapshot.state is ConnectionState.LIVE:
            for row in snapshot.rows:
                strategy_us.setdefault(row.name, []).append(row.elapsed_us)

    async def source() -> AsyncIterator[CandleEvent | FeedStatus]:
        for candle in history:  # bootstrap, not timed
            yield CandleEvent("binance", SYMBOL, INTERVAL.name, candle, time.time() * 1000.0, candle.close_time)
        yield FeedStatus(ConnectionState.LIVE, "Live.")
        while engine.snapshot.metrics.messages_processed < len(history):
            await asyncio.sleep(0)
        gc.collect()
        for frame in frames:
            published.clear()
            started = time.perf_counter_ns()
            for message in protocol.parse_ws_message(frame):
                if isinstance(message, KlineMessage):
                    yield CandleEvent("binance", message.symbol, message.interval, message.candle,
                                      time.time() * 1000.0, message.event_time)
            await published.wait()
            latencies.append((marks["out"] - started) / 1000.0)
            if pause_s:
                await asyncio.sleep(pause_s)

    engine = RealtimeStrategyEngine(SYMBOL, INTERVAL, "all", "majority", options=EngineOptions(window=WINDOW))
    engine.add_listener(on_snapshot=on_snapshot)
    await engine.run(BenchSource(source()))
    snapshot = engine.snapshot
    assert snapshot.metrics.messages_coalesced == 0, "the benchmark must not coalesce"
    assert snapshot.metrics.strategy_errors == 0, [row.error for row in snapshot.rows if row.error]
    return latencies, {name: percentile(values, 0.5) for name, values in strategy_us.items()}


class BenchSource:
    """The scripted frames as a CandleSource (no feed, so no feed counters to report)."""

    def __init__(self, items: AsyncIterator[CandleEvent | FeedStatus]) -> None:
        self._items = items
        self.counters = FeedCounters()
        self.clock_offset_ms: float | None = None

    def __aiter__(self) -> AsyncIterator[CandleEvent | FeedStatus]:
        return self._items


class PandasBaseline:
    """The seed design's hot path: DataFrame rebuilt per message, indicators via pandas."""

    def __init__(self, history: list[Candle]) -> None:
        import pandas  # noqa: F401  (imported outside the timed loop, as the seed app did at start)

        self.rows = [(c.open_time, c.open, c.high, c.low, c.close, c.volume) for c in history[-WINDOW:]]
        self.forming: tuple | None = None

    def on_message(self, text: str) -> dict[str, float]:
        import pandas as pd

        k = json.loads(text)["k"]
        row = (int(k["t"]), float(k["o"]), float(k["h"]), float(k["l"]), float(k["c"]), float(k["v"]))
        if k["x"]:
            self.rows.append(row)
            del self.rows[:-WINDOW]
            self.forming = None
        else:
            self.forming = row
        rows = self.rows + [self.forming] if self.forming else self.rows
        df = pd.DataFrame(rows, columns=["open_time", "open", "high", "low", "close", "volume"])
        df["open_time"] = pd.to_datetime(df["open_time"], unit="ms", utc=True)
        df = df.set_index("open_time")
        close, high, low = df["close"], df["high"], df["low"]

        delta = close.diff()
        gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
        loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
        rsi = 100 * gain / (gain + loss)
        ema_fast = close.ewm(span=9, adjust=False).mean()
        ema_slow = close.ewm(span=21, adjust=False).mean()
        middle = close.rolling(20).mean()
        sigma = close.rolling(20).std(ddof=0)
        upper, lower = middle + 2 * sigma, middle - 2 * sigma
        macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
        macd_signal = macd.ewm(span=9, adjust=False).mean()
        lowest, highest = low.rolling(14).min(), high.rolling(14).max()
        stoch_k = (100 * (close - lowest) / (highest - lowest)).rolling(3).mean()
        stoch_d = stoch_k.rolling(3).mean()
        previous_close = close.shift(1)
        true_range = pd.concat([high - low, (high - previous_close).abs(), (low - previous_close).abs()], axis=1).max(axis=1)
        up, down = high.diff(), -low.diff()
        plus_dm = up.where((up > down) & (up > 0), 0.0)
        minus_dm = down.where((down > up) & (down > 0), 0.0)
        atr = true_range.ewm(alpha=1 / 14, adjust=False).mean()
        plus_di = 100 * plus_dm.ewm(alpha=1 / 14, adjust=False).mean() / atr
        minus_di = 100 * minus_dm.ewm(alpha=1 / 14, adjust=False).mean() / atr
        dx = 100 * (plus_di - minus_di).abs() / (plus_di + minus_di)
        adx = dx.ewm(alpha=1 / 14, adjust=False).mean()
        # Smart-money patterns as the seed design sketched them: swings from rolling extremes.
        swing_high = high.rolling(11, center=True).max() == high
        swing_low = low.rolling(11, center=True).min() == low
        last_high = high.where(swing_high).ffill()
        last_low = low.where(swing_low).ffill()
        bos = (close > last_high.shift(1)).astype(int) - (close < last_low.shift(1)).astype(int)
        fvg = (low > high.shift(2)).astype(int) - (high < low.shift(2)).astype(int)
        sweep = ((high > last_high.shift(1)) & (close < last_high.shift(1))).astype(int)
        order_block = (df["close"] < df["open"]).shift(1, fill_value=False) & (bos > 0)
        return {
            "rsi": float(rsi.iloc[-1]), "ema": float(ema_fast.iloc[-1] - ema_slow.iloc[-1]),
            "bb": float((close.iloc[-1] - lower.iloc[-1]) / (upper.iloc[-1] - lower.iloc[-1])),
            "macd": float(macd.iloc[-1] - macd_signal.iloc[-1]), "stoch": float(stoch_k.iloc[-1] - stoch_d.iloc[-1]),
            "adx": float(adx.iloc[-1]), "bos": float(bos.iloc[-1]), "fvg": float(fvg.iloc[-1]),
            "sweep": float(sweep.iloc[-1]), "order_block": float(order_block.iloc[-1]),
        }


def measure_baseline(history: list[Candle], frames: list[str]) -> list[float]:
    baseline = PandasBaseline(history)
    for frame in frames[:5]:  # warm pandas' caches, as ours is warmed by its bootstrap
        baseline.on_message(frame)
    baseline = PandasBaseline(history)
    gc.collect()
    latencies = []
    for frame in frames:
        started = time.perf_counter_ns()
        baseline.on_message(frame)
        latencies.append((time.perf_counter_ns() - started) / 1000.0)
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=200, help="live candles to stream after the window (default 200)")
    parser.add_argument("--updates", type=int, default=9, help="forming updates per candle (default 9)")
    parser.add_argument("--baseline-frames", type=int, default=300, help="frames timed for the baseline (default 300)")
    args = parser.parse_args(argv)

    candles = read_candles_csv(CSV, INTERVAL)
    history, live = candles[:WINDOW], candles[WINDOW:WINDOW + args.candles]
    protocol = BinanceSpot()
    frames = frames_for(live, args.updates, protocol)

    ours, per_strategy = asyncio.run(measure_engine(history, frames, protocol))
    base = measure_baseline(history, frames[: args.baseline_frames])
    p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    b50, b99 = percentile(base, 0.5), percentile(base, 0.99)
    print(json.dumps({
        "frames": len(ours),
        "baseline_frames": len(base),
        "strategies": 11,
        "window": WINDOW,
        "p50_us": round(p50, 1),
        "p99_us": round(p99, 1),
        "max_us": round(max(ours), 1),
        "baseline_p50_us": round(b50, 1),
        "baseline_p99_us": round(b99, 1),
        "speedup": round(b50 / p50, 1),
        # the machine is shared: a busy neighbour shows in p99 first
        "load_average_1m": round(os.getloadavg()[0], 2),
        "strategy_p50_us": {name: round(us, 1) for name, us in per_strategy.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
