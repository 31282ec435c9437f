"""The simulated price path: a seeded daily walk refined top-down into hours, minutes, seconds.

Why top-down: every candle of every interval must be an exact aggregation of one path
(live finals equal REST history; 1h equals its sixty 1m), at any time, without storing a
stream. So the base level (days, or a replayed CSV's own candles) is a pure function of
(seed, symbol, day), and each parent candle is split into its children by a seeded
Brownian bridge that starts at the parent's open, ends at its close and touches exactly its
high and low. Each split draws from its own counter-based RNG keyed on (seed, symbol,
level, parent open time), so any candle costs a few small splits. `sim/market.py` turns
these rows into candles of any interval.
"""

from __future__ import annotations

import math
import threading
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

import numpy as np

from cryptoai_tui.sim.replay import ReplaySeries
from cryptoai_tui.sim.symbols import SymbolSpec

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: 2017-05-01 00:00 UTC, a Monday (so weekly candles start whole): the first simulated day.
LISTING_MS = 1_493_596_800_000
_LEVEL_UNITS = (DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS)
_DAY_CHUNK = 256

# log-price mean reversion per day towards the symbol's reference price: a half-life of
# about six weeks keeps years of history at realistic levels without flattening trends.
_REVERSION_PER_DAY = 0.015


class Regime(Enum):
    """The texture of a stretch of the market; nested (a volatile day has calm minutes)."""

    CALM = 0
    TRENDING_UP = 1
    TRENDING_DOWN = 2
    VOLATILE = 3


_VOLATILITY = np.array([0.35, 1.0, 1.0, 2.6])
_DRIFT = np.array([0.0, 0.55, -0.55, 0.0])
_VOLUME_FACTOR = np.array([0.6, 1.0, 1.0, 1.8])


Row = tuple[float, float, float, float, float, int]  # open, high, low, close, volume, regime


@dataclass(slots=True)
class Block:
    """The children of one parent candle, as lists for cheap scalar access."""

    opens: list[float]
    highs: list[float]
    lows: list[float]
    closes: list[float]
    volumes: list[float]
    regimes: list[int]

    def row(self, i: int) -> Row:
        return (self.opens[i], self.highs[i], self.lows[i], self.closes[i], self.volumes[i], self.regimes[i])

    def aggregate(self, start: int, stop: int, volume_decimals: int) -> Row:
        """Children [start, stop) as one candle."""
        if stop - start == 1:
            return self.row(start)
        return (self.opens[start], max(self.highs[start:stop]), min(self.lows[start:stop]),
                self.closes[stop - 1], round(math.fsum(self.volumes[start:stop]), volume_decimals),
                self.regimes[stop - 1])


