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


_VOLATILITY = np.array([0.62, 1.0, 1.0, 1.7])
_DRIFT = np.array([0.0, 0.55, -0.55, 0.0])
_VOLUME_FACTOR = np.array([0.6, 1.0, 1.0, 1.8])


#: Per child level (its unit): expected regime changes inside one parent, and the share of
#: the regimes' volatility contrast the level shows. Regimes nest (a volatile day has calm
#: minutes), and contrasts multiply down the levels: at full contrast on days, hours and
#: minutes a calm minute of a calm hour of a calm day moved 30 times less than a volatile
#: one (BTCUSDT sat at 0.001% a minute, a flat line). So days and hours show half of it
#: and hours mostly keep their day's regime; minutes show all of it, which is where a
#: chart's calm and volatile stretches are seen.
TEXTURE: dict[int, tuple[float, float]] = {
    DAY_MS: (1.0 / 7.0, 0.5),
    HOUR_MS: (0.6, 0.5),
    MINUTE_MS: (1.5, 1.0),
    SECOND_MS: (1.5, 1.0),
}

#: How much of the parent's room a child path fills before its extreme child's wick reaches
#: the parent's high or low. Filling all of it made each level's children about 1.15 times
#: larger than a random walk's (minutes 1.33 times), so every symbol ran hot.
_FILL = 0.85

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
                 volume_decimals: int, regime_switches: float = 1.5, contrast: float = 1.0) -> Block:
    """Children of `parent` whose aggregate is exactly the parent (see the module doc).

    The path is a Brownian bridge from the parent's open to its close in "variance time"
    (each child's share of the parent's variance is its regime's volatility squared, so a
    calm stretch moves less than a volatile one beside it), and its deviation from the
    straight line is then scaled, up and down separately, until the children's wicks nearly
    reach the parent's high and low (`_FILL`); the extreme children's wicks close the gap,
    so the aggregate is exact. Scaling rather than squeezing the path into the
    parent's range is what keeps every level's moves in proportion to that range: a flat
    parent does not produce frozen children, and a volatile child cannot flatten its
    calm siblings. `regime_switches` is the expected number of regime changes inside one
    parent; `contrast` (0 to 1) how much of the regimes' volatility difference this level
    shows (see `TEXTURE`).
    """
    o, h, l, c, v, regime = parent
    normals = rng.standard_normal((3, n))
    uniforms = rng.random((2, n))
    weights = rng.gamma(2.0, 1.0, n)
    regimes = _regime_chain(regime, uniforms[0] < regime_switches / n, uniforms[1])
    mult = _VOLATILITY[regimes] ** contrast
    variance = mult * mult

    lo, lc, lh, ll = math.log(o), math.log(c), math.log(h), math.log(l)
    # A unit-step walk, then the bridge: subtract the walk's end spread by variance time.
    share = np.empty(n + 1)
    share[0] = 0.0
    np.cumsum(variance, out=share[1:])
    share /= share[-1]
    noise = _bridge(mult * normals[0], share)
    # Drift per child shrinks with the square root of the number of children, like the
    # noise's share of the parent: a trend of a whole parent is about as large as its noise.
    # (A fixed drift per child made an hour's trend 4 times its noise, so the minutes were a
    # smooth ramp: a flat line with an ADX near 90.)
    trend = _bridge(_DRIFT[regimes] * (2.0 / math.sqrt(n)), share)
    line = lo + share * (lc - lo)
    # Wick lengths of each child in the same units, measured from its body. Never near
    # zero: a child's range is the range of a path inside it, which is rarely much below
    # its typical size, and a child with no range would have frozen children of its own.
    up_wick = mult * (0.2 + 0.25 * np.abs(normals[1]))
    down_wick = mult * (0.2 + 0.25 * np.abs(normals[2]))
    # A noise bridge and its mirror image are equally likely; take the one that suits the
    # parent's shape (a walk that wanders up inside a candle whose room is below would be
    # squashed). The trends of trending regimes keep their direction.
    best: tuple[float, float, float, np.ndarray] | None = None
    for sign in (1.0, -1.0):
        candidate = sign * noise + trend
        up_scale, down_scale = _fit_scales(candidate, line, up_wick, down_wick, lh, ll)
        scaled = np.where(candidate > 0.0, up_scale * candidate, down_scale * candidate)
        reach = float(scaled.max() - scaled.min())
        if best is None or reach > best[0]:
            best = (reach, up_scale, down_scale, scaled)
    assert best is not None
    _, up_scale, down_scale, scaled = best
    path = line + scaled
    raw_high = np.maximum(path[:-1], path[1:]) + up_scale * up_wick
    raw_low = np.minimum(path[:-1], path[1:]) - down_scale * down_wick

    points = np.clip(np.round(np.exp(path), price_decimals), l, h)
    points[0], points[-1] = o, c
    opens, closes = points[:-1], points[1:]
    highs = np.minimum(np.maximum(np.round(np.exp(raw_high), price_decimals), np.maximum(opens, closes)), h)
    lows = np.maximum(np.minimum(np.round(np.exp(raw_low), price_decimals), np.minimum(opens, closes)), l)
    highs[int(np.argmax(raw_high))] = h
    lows[int(np.argmin(raw_low))] = l

    steps = np.abs(np.diff(path))
    activity = weights * mult * (1.0 + steps / max(float(steps.mean()), 1e-12))
    scale = 10.0 ** volume_decimals
    volumes = np.floor(v * activity / activity.sum() * scale) / scale
    volumes[-1] = max(round(v - float(volumes[:-1].sum()), volume_decimals), 0.0)
    return Block(opens.tolist(), highs.tolist(), lows.tolist(), closes.tolist(), volumes.tolist(),
                 regimes.tolist())


