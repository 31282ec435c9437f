"""The simulated market: any candle of any symbol, interval and time, computed on demand.

Why this shape: the live feed and REST must agree candle for candle (a client backfills
gaps over REST and a test compares what it received with the simulator's ground truth),
and a client may ask for history of any length at any interval. So nothing is stored as a
stream: every candle is a pure function of (seed, symbol, interval, open_time).

How: a seeded walk of *daily* candles (mean-reverting around a realistic price, with
calm/trending/volatile regimes) is refined top-down: each parent candle is split into
children (day -> 24 hours -> 60 minutes -> 60 seconds) by a seeded Brownian bridge that
starts at the parent's open, ends at its close, and is mapped monotonically into the
parent's [low, high] so that the children's first open, last close, highest high and lowest
low are exactly the parent's. Every other interval (3m, 4h, 1w, 1M ...) is an aggregation of
those levels, so all intervals of a symbol are consistent aggregations of one price path,
and a forming candle is the aggregation of the pieces already complete. Each split uses
its own counter-based RNG keyed on (seed, symbol, level, parent open time), so a candle
costs at most three small splits, cached in an LRU.

A replayed CSV replaces the daily walk of its symbol with its own candles as the base
level; finer intervals are split from them the same way.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Iterable, Iterator, Sequence

import numpy as np

from cryptoai_tui.exchanges.errors import InvalidIntervalError, InvalidSymbolError
from cryptoai_tui.market import Candle, Interval, Symbol
from cryptoai_tui.market.interval import InvalidIntervalError as UnreadableIntervalError
from cryptoai_tui.market.symbol import close_matches, split_pair
from cryptoai_tui.sim.replay import ReplaySeries

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: 2017-05-01 00:00 UTC, a Monday (so weekly candles start whole): the first simulated day.
LISTING_MS = 1_493_596_800_000
_LEVEL_UNITS = (DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS)
_DAY_CHUNK = 256
_CACHE_BLOCKS = 4096

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


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A simulated pair: its reference price, daily volatility and daily quote turnover."""

    name: str
    base: str
    quote: str
    price: float
    daily_volatility: float = 0.04
    daily_turnover: float = 5e7

    @property
    def price_decimals(self) -> int:
        return min(max(4 - math.floor(math.log10(self.price)), 2), 8)

    @property
    def volume_decimals(self) -> int:
        """Enough decimals that an average second's volume is thousands of units, so
        splitting volume between seconds never starves a child by rounding."""
        per_second = self.daily_turnover / self.price / 86_400
        return min(max(math.ceil(4 - math.log10(per_second)), 0), 8)

    def as_symbol(self) -> Symbol:
        return Symbol(self.name, self.base, self.quote, "TRADING")


