"""The chosen strategies and their confluence over a whole history at once: numpy in, arrays out.

Why a second implementation of the same rules: the live path (`engine.evaluator`,
`engine.history.evaluate_history`) evaluates one candle at a time through a 1,000-candle
sliding window, ~3,500 candles a second for all eleven strategies. A backtest over years
of candles, or a sweep of hundreds of parameter sets, needs hundreds of thousands a
second. Here every classic indicator is one TA-Lib call over the whole array and every
rule is a numpy comparison; the SMC patterns are computed causally with numpy (pivots from
sliding windows, breaks as the first exceedance of each pivot's segment, zone fates from a
matrix of the bars after the zone) plus a small Python loop over *events* (pivots, fired
sweeps), never over every candle.

The live path stays the reference, and "equal" means this (proved for every candle of the
real files and of simulator histories by tests/unit/test_backtest_equals_live.py):

* Triggers, stances and confluence actions are identical to `evaluate_history` with the
  same window, boundaries included (`>` versus `>=` exactly as each strategy writes it).
* Confidences (a strategy's and the confluence's) agree to 1e-9 relative.

Where the window matters, and how equality is kept anyway: the live path re-runs TA-Lib on
each window, so the recursive indicators (EMA, MACD, RSI, ATR, ADX) are re-seeded at the
window's first bar, and Bollinger/Stochastic read a short tail; here each indicator runs
once over the whole history. strategies/streaming.py's docstring bounds the difference: for
a window at least `exact_window` long it is under 1e-15 relative. So

1. a classic strategy whose indicator is *not* exact for the window (e.g. EMA 300 on a
   1,000-candle window) is evaluated bar by bar by its live code on the live window
   (slow, but equal by construction), and
2. a bar where any comparison a rule makes is within 1e-9 relative of its boundary (a close
   a hair from a band, two EMAs equal to 15 digits) is re-evaluated by the live strategy on
   that bar's live window, so rounding in the 15th digit can never flip a trigger.

The SMC patterns read only raw prices and the ATR (for confidences, a minimum gap size and
the pool tolerance); their state runs over the whole history on both paths, and the one
window-dependent rule, the order block's search for its candle (clipped at the window's
first bar), is reproduced with the same clip. What the live path can do and this cannot: an
ERROR row (a strategy raised or overran its time budget). Strategies are pure numeric code,
so on valid candles they do not raise; the budget is a live-loop protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from cryptoai_tui.engine.strategy_choice import StrategyChoice, resolve_strategies, row_names
from cryptoai_tui.market.candle import Candle
from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.indicators import talib
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceRule, Stance

# Action codes in the arrays (int8).
HOLD, BUY, SELL, WARMUP, ERROR = 0, 1, -1, 2, 3
CODE_ACTION: dict[int, Action] = {
    HOLD: Action.HOLD, BUY: Action.BUY, SELL: Action.SELL, WARMUP: Action.WARMUP, ERROR: Action.ERROR,
}
ACTION_CODE: dict[Action, int] = {action: code for code, action in CODE_ACTION.items()}
# Stance codes (int8).
CODE_STANCE: dict[int, Stance] = {1: Stance.BULLISH, -1: Stance.BEARISH, 0: Stance.NEUTRAL}
STANCE_CODE: dict[Stance, int] = {stance: code for code, stance in CODE_STANCE.items()}

EDGE = 1e-9  # relative distance to a rule's boundary below which the live code decides


@dataclass(frozen=True, slots=True)
class Track:
    """One strategy's confirmed output for every candle: trigger code, stance code, confidence."""

    name: str
    action: np.ndarray  # int8 codes (HOLD, BUY, SELL, WARMUP, ERROR)
    stance: np.ndarray  # int8: 1 bullish, -1 bearish, 0 neutral
    confidence: np.ndarray  # float64
    refined: int = 0  # bars the live code decided (knife-edge or inexact indicator)


@dataclass(frozen=True, slots=True)
class HistoryEvaluation:
    """Per-candle tracks of every strategy and the confluence verdict, oldest first."""

    open_time: np.ndarray
    tracks: tuple[Track, ...]
    action: np.ndarray  # confluence int8 codes (HOLD, BUY, SELL)
    confidence: np.ndarray
    rule: ConfluenceRule
    window: int

    def __len__(self) -> int:
        return int(self.action.shape[0])

    @property
    def warmup(self) -> int:
        """Candles before every strategy is out of warm-up (the first index that can trade)."""
        ready = np.ones(len(self), dtype=bool)
        for track in self.tracks:
            ready &= track.action != WARMUP
        where = np.flatnonzero(ready)
        return int(where[0]) if where.size else len(self)


def ohlcv_of(candles: Sequence[Candle]) -> OHLCV:
    """Contiguous float64 arrays (int64 open times) of closed candles, oldest first."""
    count = len(candles)
    times = np.fromiter((c.open_time for c in candles), dtype=np.int64, count=count)
    fields = [
        np.fromiter((getattr(c, name) for c in candles), dtype=np.float64, count=count)
        for name in ("open", "high", "low", "close", "volume")
    ]
    return OHLCV(times, *fields)