def _bridge(moves: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The walk of `moves` (n steps, n + 1 points from 0) pinned back to 0 at the end,
    the correction spread by `share` (cumulative variance time, 0 to 1)."""
    walk = np.empty(moves.shape[0] + 1)
    walk[0] = 0.0
    np.cumsum(moves, out=walk[1:])
    bridged = walk - share * walk[-1]
    bridged[0] = bridged[-1] = 0.0
    return bridged


def _fit_scales(deviation: np.ndarray, line: np.ndarray, up_wick: np.ndarray, down_wick: np.ndarray,
                lh: float, ll: float) -> tuple[float, float]:
    """The largest factors for the rises and the falls of `deviation` (and the wicks on
    each side) that keep every child inside [ll, lh], at most ten to one apart so the
    texture stays believable; the side left short ends in one wick to the extreme."""
    up = _fit_scale(np.maximum(deviation[:-1], 0.0) + up_wick, np.maximum(deviation[1:], 0.0) + up_wick,
                    lh - line[:-1], lh - line[1:])
    down = _fit_scale(np.maximum(-deviation[:-1], 0.0) + down_wick, np.maximum(-deviation[1:], 0.0) + down_wick,
                      line[:-1] - ll, line[1:] - ll)
    if up > 0.0 and down > 0.0:
        up, down = min(up, 3.0 * down), min(down, 3.0 * up)
    return up * _FILL, down * _FILL


def _fit_scale(reach_start: np.ndarray, reach_end: np.ndarray, room_start: np.ndarray,
               room_end: np.ndarray) -> float:
    """The largest factor by which every child's reach (from its open's and its close's
    point on the line) stays within the room to the parent's extreme."""
    reach = np.concatenate((reach_start, reach_end))
    room = np.maximum(np.concatenate((room_start, room_end)), 0.0)
    positive = reach > 1e-15
    if not positive.any():
        return 0.0
    return float((room[positive] / reach[positive]).min())


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
        switches, contrast = TEXTURE[DAY_MS]
        regimes = _regime_chain(start_regime, uniforms[0] < switches, uniforms[1]).tolist()
        tick = 10.0 ** -self.price_decimals
        mean = math.log(spec.price)
        close = previous[3] if previous else spec.price
        pd, vd = self.price_decimals, self.volume_decimals
        for i in range(_DAY_CHUNK):
            regime = regimes[i]
            mult = float(_VOLATILITY[regime]) ** contrast
            sd = spec.daily_volatility * mult
            o = close
            log_move = _REVERSION_PER_DAY * (mean - math.log(o)) + sd * (normals[0][i] + 0.5 * float(_DRIFT[regime]))
            c = max(round(o * math.exp(log_move), pd), tick)
            # Wicks of at least a quarter of the day's deviation: a day never trades flat.
            h = max(round(max(o, c) * math.exp(sd * (0.25 + 0.2 * abs(normals[1][i]))), pd), o, c)
            l = min(max(round(min(o, c) * math.exp(-sd * (0.25 + 0.2 * abs(normals[2][i]))), pd), tick), o, c)
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
