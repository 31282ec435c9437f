"""The simulated market: any candle of any symbol, interval and time, computed on demand.

Why this shape: the live feed and REST must agree candle for candle (a client backfills
gaps over REST and a test compares what it received with the simulator's ground truth),
and a client may ask for history of any length at any interval. So nothing is stored as a
stream: every candle is a pure function of (seed, symbol, interval, open_time).

How: `sim/price_path.py` gives each symbol a base level (a seeded daily walk, or a replayed
CSV's own candles) and splits any parent candle into its children (day -> 24 hours -> 60
minutes -> 60 seconds) exactly. `MarketModel` answers the exchange's questions from those
rows: every other interval (3m, 4h, 1w, 1M ...) is an aggregation of the levels, so all
intervals of a symbol are consistent aggregations of one price path, and a forming candle
is the aggregation of the pieces already complete. Splits are cached in an LRU. Where a
candle of an interval opens (weeks on Monday, months on the 1st) is `Interval`'s business.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Iterable, Iterator, Sequence

import numpy as np

from cryptoai_tui.exchanges.errors import InvalidIntervalError, InvalidSymbolError
from cryptoai_tui.market import Candle, Interval, Symbol
from cryptoai_tui.market.interval import COMMON_INTERVALS
from cryptoai_tui.market.interval import InvalidIntervalError as UnreadableIntervalError
from cryptoai_tui.market.symbol import close_matches, split_pair
from cryptoai_tui.sim.price_path import (
    DAY_MS,
    LISTING_MS,
    MINUTE_MS,
    SECOND_MS,
    PathSource,
    RandomPath,
    Regime,
    ReplayPath,
    TEXTURE,
    Block,
    Row,
    aggregate,
    split_candle,
)
from cryptoai_tui.sim.replay import ReplaySeries
from cryptoai_tui.sim.symbols import DEFAULT_SYMBOLS, SymbolSpec, symbol_spec

__all__ = [
    "DEFAULT_SYMBOLS", "LISTING_MS", "MarketModel", "Regime", "SymbolSpec", "parse_interval", "symbol_spec",
]

#: Every interval the exchanges list is one the simulator serves (whole seconds, or `1M`).
_SERVABLE = COMMON_INTERVALS
_CACHE_BLOCKS = 4096


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
        self._sources: dict[str, PathSource] = {}
        self._specs: dict[str, SymbolSpec] = {}
        for spec in specs:
            self._specs[spec.name] = spec
            self._sources[spec.name] = RandomPath(spec, self.seed)
        for series in replays:
            if series.symbol not in self._specs:
                base, quote = split_pair(series.symbol)
                self._specs[series.symbol] = SymbolSpec(
                    series.symbol, base or series.symbol, quote or "USDT", series.closes[-1])
            self._sources[series.symbol] = ReplayPath(series, self.seed)
        self._cache: OrderedDict[tuple[str, int, int], Block | None] = OrderedDict()
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
        end = span.next_open(open_time)
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
            if span.next_open(open_time) > now_ms:
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
    def _source(self, symbol: str) -> PathSource:
        source = self._sources.get(symbol)
        if source is None:
            raise InvalidSymbolError(symbol, close_matches(symbol, self._sources), "the simulator")
        return source

    def _open_bounds(self, source: PathSource, span: Interval, now_ms: int, start_time: int | None,
                     end_time: int | None) -> tuple[int, int] | None:
        low = span.open_of(source.listing_ms)
        if start_time is not None:
            first = span.open_of(start_time)
            if first < start_time:
                first = span.next_open(first)
            low = max(low, first)
        latest = now_ms if source.end_ms is None else min(now_ms, source.end_ms - 1)
        if end_time is not None:
            latest = min(latest, end_time)
        if latest < 0:
            return None
        high = span.open_of(latest)
        return (low, high) if high >= low else None

    @staticmethod
    def _opens_forward(span: Interval, low: int, high: int) -> Iterator[int]:
        open_time = low
        while open_time <= high:
            yield open_time
            open_time = span.next_open(open_time)

    @staticmethod
    def _opens_backward(span: Interval, high: int, low: int) -> Iterator[int]:
        open_time = high
        while open_time >= low:
            yield open_time
            open_time = span.previous_open(open_time)

    def _piece_level(self, source: PathSource, span: Interval) -> int:
        """The level whose candles make up a candle of `span`: the coarsest level that
        divides it (days for calendar months)."""
        size = DAY_MS if span.is_calendar else span.ms
        for level, unit in enumerate(source.levels):
            if unit <= size and size % unit == 0:
                return level
        raise InvalidIntervalError(span.name, _SERVABLE, "the simulator")

    def _interval_row(self, source: PathSource, span: Interval, open_time: int, end: int) -> Row | None:
        level = self._piece_level(source, span)
        unit = source.levels[level]
        if end - open_time == unit:
            return self._level_row(source, level, open_time)
        return self._span_row(source, level, open_time, end)

    def _partial(self, source: PathSource, span: Interval, open_time: int, end: int, now_ms: int) -> Candle | None:
        """The forming candle: the aggregate of every whole piece already finished,
        coarsest pieces first (finished days, then hours, minutes, seconds)."""
        rows: list[Row] = []
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
            o, h, l, c, v, _ = aggregate(rows, source.volume_decimals) or rows[0]
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

    def _span_row(self, source: PathSource, level: int, start: int, stop: int) -> Row | None:
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
        return aggregate([r for r in rows if r is not None], source.volume_decimals)

    def _level_row(self, source: PathSource, level: int, open_time: int) -> Row | None:
        if level == 0:
            return source.base(open_time)
        parent_unit = source.levels[level - 1]
        parent_open = open_time - (open_time - source.phase) % parent_unit
        block = self._block(source, level, parent_open)
        if block is None:
            return None
        return block.row((open_time - parent_open) // source.levels[level])

    def _block(self, source: PathSource, level: int, parent_open: int) -> Block | None:
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
            switches, contrast = TEXTURE.get(unit, TEXTURE[SECOND_MS])
            block = split_candle(parent, source.levels[level - 1] // unit, rng,
                                 source.price_decimals, source.volume_decimals, switches, contrast)
        with self._lock:
            self._cache[key] = block
            if len(self._cache) > _CACHE_BLOCKS:
                self._cache.popitem(last=False)
        return block