def _spec(name: str, price: float, vol: float, turnover: float) -> SymbolSpec:
    base, quote = split_pair(name)
    assert base is not None and quote is not None
    return SymbolSpec(name, base, quote, price, vol, turnover)


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    _spec("BTCUSDT", 65000.0, 0.028, 1.5e9),
    _spec("ETHUSDT", 3200.0, 0.035, 8e8),
    _spec("BNBUSDT", 580.0, 0.03, 1.5e8),
    _spec("SOLUSDT", 150.0, 0.05, 4e8),
    _spec("XRPUSDT", 0.55, 0.045, 2e8),
    _spec("ADAUSDT", 0.45, 0.045, 8e7),
    _spec("DOGEUSDT", 0.12, 0.055, 2e8),
    _spec("AVAXUSDT", 30.0, 0.05, 6e7),
    _spec("DOTUSDT", 6.5, 0.045, 4e7),
    _spec("LINKUSDT", 15.0, 0.045, 6e7),
    _spec("LTCUSDT", 75.0, 0.04, 5e7),
    _spec("TRXUSDT", 0.12, 0.025, 4e7),
    _spec("SHIBUSDT", 0.000018, 0.055, 5e7),
    _spec("UNIUSDT", 8.0, 0.05, 3e7),
    _spec("ATOMUSDT", 8.0, 0.045, 3e7),
    _spec("XLMUSDT", 0.11, 0.04, 2e7),
    _spec("NEARUSDT", 5.0, 0.055, 5e7),
    _spec("APTUSDT", 8.0, 0.055, 4e7),
    _spec("ARBUSDT", 0.9, 0.055, 5e7),
    _spec("OPUSDT", 1.8, 0.055, 4e7),
    _spec("FILUSDT", 5.0, 0.05, 3e7),
    _spec("ETCUSDT", 22.0, 0.045, 3e7),
    _spec("BCHUSDT", 380.0, 0.04, 5e7),
    _spec("SUIUSDT", 1.2, 0.06, 8e7),
    _spec("PEPEUSDT", 0.000009, 0.07, 1e8),
    _spec("INJUSDT", 22.0, 0.06, 3e7),
    _spec("ETHBTC", 0.05, 0.02, 800.0),
    _spec("BNBBTC", 0.009, 0.02, 100.0),
    _spec("SOLBTC", 0.0023, 0.03, 150.0),
    _spec("BTCUSDC", 65000.0, 0.028, 3e8),
    _spec("ETHUSDC", 3200.0, 0.035, 1.5e8),
)
_DEFAULTS_BY_NAME = {spec.name: spec for spec in DEFAULT_SYMBOLS}


