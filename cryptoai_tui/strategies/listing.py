"""What the Lab's strategy picker shows of each strategy, without importing the strategies.

The strategy classes import numpy and TA-Lib (about 0.15 s), and the app's first frame only
needs their names, titles, groups and one-line descriptions. This table is a copy of what
the classes declare, in the registry's order (classic first, then Smart Money), so the
catalogue can be built at start-up for free; `tests/unit/test_strategy_listing.py` fails
when the copy and the classes drift apart. Plain Python: nothing here may import numpy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StrategyListing:
    """One strategy as the picker lists it: the class attributes of the same names."""

    name: str  # registry name: rsi, ema_cross, ...
    title: str
    group: str  # "Classic" or "Smart Money"
    description: str


LISTINGS: tuple[StrategyListing, ...] = (
    StrategyListing("rsi", "RSI reversal", "Classic",
                    "RSI crosses back above 30 (BUY) or below 70 (SELL)"),
    StrategyListing("ema_cross", "EMA crossover", "Classic",
                    "Fast EMA crosses the slow EMA (9/21 by default)"),
    StrategyListing("bollinger", "Bollinger breakout", "Classic",
                    "Close breaks out above the upper band or below the lower band"),
    StrategyListing("macd", "MACD signal cross", "Classic",
                    "MACD line crosses its signal line (12/26/9)"),
    StrategyListing("stochastic", "Stochastic cross", "Classic",
                    "Slow %K crosses %D below 20 (BUY) or above 80 (SELL), 14/3/3"),
    StrategyListing("adx", "ADX directional cross", "Classic",
                    "+DI crosses -DI while ADX shows a trend (ADX >= 25)"),
    StrategyListing("bos", "Break of structure", "Smart Money",
                    "Close breaks the last swing high/low in the trend's direction"),
    StrategyListing("choch", "Change of character", "Smart Money",
                    "Close breaks the last swing against the trend (reversal)"),
    StrategyListing("order_block", "Order block retest", "Smart Money",
                    "Price returns to the candle a structure break started from"),
    StrategyListing("fvg", "Fair value gap", "Smart Money",
                    "Price retests a three-candle gap and holds it"),
    StrategyListing("liquidity_sweep", "Liquidity sweep", "Smart Money",
                    "A wick takes the stops beyond a swing, the close rejects it"),
)

NAMES: tuple[str, ...] = tuple(entry.name for entry in LISTINGS)
ALL = "all"


def plain_names(text: str) -> tuple[str, ...] | None:
    """The strategies a `--strategies` text of bare names chooses (`rsi;macd`, `all`), in
    the registry's order, or None when only the registry can read it.

    A remembered Lab choice is bare names, and reading it through the registry would load
    numpy and TA-Lib before the first frame. Anything else, parameters, an unknown or
    repeated name, nothing chosen, gets None, so the registry parses it and says what is
    wrong in its own sentence. The result equals the registry's (tested).
    """
    chosen: dict[str, None] = {}
    explicit: set[str] = set()
    for segment in text.split(";"):
        for item in (part.strip() for part in segment.split(",")):
            if not item:
                continue
            if ":" in item or "=" in item:
                return None
            name = item.lower()
            if name == ALL:
                for known in NAMES:
                    chosen.setdefault(known, None)
                continue
            if name not in NAMES or name in explicit:
                return None
            explicit.add(name)
            chosen[name] = None
    return tuple(chosen) or None
