"""How often each confluence rule fires over a history of per-strategy signals.

Pure counting over rows the history path produced (one {name: Signal} per closed candle),
shared by `benchmarks/signal_rates.py` and the test that holds the rates to the bands of
docs/strategies.md, so both measure exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from cryptoai_tui.strategies.confluence import confluence
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceRule, Signal


@dataclass(frozen=True, slots=True)
class Rate:
    """Confirmed BUY/SELL verdicts of one rule over `candles` closed candles."""

    rule: str
    candles: int
    buys: int
    sells: int

    @property
    def signals(self) -> int:
        return self.buys + self.sells

    @property
    def per_candle(self) -> float:
        return self.signals / self.candles if self.candles else 0.0

    @property
    def one_in(self) -> float | None:
        """Candles per signal ("once per N candles"); None when it never fired."""
        return self.candles / self.signals if self.signals else None


def default_rules(total: int) -> tuple[ConfluenceRule, ...]:
    """ANY, MAJORITY, ALL and every "at least k" from 2 to `total`."""
    named = tuple(ConfluenceRule(mode) for mode in (
        ConfluenceMode.ANY, ConfluenceMode.MAJORITY, ConfluenceMode.ALL
    ))
    return named + tuple(ConfluenceRule.at_least(k) for k in range(2, total + 1))


def signal_rates(
    rows: Sequence[Mapping[str, Signal]], rules: Sequence[ConfluenceRule]
) -> dict[str, Rate]:
    """Rule value ("majority", "3", ...) -> its Rate over `rows`."""
    rates: dict[str, Rate] = {}
    for rule in rules:
        buys = sells = 0
        for row in rows:
            action = confluence(row, rule).action
            buys += action is Action.BUY
            sells += action is Action.SELL
        rates[rule.value] = Rate(rule.value, len(rows), buys, sells)
    return rates
