"""The names users type for strategies, and the text syntax for choosing and tuning them.

Syntax (command line and config): strategies separated by ';', each `name` or
`name:key=value,key=value`; a plain comma list of names also works when no strategy has
parameters, and `all` means all eleven. Examples: `rsi,macd,bos`,
`rsi:period=10,lower=25;macd`, `all;rsi:period=10` (all, with RSI tuned).
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Sequence

from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.classic.adx import AdxStrategy
from cryptoai_tui.strategies.classic.bollinger import BollingerStrategy
from cryptoai_tui.strategies.classic.ema_cross import EmaCrossStrategy
from cryptoai_tui.strategies.classic.macd import MacdStrategy
from cryptoai_tui.strategies.classic.rsi import RsiStrategy
from cryptoai_tui.strategies.classic.stochastic import StochasticStrategy
from cryptoai_tui.strategies.smc.breaks import BosStrategy, ChochStrategy
from cryptoai_tui.strategies.smc.fair_value_gap import FairValueGapStrategy
from cryptoai_tui.strategies.smc.liquidity_sweep import LiquiditySweepStrategy
from cryptoai_tui.strategies.smc.order_block import OrderBlockStrategy

_CLASSES: tuple[type[Strategy], ...] = (
    RsiStrategy,
    EmaCrossStrategy,
    BollingerStrategy,
    MacdStrategy,
    StochasticStrategy,
    AdxStrategy,
    BosStrategy,
    ChochStrategy,
    OrderBlockStrategy,
    FairValueGapStrategy,
    LiquiditySweepStrategy,
)

STRATEGIES: Mapping[str, type[Strategy]] = {cls.name: cls for cls in _CLASSES}
STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)  # classic first, then Smart Money
ALL = "all"


def create_strategy(name: str, **params: Any) -> Strategy:
    """A new instance of the strategy called `name` with `params` over its defaults."""
    return _strategy_class(name)(**params)


def parse_strategy_spec(text: str) -> list[Strategy]:
    """Strategies from the command-line syntax (see the module docstring), in the order given.

    Raises ValueError with a sentence a user can act on: an unknown name lists the close
    matches, an unknown parameter lists the valid ones, a bad value says which.
    """
    chosen: dict[str, dict[str, Any]] = {}
    explicit: set[str] = set()
    for name, params in _entries(text):
        if name == ALL:
            for known in STRATEGY_NAMES:
                chosen.setdefault(known, {})
            continue
        _strategy_class(name)
        if name in explicit:
            raise ValueError(
                f"Strategy {name!r} is listed twice in {text!r}; list it once, with all its "
                "parameters."
            )
        explicit.add(name)
        chosen[name] = params
    if not chosen:
        raise ValueError(
            f"No strategy chosen in {text!r}: give names like 'rsi,macd,bos' or 'all'."
        )
    return [create_strategy(name, **params) for name, params in chosen.items()]


def check_fits(strategies: Sequence[Strategy], capacity: int) -> None:
    """Refuse a strategy whose parameters can never warm up in a window of `capacity` candles.

    The engine keeps the last `capacity` closed candles; a strategy that needs more than
    that would say WARMUP forever. The ValueError names the strategy, what it needs, and
    for each parameter that alone makes it too long, the largest value that fits, e.g.
    "rsi period=100000 needs 100002 candles ... the largest period that fits is 998."
    """
    for strategy in strategies:
        need = strategy.lookback
        if need <= capacity:
            continue
        fixes = [
            f"the largest {key} that fits is {largest}"
            for key, largest in _largest_fitting(strategy, capacity).items()
        ]
        given = ", ".join(
            f"{key}={value}" for key, value in strategy.params.items()
            if value != strategy.defaults[key]
        )
        what = f"{strategy.name} {given}" if given else strategy.name
        advice = "; ".join(fixes) if fixes else "choose shorter periods"
        raise ValueError(
            f"{what} needs {need} candles before its first signal, but the window holds "
            f"{capacity}: {advice}."
        )


def _largest_fitting(strategy: Strategy, capacity: int) -> dict[str, int]:
    """Per whole-number parameter that alone makes `strategy` too long: its largest value
    (others unchanged) whose lookback fits in `capacity`. Lookback grows with every period,
    so the values that fit are a run starting at the default; a binary search finds its end.
    """
    cls = type(strategy)
    params = dict(strategy.params)

    def fits(key: str, value: int) -> bool:
        try:
            return cls.lookback_for(**{**params, key: value}) <= capacity
        except ValueError:
            return False

    found: dict[str, int] = {}
    for key, default in cls.defaults.items():
        value = params[key]
        if type(default) is not int or value <= default or not fits(key, default):
            continue
        low, high = default, value  # fits(low) holds, fits(high) does not
        while high - low > 1:
            middle = (low + high) // 2
            if fits(key, middle):
                low = middle
            else:
                high = middle
        found[key] = low
    return found


def _entries(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, params) pairs; 'key=value' items attach to the nearest 'name:' before them."""
    entries: list[tuple[str, dict[str, Any]]] = []
    for segment in text.split(";"):
        current: dict[str, Any] | None = None
        for item in (part.strip() for part in segment.split(",")):
            if not item:
                continue
            if ":" in item:
                name, _, first = item.partition(":")
                current = {}
                entries.append((name.strip().lower(), current))
                if first.strip():
                    _add_param(current, first, name.strip(), text)
            elif "=" in item:
                if current is None:
                    key = item.partition("=")[0].strip()
                    raise ValueError(
                        f"Parameter {item!r} in {text!r} does not follow a strategy: write it "
                        f"after the name and a colon, as in 'rsi:{key}=...'."
                    )
                _add_param(current, item, entries[-1][0], text)
            else:
                current = None
                entries.append((item.lower(), {}))
    return entries


def _add_param(params: dict[str, Any], item: str, name: str, text: str) -> None:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip():
        raise ValueError(
            f"Cannot read parameter {item.strip()!r} of {name} in {text!r}: "
            "write key=value, as in 'rsi:period=10'."
        )
    if key in params:
        raise ValueError(f"Parameter {key} of {name} is given twice in {text!r}.")
    params[key] = value.strip()


def _strategy_class(name: str) -> type[Strategy]:
    cls = STRATEGIES.get(name)
    if cls is not None:
        return cls
    matches = difflib.get_close_matches(name.lower(), STRATEGY_NAMES, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(matches)}?" if matches else ""
    raise ValueError(
        f"Unknown strategy {name!r}.{hint} Known strategies: {', '.join(STRATEGY_NAMES)}, "
        f"or '{ALL}'."
    )