def _regime_chain(start: int, switches: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """A sticky Markov chain over the four regimes: at each True in `switches` the regime
    moves to one of the other three (chosen by `pick`, uniform in [0, 1))."""
    out = np.empty(switches.shape[0], dtype=np.int64)
    current = start
    last = 0
    for i in np.flatnonzero(switches):
        out[last:i] = current
        current = (current + 1 + int(pick[i] * 3)) % 4
        last = int(i)
    out[last:] = current
    return out


def split_candle(parent: Row, n: int, rng: np.random.Generator, price_decimals: int,
                 volume_decimals: int) -> Block:
    """Children of `parent` whose aggregate is exactly the parent (see the module doc)."""
    o, h, l, c, v, regime = parent
    normals = rng.standard_normal((3, n))
    uniforms = rng.random((2, n))
    weights = rng.gamma(2.0, 1.0, n)
    # About 1.5 regime changes per parent: runs of ~10 hours in a day, ~25 minutes in an hour.
    regimes = _regime_chain(regime, uniforms[0] < 1.5 / n, uniforms[1])
    mult = _VOLATILITY[regimes]

    lo, lc, lh, ll = math.log(o), math.log(c), math.log(h), math.log(l)
    step = max((lh - ll) / 2.0, 1e-9) / math.sqrt(n)
    moves = step * (mult * normals[0] + _DRIFT[regimes])
    # Brownian bridge: pin the end at the parent's close, spreading the correction by each
    # child's variance so calm stretches stay calm.
    moves += ((lc - lo) - moves.sum()) * (mult * mult) / float((mult * mult).sum())
    path = np.empty(n + 1)
    path[0] = lo
    np.cumsum(moves, out=path[1:])
    path[1:] += lo
    path[-1] = lc
    raw_high = np.maximum(path[:-1], path[1:]) + step * mult * np.abs(normals[1]) * 0.8
    raw_low = np.minimum(path[:-1], path[1:]) - step * mult * np.abs(normals[2]) * 0.8

    # Monotone map of the raw envelope onto the parent's [low, high], keeping open and close.
    a, b = min(lo, lc), max(lo, lc)
    top = max(float(raw_high.max()), b + 1e-12)
    bottom = min(float(raw_low.min()), a - 1e-12)
    if b - a > 1e-12:
        xs, ys = [bottom, a, b, top], [ll, a, b, lh]
    else:
        xs, ys = [bottom, a, top], [ll, a, lh]
    mapped_path = np.interp(path, xs, ys)
    mapped_high = np.interp(raw_high, xs, ys)
    mapped_low = np.interp(raw_low, xs, ys)

    points = np.clip(np.round(np.exp(mapped_path), price_decimals), l, h)
    points[0], points[-1] = o, c
    opens, closes = points[:-1], points[1:]
    highs = np.minimum(np.maximum(np.round(np.exp(mapped_high), price_decimals), np.maximum(opens, closes)), h)
    lows = np.maximum(np.minimum(np.round(np.exp(mapped_low), price_decimals), np.minimum(opens, closes)), l)
    highs[int(np.argmax(mapped_high))] = h
    lows[int(np.argmin(mapped_low))] = l

    share = weights * mult * (1.0 + np.abs(moves) / step)
    scale = 10.0 ** volume_decimals
    volumes = np.floor(v * share / share.sum() * scale) / scale
    volumes[-1] = max(round(v - float(volumes[:-1].sum()), volume_decimals), 0.0)
    return Block(opens.tolist(), highs.tolist(), lows.tolist(), closes.tolist(), volumes.tolist(),
                  regimes.tolist())


class PathSource:
    """Where one symbol's candles come from: a base level plus finer levels split from it."""

    name: str
    key: int
    levels: tuple[int, ...]
    phase: int
    listing_ms: int
    end_ms: int | None
    price_decimals: int
    volume_decimals: int

    def base(self, open_time: int) -> Row | None:
        raise NotImplementedError


class RandomPath(PathSource):
    """The seeded daily walk of a simulated symbol."""

    def __init__(self, spec: SymbolSpec, seed: int) -> None:
        self.name = spec.name
        self.spec = spec
        self.seed = seed
        self.key = zlib.crc32(spec.name.encode())
        self.levels = _LEVEL_UNITS
        self.phase = 0
        self.listing_ms = LISTING_MS
        self.end_ms = None
        self.price_decimals = spec.price_decimals
        self.volume_decimals = spec.volume_decimals
        self._rows: list[Row] = []
        self._lock = threading.Lock()

    def base(self, open_time: int) -> Row | None:
        day = (open_time - LISTING_MS) // DAY_MS
        if day < 0:
            return None
        if day >= len(self._rows):
            with self._lock:
                while day >= len(self._rows):
                    self._extend()
        return self._rows[day]

    def _extend(self) -> None:
        chunk = len(self._rows) // _DAY_CHUNK
        rng = np.random.Generator(np.random.PCG64([self.seed, self.key, DAY_MS, chunk]))
        normals = rng.standard_normal((4, _DAY_CHUNK)).tolist()
        uniforms = rng.random((2, _DAY_CHUNK))
        spec = self.spec
        previous = self._rows[-1] if self._rows else None
        start_regime = previous[5] if previous else 0
        # A daily regime lasts about a week.
        regimes = _regime_chain(start_regime, uniforms[0] < 1.0 / 7.0, uniforms[1]).tolist()
        tick = 10.0 ** -self.price_decimals
        mean = math.log(spec.price)
        close = previous[3] if previous else spec.price
        pd, vd = self.price_decimals, self.volume_decimals
        for i in range(_DAY_CHUNK):
            regime = regimes[i]
            mult = float(_VOLATILITY[regime])
            sd = spec.daily_volatility * mult
            o = close
            log_move = _REVERSION_PER_DAY * (mean - math.log(o)) + sd * (normals[0][i] + 0.5 * float(_DRIFT[regime]))
            c = max(round(o * math.exp(log_move), pd), tick)
            h = max(round(max(o, c) * math.exp(sd * 0.6 * abs(normals[1][i])), pd), o, c)
            l = min(max(round(min(o, c) * math.exp(-sd * 0.6 * abs(normals[2][i])), pd), tick), o, c)
            volume = spec.daily_turnover / ((o + c) / 2) * math.exp(0.35 * normals[3][i])
            volume *= float(_VOLUME_FACTOR[regime])
            self._rows.append((o, h, l, c, round(volume, vd), regime))
            close = c


class ReplayPath(PathSource):
    """A CSV's candles as the base level of its symbol."""

    def __init__(self, series: ReplaySeries, seed: int) -> None:
        self.name = series.symbol
        self.seed = seed
        self.key = zlib.crc32(series.symbol.encode())
        unit = series.interval_ms
        levels = [unit]
        for candidate in _LEVEL_UNITS:
            if candidate < levels[-1] and levels[-1] % candidate == 0:
                levels.append(candidate)
        self.levels = tuple(levels)
        self.phase = series.first_open % unit
        self.listing_ms = series.first_open
        self.end_ms = series.end_ms
        self.price_decimals = series.price_decimals
        self.volume_decimals = series.volume_decimals
        self._index = {t: i for i, t in enumerate(series.open_times)}
        self._series = series

    def base(self, open_time: int) -> Row | None:
        i = self._index.get(open_time)
        if i is None:
            return None
        s = self._series
        # Real candles carry no regime; their direction seeds the texture of their children.
        regime = Regime.TRENDING_UP if s.closes[i] >= s.opens[i] else Regime.TRENDING_DOWN
        return (s.opens[i], s.highs[i], s.lows[i], s.closes[i], s.volumes[i], regime.value)


def aggregate(rows: Sequence[Row], volume_decimals: int) -> Row | None:
    if not rows:
        return None
    if len(rows) == 1:
        return rows[0]
    high = max(r[1] for r in rows)
    low = min(r[2] for r in rows)
    volume = round(math.fsum(r[4] for r in rows), volume_decimals)
    return (rows[0][0], high, low, rows[-1][3], volume, rows[-1][5])