def symbol_spec(name: str) -> SymbolSpec:
    """The default spec of a familiar pair, or a plausible one derived from the name."""
    upper = name.strip().upper()
    known = _DEFAULTS_BY_NAME.get(upper)
    if known is not None:
        return known
    if not upper.isalnum() or not 2 <= len(upper) <= 20:
        raise ValueError(
            f"Cannot simulate symbol {name!r}: use letters and digits only, like BTCUSDT or ETHBTC."
        )
    base, quote = split_pair(upper)
    if base is None or quote is None:
        base, quote = upper, "USDT"
    digest = zlib.crc32(upper.encode())
    price = (1 + digest % 9) * 10.0 ** (digest // 9 % 5 - 1)
    return SymbolSpec(upper, base, quote, price, 0.05, 1e7)


# --- interval arithmetic (calendar months included) -------------------------------------

def parse_interval(interval: Interval | str) -> Interval:
    """An Interval the simulator can serve (fixed length, or the calendar month `1M`)."""
    if isinstance(interval, Interval):
        parsed = interval
    else:
        try:
            parsed = Interval.parse(interval)
        except UnreadableIntervalError:
            raise InvalidIntervalError(str(interval), _SERVABLE, "the simulator") from None
    if parsed.is_calendar and parsed.name != "1M":
        raise InvalidIntervalError(parsed.name, _SERVABLE, "the simulator")
    if not parsed.is_calendar and parsed.ms % SECOND_MS:
        raise InvalidIntervalError(parsed.name, _SERVABLE, "the simulator")
    return parsed


_SERVABLE = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")


def candle_open(interval: Interval, time_ms: int) -> int:
    """Open time of the candle of `interval` that contains `time_ms` (UTC)."""
    if interval.is_calendar:
        moment = datetime.fromtimestamp(time_ms // 1000, tz=timezone.utc)
        return int(datetime(moment.year, moment.month, 1, tzinfo=timezone.utc).timestamp() * 1000)
    return interval.open_time_of(time_ms)


def candle_end(interval: Interval, open_time: int) -> int:
    """One past the close time of the candle opening at `open_time` (the next open)."""
    if interval.is_calendar:
        moment = datetime.fromtimestamp(open_time // 1000, tz=timezone.utc)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp() * 1000)
    return open_time + interval.ms


def previous_open(interval: Interval, open_time: int) -> int:
    if interval.is_calendar:
        return candle_open(interval, open_time - 1)
    return open_time - interval.ms


# --- the price path -------------------------------------------------------------------

_Row = tuple[float, float, float, float, float, int]  # open, high, low, close, volume, regime


@dataclass(slots=True)
class _Block:
    """The children of one parent candle, as lists for cheap scalar access."""

    opens: list[float]
    highs: list[float]
    lows: list[float]
    closes: list[float]
    volumes: list[float]
    regimes: list[int]

    def row(self, i: int) -> _Row:
        return (self.opens[i], self.highs[i], self.lows[i], self.closes[i], self.volumes[i], self.regimes[i])

    def aggregate(self, start: int, stop: int, volume_decimals: int) -> _Row:
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


def split_candle(parent: _Row, n: int, rng: np.random.Generator, price_decimals: int,
                 volume_decimals: int) -> _Block:
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
    return _Block(opens.tolist(), highs.tolist(), lows.tolist(), closes.tolist(), volumes.tolist(),
                  regimes.tolist())


class _Source:
    """Where one symbol's candles come from: a base level plus finer levels split from it."""

    name: str
    key: int
    levels: tuple[int, ...]
    phase: int
    listing_ms: int
    end_ms: int | None
    price_decimals: int
    volume_decimals: int

    def base(self, open_time: int) -> _Row | None:
        raise NotImplementedError


class _RandomSource(_Source):
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
        self._rows: list[_Row] = []
        self._lock = threading.Lock()

    def base(self, open_time: int) -> _Row | None:
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


class _ReplaySource(_Source):
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

    def base(self, open_time: int) -> _Row | None:
        i = self._index.get(open_time)
        if i is None:
            return None
        s = self._series
        # Real candles carry no regime; their direction seeds the texture of their children.
        regime = Regime.TRENDING_UP if s.closes[i] >= s.opens[i] else Regime.TRENDING_DOWN
        return (s.opens[i], s.highs[i], s.lows[i], s.closes[i], s.volumes[i], regime.value)


class MarketModel:
    """Deterministic candles for a set of symbols (None or empty: DEFAULT_SYMBOLS) plus
    replayed ones; thread-safe (the app may read ground truth from another thread than the
    server's)."""

    def __init__(
        self,
        seed: int = 7,
        symbols: Iterable[SymbolSpec | str] | None = None,
        replays: Sequence[ReplaySeries] = (),
    ) -> None:
        self.seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        specs = [s if isinstance(s, SymbolSpec) else symbol_spec(s) for s in (symbols or DEFAULT_SYMBOLS)]
        self._sources: dict[str, _Source] = {}
        self._specs: dict[str, SymbolSpec] = {}
        for spec in specs:
            self._specs[spec.name] = spec
            self._sources[spec.name] = _RandomSource(spec, self.seed)
        for series in replays:
            if series.symbol not in self._specs:
                base, quote = split_pair(series.symbol)
                self._specs[series.symbol] = SymbolSpec(
                    series.symbol, base or series.symbol, quote or "USDT", series.closes[-1])
            self._sources[series.symbol] = _ReplaySource(series, self.seed)
        self._cache: OrderedDict[tuple[str, int, int], _Block | None] = OrderedDict()
        self._lock = threading.Lock()

    # --- what is listed -------------------------------------------------------------
    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return tuple(spec.as_symbol() for spec in self._specs.values())

    @property
    def symbol_names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def has_symbol(self, symbol: str) -> bool:
        return symbol in self._sources

    def listing_time(self, symbol: str) -> int:
        return self._source(symbol).listing_ms

    def data_end(self, symbol: str) -> int | None:
        """One past the last candle a replayed symbol has; None for simulated symbols."""
        return self._source(symbol).end_ms

    # --- candles ----------------------------------------------------------------------
    def candle(self, symbol: str, interval: Interval | str, open_time: int,
               now_ms: int | None = None) -> Candle | None:
        """The candle of `interval` opening at `open_time` (which must be a boundary).

        With `now_ms`, a candle not yet closed at that exchange time comes back forming
        (closed=False, the aggregate of what has happened so far), and one not yet opened
        as None. Without it, the finished candle (ground truth, whatever the clock says).
        None also for times before listing and for holes in replayed data.
        """
        source = self._source(symbol)
        span = parse_interval(interval)
        end = candle_end(span, open_time)
        if now_ms is not None and now_ms < end:
            if now_ms < open_time:
                return None
            return self._partial(source, span, open_time, end, now_ms)
        row = self._interval_row(source, span, open_time, end)
        if row is None:
            return None
        return Candle(open_time, row[0], row[1], row[2], row[3], row[4], end - 1, True)

    def klines(
        self,
        symbol: str,
        interval: Interval | str,
        *,
        now_ms: int,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
        newest_in_window: bool = False,
    ) -> list[Candle]:
        """REST kline selection, oldest first, the forming candle (if selected) last.

        Binance rules (exchanges.md §1.5): no times -> the newest `limit`; `start_time` ->
        the oldest `limit` opening at or after it; only `end_time` -> the newest `limit`
        opening at or before it; both -> the `start_time` rule capped at `end_time`.
        `newest_in_window` (Bybit) always takes the newest `limit` inside [start, end].
        """
        source = self._source(symbol)
        span = parse_interval(interval)
        bounds = self._open_bounds(source, span, now_ms, start_time, end_time)
        if bounds is None or limit <= 0:
            return []
        low, high = bounds
        if start_time is not None and not newest_in_window:
            opens = self._opens_forward(span, low, high)
        else:
            opens = self._opens_backward(span, high, low)
        out: list[Candle] = []
        for open_time in opens:
            candle = self.candle(symbol, span, open_time, now_ms)
            if candle is not None:
                out.append(candle)
                if len(out) >= limit:
                    break
        if not (start_time is not None and not newest_in_window):
            out.reverse()
        return out

    def closed_candles(self, symbol: str, interval: Interval | str, start_time: int, end_time: int,
                       now_ms: int) -> list[Candle]:
        """Every candle closed by `now_ms` whose open time is in [start_time, end_time]."""
        source = self._source(symbol)
        span = parse_interval(interval)
        bounds = self._open_bounds(source, span, now_ms, start_time, end_time)
        if bounds is None:
            return []
        out = []
        for open_time in self._opens_forward(span, *bounds):
            if candle_end(span, open_time) > now_ms:
                break
            candle = self.candle(symbol, span, open_time)
            if candle is not None:
                out.append(candle)
        return out

    def regime(self, symbol: str, time_ms: int) -> Regime:
        """The regime of the minute containing `time_ms` (for tests and demos)."""
        source = self._source(symbol)
        level = source.levels.index(MINUTE_MS) if MINUTE_MS in source.levels else len(source.levels) - 1
        unit = source.levels[level]
        row = self._level_row(source, level, time_ms - (time_ms - source.phase) % unit)
        return Regime(row[5]) if row else Regime.CALM

    # --- internals ----------------------------------------------------------------
    def _source(self, symbol: str) -> _Source:
        source = self._sources.get(symbol)
        if source is None:
            raise InvalidSymbolError(symbol, close_matches(symbol, self._sources), "the simulator")
        return source

    def _open_bounds(self, source: _Source, span: Interval, now_ms: int, start_time: int | None,
                     end_time: int | None) -> tuple[int, int] | None:
        low = candle_open(span, source.listing_ms)
        if start_time is not None:
            first = candle_open(span, start_time)
            if first < start_time:
                first = candle_end(span, first)
            low = max(low, first)
        latest = now_ms if source.end_ms is None else min(now_ms, source.end_ms - 1)
        if end_time is not None:
            latest = min(latest, end_time)
        if latest < 0:
            return None
        high = candle_open(span, latest)
        return (low, high) if high >= low else None

    @staticmethod
    def _opens_forward(span: Interval, low: int, high: int) -> Iterator[int]:
        open_time = low
        while open_time <= high:
            yield open_time
            open_time = candle_end(span, open_time)

    @staticmethod
    def _opens_backward(span: Interval, high: int, low: int) -> Iterator[int]:
        open_time = high
        while open_time >= low:
            yield open_time
            open_time = previous_open(span, open_time)

    def _piece_level(self, source: _Source, span: Interval) -> int:
        """The level whose candles make up a candle of `span`: the coarsest level that
        divides it (days for calendar months)."""
        size = DAY_MS if span.is_calendar else span.ms
        for level, unit in enumerate(source.levels):
            if unit <= size and size % unit == 0:
                return level
        raise InvalidIntervalError(span.name, _SERVABLE, "the simulator")

    def _interval_row(self, source: _Source, span: Interval, open_time: int, end: int) -> _Row | None:
        level = self._piece_level(source, span)
        unit = source.levels[level]
        if end - open_time == unit:
            return self._level_row(source, level, open_time)
        return self._span_row(source, level, open_time, end)

    def _partial(self, source: _Source, span: Interval, open_time: int, end: int, now_ms: int) -> Candle | None:
        """The forming candle: the aggregate of every whole piece already finished,
        coarsest pieces first (finished days, then hours, minutes, seconds)."""
        rows: list[_Row] = []
        cursor = open_time
        size = end - open_time
        for level, unit in enumerate(source.levels):
            if unit > size or (cursor - source.phase) % unit:
                continue
            count = (now_ms - cursor) // unit
            if count <= 0:
                continue
            stop = cursor + count * unit
            row = self._span_row(source, level, cursor, stop)
            if row is not None:
                rows.append(row)
            cursor = stop
        if rows:
            o, h, l, c, v, _ = _aggregate(rows, source.volume_decimals) or rows[0]
        else:
            finest = len(source.levels) - 1
            first = self._level_row(source, finest, open_time)
            if first is None:
                whole = self._interval_row(source, span, open_time, end)
                if whole is None:
                    return None
                first = whole
            o = h = l = c = first[0]
            v = 0.0
        return Candle(open_time, o, h, l, c, v, end - 1, False)

    def _span_row(self, source: _Source, level: int, start: int, stop: int) -> _Row | None:
        """The aggregate of the level pieces opening in [start, stop). Pieces that share a
        parent are one slice of its block (cheap); others are gathered one by one."""
        unit = source.levels[level]
        if level > 0:
            parent_unit = source.levels[level - 1]
            parent_open = start - (start - source.phase) % parent_unit
            if stop <= parent_open + parent_unit:
                block = self._block(source, level, parent_open)
                if block is None:
                    return None
                return block.aggregate((start - parent_open) // unit, (stop - parent_open) // unit,
                                       source.volume_decimals)
        rows = [self._level_row(source, level, t) for t in range(start, stop, unit)]
        return _aggregate([r for r in rows if r is not None], source.volume_decimals)

    def _level_row(self, source: _Source, level: int, open_time: int) -> _Row | None:
        if level == 0:
            return source.base(open_time)
        parent_unit = source.levels[level - 1]
        parent_open = open_time - (open_time - source.phase) % parent_unit
        block = self._block(source, level, parent_open)
        if block is None:
            return None
        return block.row((open_time - parent_open) // source.levels[level])

    def _block(self, source: _Source, level: int, parent_open: int) -> _Block | None:
        key = (source.name, level, parent_open)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        parent = self._level_row(source, level - 1, parent_open)
        block = None
        if parent is not None:
            unit = source.levels[level]
            rng = np.random.Generator(np.random.PCG64([self.seed, source.key, unit, parent_open]))
            block = split_candle(parent, source.levels[level - 1] // unit, rng,
                                 source.price_decimals, source.volume_decimals)
        with self._lock:
            self._cache[key] = block
            if len(self._cache) > _CACHE_BLOCKS:
                self._cache.popitem(last=False)
        return block


def _aggregate(rows: Sequence[_Row], volume_decimals: int) -> _Row | None:
    if not rows:
        return None
    if len(rows) == 1:
        return rows[0]
    high = max(r[1] for r in rows)
    low = min(r[2] for r in rows)
    volume = round(math.fsum(r[4] for r in rows), volume_decimals)
    return (rows[0][0], high, low, rows[-1][3], volume, rows[-1][5])
