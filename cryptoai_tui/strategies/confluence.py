"""Combine the chosen strategies' signals for one bar into one verdict (strategies.md §2.3).

WARMUP and ERROR vote HOLD, and ties and conflicts are HOLD: a combined signal must never
depend on the order strategies were listed in or on a coin flip.
"""

from __future__ import annotations

from typing import Mapping

from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Signal


def confluence(signals: Mapping[str, Signal], mode: ConfluenceMode) -> ConfluenceResult:
    """The verdict of `signals` (strategy name -> signal) under `mode`.

    `agree` names the strategies whose vote equals the verdict (for HOLD: those voting HOLD,
    WARMUP and ERROR included), in the order given.
    """
    total = len(signals)
    if total == 0:
        return ConfluenceResult(mode, Action.HOLD, 0.0, (), 0, "no strategies chosen")
    buys = [name for name, s in signals.items() if s.action.votes is Action.BUY]
    sells = [name for name, s in signals.items() if s.action.votes is Action.SELL]
    holds = tuple(name for name, s in signals.items() if s.action.votes is Action.HOLD)
    nb, ns = len(buys), len(sells)

    def verdict(
        action: Action, names: list[str], confidence: float, reason: str
    ) -> ConfluenceResult:
        return ConfluenceResult(mode, action, confidence, tuple(names), total, reason)

    def hold(reason: str) -> ConfluenceResult:
        return ConfluenceResult(mode, Action.HOLD, 0.0, holds, total, reason)

    def confidences(names: list[str]) -> list[float]:
        return [signals[name].confidence for name in names]

    if mode is ConfluenceMode.ALL:
        if nb == total:
            return verdict(Action.BUY, buys, min(confidences(buys)), f"{nb}/{total} BUY")
        if ns == total:
            return verdict(Action.SELL, sells, min(confidences(sells)), f"{ns}/{total} SELL")
        return hold(f"not unanimous: {_tally(nb, ns, total)}")

    if mode is ConfluenceMode.ANY:
        if nb and ns:
            return hold(f"conflict: {nb} BUY vs {ns} SELL")
        if nb:
            best = max(confidences(buys))
            return verdict(Action.BUY, buys, best, f"{nb}/{total} BUY, none against")
        if ns:
            best = max(confidences(sells))
            return verdict(Action.SELL, sells, best, f"{ns}/{total} SELL, none against")
        return hold(f"no signal: {total}/{total} HOLD")

    # MAJORITY: strictly more than half of all chosen strategies, HOLD votes included.
    if 2 * nb > total:
        return verdict(Action.BUY, buys, sum(confidences(buys)) / total, f"{nb}/{total} BUY")
    if 2 * ns > total:
        return verdict(Action.SELL, sells, sum(confidences(sells)) / total, f"{ns}/{total} SELL")
    if nb and ns:
        return hold(f"conflict: {nb} BUY vs {ns} SELL, no majority of {total}")
    return hold(f"no majority: {_tally(nb, ns, total)}")


def _tally(buys: int, sells: int, total: int) -> str:
    return f"{buys} BUY, {sells} SELL, {total - buys - sells} HOLD of {total}"