def evaluate_vectorised(
    strategies: StrategyChoice,
    data: OHLCV,
    *,
    mode: ConfluenceMode | ConfluenceRule | str = ConfluenceMode.MAJORITY,
    window: int = 1000,
) -> HistoryEvaluation:
    """Every strategy's confirmed trigger, stance and confidence and the confluence verdict at
    the close of every candle of `data`, as `evaluate_history(..., window=window)` gives them
    (see the module docstring for what "as" means). `data` must be strictly increasing in
    time, contiguous float64 arrays (the CSV reader and the downloader give that)."""
    chosen = resolve_strategies(strategies)
    for strategy in chosen:
        if strategy.lookback > window:
            raise ValueError(
                f"{strategy.name} needs {strategy.lookback} candles before its first signal, "
                f"but the window holds {window}."
            )
    names = row_names(chosen)
    arrays = _Arrays(data)
    tracks = tuple(
        _track(name, strategy, arrays, window) for name, strategy in zip(names, chosen)
    )
    rule = ConfluenceRule.of(mode)
    rule.check(len(tracks))
    action, confidence = combine(tracks, rule)
    return HistoryEvaluation(arrays.time, tracks, action, confidence, rule, window)


def combine(tracks: Sequence[Track], rule: ConfluenceRule) -> tuple[np.ndarray, np.ndarray]:
    """strategies/confluence.py over arrays: needs a trigger, no opposite trigger, and the
    rule's count of strategies on the trigger's side (ALL: none against)."""
    total = len(tracks)
    n = int(tracks[0].action.shape[0]) if tracks else 0
    if total == 0:
        return np.zeros(n, dtype=np.int8), np.zeros(n)
    actions = np.stack([t.action for t in tracks])
    stances = np.stack([t.stance for t in tracks])
    confidences = np.stack([t.confidence for t in tracks])
    is_buy = actions == BUY
    is_sell = actions == SELL
    triggered = is_buy | is_sell
    # A strategy's side: its trigger if it has one, else its stance (WARMUP is neutral).
    side = np.where(is_buy, 1, np.where(is_sell, -1, stances)).astype(np.int8)
    buys = is_buy.sum(axis=0)
    sells = is_sell.sum(axis=0)
    direction = np.where((buys > 0) & (sells == 0), 1, np.where((sells > 0) & (buys == 0), -1, 0))
    on_side = (side == direction[None, :]).sum(axis=0)
    opposed = (side == -direction[None, :]).sum(axis=0)
    ok = direction != 0
    if rule.mode is ConfluenceMode.ALL:
        ok &= opposed == 0
    ok &= on_side >= rule.needed(total)
    strength = np.where(triggered & (side == direction[None, :]), confidences, -np.inf).max(axis=0)
    action = np.where(ok, direction, 0).astype(np.int8)
    with np.errstate(invalid="ignore"):
        confidence = np.where(ok, strength * on_side / total, 0.0)
    return action, confidence


class _Arrays:
    """The history's columns plus indicators computed once and shared between strategies."""

    def __init__(self, data: OHLCV) -> None:
        self.data = OHLCV(*(np.ascontiguousarray(a) for a in data))
        self.time = self.data.open_time
        self.open, self.high, self.low = self.data.open, self.data.high, self.data.low
        self.close, self.volume = self.data.close, self.data.volume
        self.n = len(self.close)
        self._cache: dict[tuple[object, ...], object] = {}

    def cached(self, key: tuple[object, ...], make: Callable[[], object]) -> object:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def atr(self, period: int) -> np.ndarray:
        return self.cached(  # type: ignore[return-value]
            ("atr", period), lambda: talib.ATR(self.high, self.low, self.close, timeperiod=period)
        )

    def ema(self, period: int) -> np.ndarray:
        return self.cached(("ema", period), lambda: talib.EMA(self.close, timeperiod=period))  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# Shared helpers


def _confidence(strength: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """indicators.confidence over arrays: 0.5 + 0.5*clip01(strength/scale), 0.5 for a bad scale."""
    strength = np.asarray(strength, dtype=np.float64)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), strength.shape)
    good = (scale > 0.0) & np.isfinite(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(good, strength / np.where(good, scale, 1.0), 0.0)
    return np.where(good, 0.5 + 0.5 * _clip01(ratio), 0.5)


def _clip01(x: np.ndarray) -> np.ndarray:
    """indicators.clip01 over arrays (NaN counts as 0)."""
    return np.where(x != x, 0.0, np.minimum(np.maximum(x, 0.0), 1.0))


def _near(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Where a and b are within EDGE relative of each other (or NaN): the live code decides."""
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        return ~(np.abs(a - b) > EDGE * scale)


def _prev(x: np.ndarray) -> np.ndarray:
    """x shifted one bar later (NaN on the first bar)."""
    out = np.empty_like(x, dtype=np.float64)
    out[0] = np.nan
    out[1:] = x[:-1]
    return out


def _decide(
    buy: np.ndarray,
    sell: np.ndarray,
    volume: np.ndarray,
    buy_conf: np.ndarray,
    sell_conf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """classic.base.decide: no signal on a zero-volume bar, BUY and SELL together cancel."""
    fire = (buy ^ sell) & (volume > 0.0)
    action = np.where(fire & buy, BUY, np.where(fire & sell, SELL, HOLD)).astype(np.int8)
    conf = np.where(action == BUY, buy_conf, np.where(action == SELL, sell_conf, 0.0))
    return action, conf


def _sign(x: np.ndarray) -> np.ndarray:
    """Stance.of over arrays: 1 above zero, -1 below, 0 at zero or NaN."""
    return np.where(x > 0.0, 1, np.where(x < 0.0, -1, 0)).astype(np.int8)


# ---------------------------------------------------------------------------------------
# One strategy


def _track(name: str, strategy: Strategy, arrays: _Arrays, window: int) -> Track:
    kernel = _KERNELS.get(strategy.name)
    n = arrays.n
    lookback = strategy.lookback
    if kernel is None or not _exact(strategy, window):
        # Not vectorised (a strategy from outside the registry) or an indicator whose seed
        # still matters on this window: the live code on the live window, bar by bar.
        action = np.full(n, WARMUP, dtype=np.int8)
        stance = np.zeros(n, dtype=np.int8)
        conf = np.zeros(n)
        _live_bars(strategy, arrays, window, range(n), action, stance, conf, stateful=True)
        return Track(name, action, stance, conf, refined=n)
    action, stance, conf, edge = kernel(strategy.params, arrays, window)
    have = np.minimum(np.arange(1, n + 1), window)
    warm = have < lookback
    action = np.where(warm, WARMUP, action).astype(np.int8)
    stance = np.where(warm, 0, stance).astype(np.int8)
    conf = np.where(warm, 0.0, conf)
    refined = 0
    if edge is not None:
        bars = np.flatnonzero(edge & ~warm)
        if bars.size:
            strategy.reset()
            _live_bars(strategy, arrays, window, bars.tolist(), action, stance, conf, stateful=False)
            refined = int(bars.size)
    return Track(name, action, stance, conf, refined)


def _live_bars(
    strategy: Strategy,
    arrays: _Arrays,
    window: int,
    bars: Sequence[int] | range,
    action: np.ndarray,
    stance: np.ndarray,
    conf: np.ndarray,
    *,
    stateful: bool,
) -> None:
    """The live strategy's confirmed signal on each bar's live window (oldest bar first)."""
    d = arrays.data
    if stateful:
        strategy.reset()
    for i in bars:
        start = max(0, i - window + 1)
        view = OHLCV(*(column[start : i + 1] for column in d))
        try:
            signal = strategy.evaluate(view, confirmed=True)
        except Exception:  # isolation, as the live runner: the bar is an ERROR
            action[i], stance[i], conf[i] = ERROR, 0, 0.0
            continue
        action[i] = ACTION_CODE[signal.action]
        stance[i] = STANCE_CODE[signal.stance]
        conf[i] = signal.confidence


def _exact(strategy: Strategy, window: int) -> bool:
    """Whether each recursive indicator the strategy reads is seed-free on this window
    (streaming.py's `exact_window`); fixed-window ones always are."""
    from cryptoai_tui.strategies import streaming as s

    p = strategy.params
    name = strategy.name
    if name == "rsi":
        states: list[object] = [s.RsiState(p["period"])]
    elif name == "ema_cross":
        states = [s.EmaPairState(p["fast"], p["slow"]), s.AtrState(p["atr_period"])]
    elif name == "macd":
        states = [s.MacdState(p["fast"], p["slow"], p["signal"]), s.AtrState(p["atr_period"])]
    elif name == "adx":
        states = [s.DirectionalState(p["period"])]
        if p["threshold"] == 0:
            return False  # (ADX - 0) / 0 raises in the live code: let it decide
    elif name in ("bos", "choch", "order_block", "fvg", "liquidity_sweep"):
        states = [s.AtrState(p["atr_period"])]
    else:
        return True
    return all(state.exact_for(window) for state in states)  # type: ignore[attr-defined]


Kernel = Callable[
    [dict, _Arrays, int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]
]


# ---------------------------------------------------------------------------------------
# The classic six: TA-Lib over the whole array, the rules of each module as comparisons.


def _rsi(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    period, lower, upper, episode = p["period"], p["lower"], p["upper"], p["episode"]
    r = a.cached(("rsi", period), lambda: talib.RSI(a.close, timeperiod=period))
    assert isinstance(r, np.ndarray)
    prev = _prev(r)
    level = p["mode"] == "level"
    if level:
        buy, sell = r < lower, r > upper
    else:
        buy = (r > lower) & (prev <= lower)
        sell = (r < upper) & (prev >= upper)
    edge = _near(r, lower) | _near(r, upper)
    if not level:
        edge |= _near(prev, lower) | _near(prev, upper)
    n = a.n
    buy_conf = np.zeros(n)
    sell_conf = np.zeros(n)
    if level:
        buy_conf = _confidence(lower - r, lower)
        sell_conf = _confidence(r - upper, 100.0 - upper)
    else:
        for fired, out, bound, below in ((buy, buy_conf, lower, True), (sell, sell_conf, upper, False)):
            bars = np.flatnonzero(fired)
            if not bars.size:
                continue
            extreme, near = _rsi_episode(r, bars, bound, below, episode, period, window)
            edge[bars] |= near
            if below:
                out[bars] = _confidence(lower - extreme, lower)
            else:
                out[bars] = _confidence(extreme - upper, 100.0 - upper)
    action, conf = _decide(buy, sell, a.volume, buy_conf, sell_conf)
    stance = np.where(r < lower, 1, np.where(r > upper, -1, 0)).astype(np.int8)
    return action, stance, conf, edge


def _rsi_episode(
    r: np.ndarray, bars: np.ndarray, bound: float, below: bool, episode: int, period: int, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """RsiStrategy._extreme for each bar in `bars`: the extreme of the run of bars beyond
    `bound` right before it, at most `episode` long and inside its live window (whose first
    `period` RSI values are NaN); and whether any value in that run was a hair from `bound`."""
    steps = np.arange(1, episode + 1)
    index = bars[:, None] - steps[None, :]
    window_start = np.maximum(0, bars - window + 1)
    valid = (index >= window_start[:, None]) & (index >= (window_start + period)[:, None])
    values = r[np.clip(index, 0, None)]
    with np.errstate(invalid="ignore"):
        inside = valid & ((values <= bound) if below else (values >= bound)) & ~np.isnan(values)
    run = np.cumprod(inside, axis=1).astype(bool)
    fill = np.inf if below else -np.inf
    picked = np.where(run, values, fill)
    if below:
        extreme = np.minimum(bound, picked.min(axis=1))
    else:
        extreme = np.maximum(bound, picked.max(axis=1))
    # A run ends at the first value outside; if that value (or any inside) is a hair from
    # the bound, rounding could move the end.
    reach = np.concatenate([np.ones((len(bars), 1), dtype=bool), run[:, :-1]], axis=1)
    near = (reach & valid & _near(values, bound)).any(axis=1)
    return extreme, near


def _ema_cross(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    fast, slow = a.ema(p["fast"]), a.ema(p["slow"])
    spread = fast - slow
    prev = _prev(spread)
    buy = (spread > 0) & (prev <= 0)
    sell = (spread < 0) & (prev >= 0)
    opening = np.abs(spread - prev)
    conf = _confidence(opening, 0.25 * a.atr(p["atr_period"]))
    action, conf = _decide(buy, sell, a.volume, conf, conf)
    near = _near(fast, slow)
    edge = near | _prev(near.astype(np.float64)).astype(bool)
    return action, _sign(spread), conf, edge


def _macd(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    line, signal, hist = talib.MACD(
        a.close, fastperiod=p["fast"], slowperiod=p["slow"], signalperiod=p["signal"]
    )
    prev = _prev(hist)
    buy = (hist > 0) & (prev <= 0)
    sell = (hist < 0) & (prev >= 0)
    conf = _confidence(np.abs(hist - prev), 0.1 * a.atr(p["atr_period"]))
    action, conf = _decide(buy, sell, a.volume, conf, conf)
    # MACD and its signal line are differences of price EMAs: their rounding is on the
    # price's scale, so "a hair from the boundary" is measured against the close.
    with np.errstate(invalid="ignore"):
        near = ~(np.abs(hist) > EDGE * np.abs(a.close))
    edge = near | np.concatenate([[True], near[:-1]])
    return action, _sign(hist), conf, edge


def _bollinger(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    nbdev = p["nbdev"]
    upper, middle, lower = talib.BBANDS(
        a.close, timeperiod=p["period"], nbdevup=nbdev, nbdevdn=nbdev, matype=0
    )
    close = a.close
    c_prev, up_prev, lo_prev = _prev(close), _prev(upper), _prev(lower)
    width = upper - lower
    flat = width <= 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = (close - lower) / np.where(flat, 1.0, width)
    buy = (close > upper) & (c_prev <= up_prev)
    sell = (close < lower) & (c_prev >= lo_prev)
    action, conf = _decide(
        buy & ~flat, sell & ~flat, a.volume, _confidence(pct_b - 1.0, 0.5), _confidence(-pct_b, 0.5)
    )
    stance = np.where(flat, 0, _sign(close - middle)).astype(np.int8)
    edge = (
        _near(close, upper) | _near(close, lower) | _near(c_prev, up_prev) | _near(c_prev, lo_prev)
        | _near(close, middle) | ~(width > EDGE * np.abs(middle))
    )
    return action, stance, conf, edge


def _stochastic(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k, d = talib.STOCH(
        a.high, a.low, a.close,
        fastk_period=p["fastk"], slowk_period=p["slowk"], slowk_matype=0,
        slowd_period=p["slowd"], slowd_matype=0,
    )
    lower, upper = p["lower"], p["upper"]
    k_prev, d_prev = _prev(k), _prev(d)
    floor, ceiling = np.minimum(k_prev, d_prev), np.maximum(k_prev, d_prev)
    buy = (k > d) & (k_prev <= d_prev) & (floor < lower)
    sell = (k < d) & (k_prev >= d_prev) & (ceiling > upper)
    action, conf = _decide(
        buy, sell, a.volume,
        _confidence(lower - floor, lower), _confidence(ceiling - upper, 100.0 - upper),
    )
    stance = np.where(k < lower, 1, np.where(k > upper, -1, 0)).astype(np.int8)
    # %K and %D are 0..100 running means: compare on that scale, not relative to a value near 0.
    scale = 100.0 * EDGE

    def near(x: np.ndarray, y: np.ndarray | float) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return ~(np.abs(x - y) > scale)

    edge = (
        near(k, d) | near(k_prev, d_prev) | near(floor, lower) | near(ceiling, upper)
        | near(k, lower) | near(k, upper)
    )
    return action, stance, conf, edge


def _adx(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    period, threshold = p["period"], p["threshold"]
    adx = talib.ADX(a.high, a.low, a.close, timeperiod=period)
    plus = talib.PLUS_DI(a.high, a.low, a.close, timeperiod=period)
    minus = talib.MINUS_DI(a.high, a.low, a.close, timeperiod=period)
    plus_prev, minus_prev = _prev(plus), _prev(minus)
    up = (plus > minus) & (plus_prev <= minus_prev)
    down = (plus < minus) & (plus_prev >= minus_prev)
    trending = adx >= threshold
    total = plus + minus
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(total > 0, 2.0 * np.abs(plus - minus) / np.where(total > 0, total, 1.0), 0.0)
        strength = (_clip01((adx - threshold) / threshold) + _clip01(spread)) / 2.0
    conf = 0.5 + 0.5 * strength
    action, conf = _decide(up & trending, down & trending, a.volume, conf, conf)
    stance = np.where(trending, _sign(plus - minus), 0).astype(np.int8)
    edge = (
        _near(adx, threshold) | _near(plus, minus) | _near(plus_prev, minus_prev)
    )
    return action, stance, conf, edge


# ---------------------------------------------------------------------------------------
# Smart Money: causal, computed once over the whole history.


def _pivots(a: _Arrays, left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
    """Bars j at which a pivot high / low (at bar j - right) is confirmed (structure.py:
    strict on the left, non-strict on the right)."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        n = a.n
        span = left + right + 1
        if n < span:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        rows = n - span + 1  # row r: bars r .. r+span-1, pivot at r+left, confirmed at r+span-1

        def extreme(values: np.ndarray, first: int, count: int, pick: np.ufunc) -> np.ndarray:
            """pick (max or min) over bars r+first .. r+first+count-1 for every row r."""
            out = values[first : first + rows].copy()
            for k in range(1, count):
                pick(out, values[first + k : first + k + rows], out=out)
            return out

        top = a.high[left : left + rows]
        bottom = a.low[left : left + rows]
        high = (extreme(a.high, 0, left, np.maximum) < top) & (
            extreme(a.high, left + 1, right, np.maximum) <= top
        )
        low = (extreme(a.low, 0, left, np.minimum) > bottom) & (
            extreme(a.low, left + 1, right, np.minimum) >= bottom
        )
        return np.flatnonzero(high) + span - 1, np.flatnonzero(low) + span - 1

    return a.cached(("pivots", left, right), make)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class _Breaks:
    """Every structure break in order (bar, then the bullish one first) and the trend after each bar."""

    bar: np.ndarray
    direction: np.ndarray  # 1 bullish, -1 bearish
    kind: np.ndarray  # 0 initial, 1 BOS, 2 CHoCH
    level: np.ndarray
    pivot_bar: np.ndarray  # the pivot's own bar (p = confirmation - right)
    trend: np.ndarray  # per candle, after the bar: 1, -1 or 0 before the first break


def _structure(a: _Arrays, left: int, right: int, wick: bool) -> _Breaks:
    def make() -> _Breaks:
        highs, lows = _pivots(a, left, right)
        up_probe = a.high if wick else a.close
        down_probe = a.low if wick else a.close
        hb, hl = _first_breaks(highs, a.high[highs - right], up_probe, above=True, n=a.n)
        lb, ll = _first_breaks(lows, a.low[lows - right], down_probe, above=False, n=a.n)
        bar = np.concatenate([hb, lb])
        direction = np.concatenate([np.ones(hb.size, np.int8), -np.ones(lb.size, np.int8)])
        level = np.concatenate([a.high[hl - right], a.low[ll - right]])
        pivot_bar = np.concatenate([hl - right, ll - right])
        order = np.lexsort((-direction, bar))  # by bar, bullish before bearish
        bar, direction, level, pivot_bar = bar[order], direction[order], level[order], pivot_bar[order]
        before = np.concatenate([[0], direction[:-1]]).astype(np.int8)
        kind = np.where(before == 0, 0, np.where(before == direction, 1, 2)).astype(np.int8)
        trend = np.zeros(a.n, dtype=np.int8)
        if bar.size:
            # The last break at or before each bar sets the trend after it.
            last = np.searchsorted(bar, np.arange(a.n), side="right") - 1
            trend = np.where(last >= 0, direction[np.maximum(last, 0)], 0).astype(np.int8)
        return _Breaks(bar, direction, kind, level, pivot_bar, trend)

    return a.cached(("structure", left, right, wick), make)  # type: ignore[return-value]


def _first_breaks(
    confirmed: np.ndarray, levels: np.ndarray, probe: np.ndarray, *, above: bool, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(break bars, confirmation bar of the broken pivot): the latest pivot is replaced by
    each newer one, and broken by the first bar in its segment whose probe passes it."""
    if not confirmed.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    segment = np.searchsorted(confirmed, np.arange(n), side="right") - 1
    active = segment >= 0
    level = levels[np.maximum(segment, 0)]
    with np.errstate(invalid="ignore"):
        passes = active & ((probe > level) if above else (probe < level))
    counts = np.cumsum(passes)
    start = confirmed[np.maximum(segment, 0)]
    before = np.where(start > 0, counts[np.maximum(start - 1, 0)], 0)
    first = passes & (counts - before == 1)
    bars = np.flatnonzero(first)
    return bars, confirmed[segment[bars]]


def _structure_break(kind_code: int) -> Kernel:
    def kernel(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
        s = _structure(a, p["left"], p["right"], p["break_on"] == "wick")
        n = a.n
        mine = s.kind == kind_code
        bars = s.bar[mine]
        count = np.bincount(bars, minlength=n)
        action = np.zeros(n, dtype=np.int8)
        conf = np.zeros(n)
        single = mine & (count[s.bar] == 1)
        b = s.bar[single]
        action[b] = s.direction[single]
        conf[b] = _confidence(np.abs(a.close[b] - s.level[single]), a.atr(p["atr_period"])[b])
        return _smc_volume(action, conf, a), s.trend, conf, None

    return kernel


def _smc_volume(action: np.ndarray, conf: np.ndarray, a: _Arrays) -> np.ndarray:
    """IncrementalStrategy._emit: a trigger on a zero-volume bar is a HOLD."""
    dead = (action != HOLD) & ~(a.volume > 0.0)
    action[dead] = HOLD
    conf[dead] = 0.0
    return action


@dataclass(frozen=True, slots=True)
class _Zones:
    bar: np.ndarray  # creation bar (live from the next bar)
    direction: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    confidence: np.ndarray


def _zone_fates(z: _Zones, a: _Arrays, expiry: int) -> tuple[np.ndarray, np.ndarray]:
    """(end bar, retested?) of each zone under zones.sort_retests: the first bar after its
    creation that closes through it (fails) or trades into it (retest), else expiry+1 bars on.

    Most zones meet price within a few bars, so the bars after each zone are scanned in
    widening steps (8, then 64, then the rest of the expiry) and only the zones still open
    go on to the next step: a (zones x bars) matrix at every step, never zones x expiry."""
    count = z.bar.size
    end = z.bar + expiry + 1
    hit = np.zeros(count, dtype=bool)
    n = a.n
    open_zones = np.arange(count)
    done = 0
    for stop in sorted({min(8, expiry), min(64, expiry), expiry}):
        if not open_zones.size or stop <= done:
            continue
        steps = np.arange(done + 1, stop + 1)
        chunk = max(1, 4_000_000 // steps.size)
        still: list[np.ndarray] = []
        for lo in range(0, open_zones.size, chunk):
            rows_of = open_zones[lo : lo + chunk]
            index = z.bar[rows_of, None] + steps[None, :]
            inside = index < n
            safe = np.minimum(index, n - 1)
            bull = (z.direction[rows_of] == 1)[:, None]
            top, bottom = z.top[rows_of, None], z.bottom[rows_of, None]
            close = a.close[safe]
            fail = np.where(bull, close < bottom, close > top)
            touch = np.where(bull, a.low[safe] <= top, a.high[safe] >= bottom)
            event = inside & (fail | touch)
            any_event = event.any(axis=1)
            first = event.argmax(axis=1)
            rows = np.flatnonzero(any_event)
            at = first[rows]
            zones_hit = rows_of[rows]
            end[zones_hit] = z.bar[zones_hit] + steps[at]
            hit[zones_hit] = ~fail[rows, at] & touch[rows, at]
            # Zones past the history's end need no further scan.
            alive = ~any_event & (z.bar[rows_of] + stop < n - 1)
            still.append(rows_of[alive])
        open_zones = np.concatenate(still) if still else open_zones[:0]
        done = stop
    return end, hit


def _zone_signals(
    z: _Zones, a: _Arrays, expiry: int, *, formation: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """zones.zone_signal for every bar: triggers from retests (or formations), the stance of
    the newest zone still open after the bar."""
    n = a.n
    end, hit = _zone_fates(z, a, expiry)
    if formation:
        when, direction, conf = z.bar, z.direction, z.confidence
    else:
        when, direction, conf = end[hit], z.direction[hit], z.confidence[hit]
    action = np.zeros(n, dtype=np.int8)
    confidence = np.zeros(n)
    if when.size:
        hi = np.full(n, -2, dtype=np.int8)
        lo = np.full(n, 2, dtype=np.int8)
        best = np.full(n, -np.inf)
        np.maximum.at(hi, when, direction)
        np.minimum.at(lo, when, direction)
        np.maximum.at(best, when, conf)
        one = (hi == lo) & (hi != -2)
        action[one] = hi[one]
        confidence[one] = best[one]
    stance = np.zeros(n, dtype=np.int8)
    # Paint each zone's open span in creation order: the newest open zone wins.
    stop = np.minimum(end, n)
    for start, finish, side in zip(z.bar.tolist(), stop.tolist(), z.direction.tolist()):
        if finish > start:
            stance[start:finish] = side
    return _smc_volume(action, confidence, a), stance, confidence


def _order_block(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
    s = _structure(a, p["left"], p["right"], p["break_on"] == "wick")
    atr = a.atr(p["atr_period"])
    low, high = a.low, a.high
    first = np.maximum(np.maximum(s.pivot_bar + 1, s.bar - window + 1), 0)
    length = s.bar - first
    k = s.bar - 1  # an empty range: the bar before the break
    # Short ranges (almost all): one matrix, the latest extreme found on the reversed rows.
    cap = 64
    short = np.flatnonzero((length > 0) & (length <= cap))
    if short.size:
        back = np.arange(cap)
        index = s.bar[short, None] - 1 - back[None, :]  # j-1, j-2, ... (latest first)
        valid = back[None, :] < length[short, None]
        safe = np.maximum(index, 0)
        bull = s.direction[short] == 1
        lows = np.where(valid, low[safe], np.inf)
        highs = np.where(valid, high[safe], -np.inf)
        pick = np.where(bull, lows.argmin(axis=1), highs.argmax(axis=1))
        k = k.copy()
        k[short] = s.bar[short] - 1 - pick
    for e in np.flatnonzero(length > cap).tolist():
        j, start = int(s.bar[e]), int(first[e])
        if s.direction[e] == 1:
            k[e] = j - 1 - int(np.argmin(low[start:j][::-1]))  # lowest low, latest on ties
        else:
            k[e] = j - 1 - int(np.argmax(high[start:j][::-1]))
    top, bottom = high[k], low[k]
    close = a.close[s.bar]
    displacement = np.where(s.direction == 1, close - top, bottom - close)
    zones = _Zones(s.bar, s.direction, top, bottom, _confidence(displacement, atr[s.bar]))
    action, stance, conf = _zone_signals(zones, a, p["expiry"])
    return action, stance, conf, None


def _fvg(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
    n = a.n
    high, low = a.high, a.low
    j = np.arange(2, n)
    bull = low[2:] > high[:-2]
    bear = ~bull & (high[2:] < low[:-2])
    if p["middle_candle"]:
        body = a.close[1:-1] - a.open[1:-1]
        bull &= body > 0
        bear &= body < 0
    top = np.where(bull, low[2:], low[:-2])
    bottom = np.where(bull, high[:-2], high[2:])
    atr = a.atr(p["atr_period"])[2:]
    size = top - bottom
    keep = bull | bear
    minimum = p["min_size_atr"]
    if minimum > 0:
        with np.errstate(invalid="ignore"):
            keep &= size >= minimum * atr
    rows = np.flatnonzero(keep)
    zones = _Zones(
        j[rows], np.where(bull[rows], 1, -1).astype(np.int8), top[rows], bottom[rows],
        _confidence(size[rows], atr[rows]),
    )
    action, stance, conf = _zone_signals(zones, a, p["expiry"], formation=p["mode"] == "formation")
    return action, stance, conf, None


def _next_beyond(values: np.ndarray, queries: np.ndarray, *, above: bool) -> np.ndarray:
    """For each query bar q: the first bar t > q with values[t] beyond values[q] (strictly
    greater when `above`, else strictly lower), or len(values). A sparse table of range
    maxima (minima) and a greedy descent, vectorised over all queries."""
    n = values.size
    pos = queries + 1
    if not queries.size:
        return pos
    target = values[queries]
    levels = [values]
    width = 1
    while width * 2 <= n:
        prev = levels[-1]
        combine = np.maximum if above else np.minimum
        levels.append(combine(prev[:-width], prev[width:]))
        width *= 2
    for k in range(len(levels) - 1, -1, -1):
        table = levels[k]
        size = 1 << k
        fits = pos + size <= n
        safe = np.where(fits, pos, 0)
        block = table[np.minimum(safe, table.size - 1)]
        stays = fits & ((block <= target) if above else (block >= target))
        pos = np.where(stays, pos + size, pos)
    return pos


def _liquidity_sweep(p: dict, a: _Arrays, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, None]:
    """liquidity_sweep.py by events. A level's fate needs no bar loop: a pool's level is its
    most extreme pivot's, and nothing between that pivot and now went beyond it (the pivot's
    right side, then the pool staying alive), so the level is pierced at that pivot's *next
    strictly-beyond bar* (one vectorised sparse-table query for every pivot) unless it
    expires first. What stays sequential is pooling (which live level a new pivot joins), a
    loop over pivots with the live levels of its side only."""
    n = a.n
    left, right, expiry = p["left"], p["right"], p["expiry"]
    o, h, lo, c = a.open, a.high, a.low, a.close
    atr = a.atr(p["atr_period"])
    highs, lows = _pivots(a, left, right)
    nge_high = _next_beyond(h, highs - right, above=True)
    nge_low = _next_beyond(lo, lows - right, above=False)
    # Pivot confirmations in bar order, highs before lows on one bar (liquidity_sweep._step).
    bars = np.concatenate([highs, lows])
    kinds = np.concatenate([np.zeros(highs.size, np.int64), np.ones(lows.size, np.int64)])
    beyond = np.concatenate([nge_high, nge_low])
    order = np.lexsort((kinds, bars))
    ev_bar, ev_kind, ev_beyond = bars[order].tolist(), kinds[order].tolist(), beyond[order].tolist()
    ev_value = np.where(kinds == 0, h[np.maximum(bars - right, 0)], lo[np.maximum(bars - right, 0)])[order].tolist()
    ev_tol = (atr[bars] * p["tolerance_atr"])[order].tolist() if bars.size else []
    close = c.tolist() if bars.size else []
    # Records: a level from its creation (or merge) to its end, in creation order (the
    # live list's order). Live entries per side: [record, level, end, pivots, beyond].
    rec_kind: list[int] = []
    rec_level: list[float] = []
    rec_pivots: list[int] = []
    rec_end: list[int] = []
    rec_swept: list[bool] = []
    live_by_kind: tuple[list[list], list[list]] = ([], [])
    for j, kind, value, tol, pierce_at in zip(ev_bar, ev_kind, ev_value, ev_tol, ev_beyond):
        live = [entry for entry in live_by_kind[kind] if entry[2] > j]
        nearest = -1
        nearest_distance = 0.0
        for position, entry in enumerate(live):
            distance = abs(entry[1] - value)
            if distance <= tol and (nearest < 0 or distance < nearest_distance):
                nearest, nearest_distance = position, distance
        if nearest < 0:
            level, pivots, pierce = value, 1, pierce_at
        else:
            pool = live.pop(nearest)
            rec_end[pool[0]] = j  # merged away at this bar: it never reaches its sweep
            rec_swept[pool[0]] = False
            old = pool[1]
            if kind == 0:
                keep = old >= value
                level = old if keep else value
            else:
                keep = old <= value
                level = old if keep else value
            pierce = pool[4] if keep else pierce_at
            pivots = pool[3] + 1
        if pierce <= j + expiry and pierce < n:
            finish = pierce
            swept = close[pierce] < level if kind == 0 else close[pierce] > level
        else:
            finish, swept = j + expiry + 1, False
        record = len(rec_kind)
        rec_kind.append(kind)
        rec_level.append(level)
        rec_pivots.append(pivots)
        rec_end.append(finish)
        rec_swept.append(swept)
        live.append([record, level, finish, pivots, pierce])
        live_by_kind[kind][:] = live
    # Sweeps (records that ended swept), in record order within a bar.
    sweeps = np.flatnonzero(np.array(rec_swept, dtype=bool))
    s_bar = np.array(rec_end, dtype=np.int64)[sweeps]
    s_kind = np.array(rec_kind, dtype=np.int64)[sweeps]
    s_level = np.array(rec_level, dtype=np.float64)[sweeps]
    s_pool = np.array(rec_pivots, dtype=np.int64)[sweeps] >= 2
    if s_bar.size:
        bo, bh, bl, bc, br = o[s_bar], h[s_bar], lo[s_bar], c[s_bar], atr[s_bar]
        above = s_kind == 0
        candle = bh - bl
        reach = np.where(above, bh - s_level, s_level - bl)
        wick = np.where(above, bh - np.maximum(bo, bc), np.minimum(bo, bc) - bl)
        with np.errstate(divide="ignore", invalid="ignore"):
            run = np.where(br > 0, _clip01(reach / (0.5 * br)), 0.0)
            shape = np.where(candle > 0, _clip01(wick / np.where(candle > 0, candle, 1.0)), 0.0)
        s_conf = np.minimum(1.0, 0.5 + 0.25 * run + 0.25 * shape + np.where(s_pool, 0.1, 0.0))
        s_extreme = np.where(above, bh, bl)
    else:
        s_conf = s_extreme = np.zeros(0)
    swept_any = np.zeros(n, dtype=bool)
    swept_any[s_bar] = True
    if p["confirm_bar"]:
        fire_bar = s_bar + 1
        inside = fire_bar < n
        later = c[np.minimum(fire_bar, n - 1)]
        inside &= np.where(s_kind == 0, later < s_level, later > s_level)
        f_bar, f_kind, f_conf, f_ext = fire_bar[inside], s_kind[inside], s_conf[inside], s_extreme[inside]
    else:
        f_bar, f_kind, f_conf, f_ext = s_bar, s_kind, s_conf, s_extreme
    action = np.zeros(n, dtype=np.int8)
    confidence = np.zeros(n)
    stance = np.zeros(n, dtype=np.int8)
    # Fired sweeps grouped by bar (stable: record order within a bar), one verdict per bar.
    order = np.argsort(f_bar, kind="stable")
    f_bar, f_kind, f_conf, f_ext = f_bar[order], f_kind[order], f_conf[order], f_ext[order]
    fire, starts = np.unique(f_bar, return_index=True)
    if fire.size:
        mixed = np.minimum.reduceat(f_kind, starts) != np.maximum.reduceat(f_kind, starts)
        best_conf = np.maximum.reduceat(f_conf, starts)
        # The first sweep of its bar with the best confidence (max() keeps the first).
        is_best = f_conf == np.repeat(best_conf, np.diff(np.append(starts, f_bar.size)))
        first_best = np.maximum.reduceat(
            np.where(is_best, -np.arange(f_bar.size), -f_bar.size), starts
        )
        best = -first_best
        side = np.where(f_kind[best] == 1, 1, -1).astype(np.int8)
        single = ~mixed
        action[fire[single]] = side[single]
        confidence[fire[single]] = best_conf[single]
        # The stance a sweep leaves: its side from its bar until the next sweep, at most
        # stance_bars bars, ended early by a close back beyond the sweeping wick.
        nxt = np.append(fire[1:], n)
        finish = np.minimum(np.minimum(nxt, fire + p["stance_bars"]), n)
        extreme = f_ext[best]
        steps = np.arange(1, p["stance_bars"])
        index = fire[:, None] + steps[None, :]
        within = index < finish[:, None]
        later = c[np.minimum(index, n - 1)]
        failed = within & np.where(side[:, None] == 1, later < extreme[:, None], later > extreme[:, None])
        if steps.size:
            has_fail = failed.any(axis=1)
            finish = np.where(has_fail, fire + 1 + failed.argmax(axis=1), finish)
        finish = np.where(single, finish, fire)  # a mixed bar leaves no stance
        # Spans do not overlap (each ends by the next sweep bar): paint by a difference array.
        marks = np.zeros(n + 1, dtype=np.int64)
        np.add.at(marks, fire, side.astype(np.int64))
        np.add.at(marks, finish, -side.astype(np.int64))
        stance = np.cumsum(marks[:n]).astype(np.int8)
    if p["confirm_bar"]:
        # A sweep waiting for its confirmation close is a HOLD on its own bar.
        waiting = swept_any & (action == HOLD)
        confidence[waiting] = 0.0
    return _smc_volume(action, confidence, a), stance, confidence, None


_KERNELS: dict[str, Kernel] = {
    "rsi": _rsi,
    "ema_cross": _ema_cross,
    "macd": _macd,
    "bollinger": _bollinger,
    "stochastic": _stochastic,
    "adx": _adx,
    "bos": _structure_break(1),
    "choch": _structure_break(2),
    "order_block": _order_block,
    "fvg": _fvg,
    "liquidity_sweep": _liquidity_sweep,
}
