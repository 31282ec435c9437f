"""Combine the chosen strategies' signals for one bar into one verdict (docs/strategies.md).

A confluence signal needs a *trigger* (some strategy's BUY or SELL on this bar) for timing;
the mode decides how many *stances* must confirm it:

- ANY: a trigger and no opposite trigger on the same bar;
- MAJORITY: a trigger and more than half of the chosen strategies on its side;
- ALL: a trigger and no strategy on the other side;
- at least K: a trigger and at least K strategies on its side.

Each strategy counts once, on one side: its trigger's if it triggered, else its stance's
(`Signal.side`); so the triggering strategy confirms itself. WARMUP and ERROR are neutral.
Opposite triggers on one bar are a conflict and HOLD in every mode, and a HOLD always says
why: the verdict never depends on the order strategies were listed in or on a coin flip.

Confidence of a BUY or SELL = the strongest trigger's own confidence x the share of all
chosen strategies on its side: a lone trigger among eleven neutral strategies is weak, a
strong trigger that every strategy confirms scores its full confidence.
"""

from __future__ import annotations

from typing import Mapping

from cryptoai_tui.strategies.signal import (
    Action,
    ConfluenceMode,
    ConfluenceResult,
    ConfluenceRule,
    Signal,
    Stance,
)

_LEANING = {Action.BUY: "bullish", Action.SELL: "bearish"}
_OPPOSITE = {Action.BUY: Action.SELL, Action.SELL: Action.BUY}
_STANCE_SIDE: dict[Stance, Action | None] = {stance: stance.side for stance in Stance}


def confluence(
    signals: Mapping[str, Signal], mode: ConfluenceMode | ConfluenceRule | str
) -> ConfluenceResult:
    """The verdict of `signals` (strategy name -> signal) under `mode`.

    `mode` may be a plain ConfluenceMode (the engine passes one), a ConfluenceRule (for
    "at least k") or the text a user typed. Names in the result keep the order given.
    """
    rule = ConfluenceRule.of(mode)
    shown: ConfluenceMode | ConfluenceRule = rule.mode if rule.mode is not None else rule
    total = len(signals)
    needed = rule.needed(total)
    if total == 0:
        return ConfluenceResult(shown, Action.HOLD, 0.0, (), 0, "no strategies chosen", needed=needed)

    # One pass reads each signal's trigger and side once (the engine recombines on most
    # closed candles; the properties cost more than the arithmetic). Same sets, same order.
    buy, sell = Action.BUY, Action.SELL
    buy_list: list[str] = []
    sell_list: list[str] = []
    sides: list[tuple[str, Action | None, bool]] = []  # (name, side, triggered)
    for name, s in signals.items():
        action = s.action
        if action is buy:
            buy_list.append(name)
            sides.append((name, buy, True))
        elif action is sell:
            sell_list.append(name)
            sides.append((name, sell, True))
        else:
            sides.append((name, _STANCE_SIDE[s.stance], False))
    buys, sells = tuple(buy_list), tuple(sell_list)
    if buys and sells:
        reason = f"conflict: {', '.join(buys)} BUY vs {', '.join(sells)} SELL"
        return ConfluenceResult(
            shown, Action.HOLD, 0.0, (), total, reason, triggered_by=buys + sells, needed=needed
        )
    if not buys and not sells:
        return ConfluenceResult(shown, Action.HOLD, 0.0, (), total, "no trigger", needed=needed)

    side = buy if buys else sell
    triggered = buys if buys else sells
    other = _OPPOSITE[side]
    confirmed = tuple(name for name, leans, trig in sides if not trig and leans is side)
    opposed = tuple(name for name, leans, _ in sides if leans is other)
    on_side = len(triggered) + len(confirmed)
    leaning = _LEANING[side]
    head = f"{', '.join(triggered)} {side.value}"
    tally = f"{on_side} of {total} {leaning}"

    def hold(reason: str) -> ConfluenceResult:
        return ConfluenceResult(
            shown, Action.HOLD, 0.0, (), total, reason, triggered, confirmed, opposed, needed
        )

    if rule.mode is ConfluenceMode.ALL and opposed:
        against = _LEANING[_OPPOSITE[side]]
        return hold(f"{head}, but {len(opposed)} {against} ({', '.join(opposed)}); ALL needs none")
    if on_side < needed:
        return hold(f"{head}, only {tally} (needs {needed})")

    if rule.mode is ConfluenceMode.ANY:
        detail = "no opposite trigger"
    elif rule.mode is ConfluenceMode.ALL:
        detail = f"{tally}, none against"
    else:
        detail = f"{tally} (needs {needed})"
    strength = max(signals[name].confidence for name in triggered)
    confidence = strength * on_side / total
    return ConfluenceResult(
        shown, side, confidence, triggered + confirmed, total, f"{head}, {detail}",
        triggered, confirmed, opposed, needed,
    )


#: What the engine, a Snapshot and a screen hold as "the mode": one of the three named
#: modes, or the ConfluenceRule for "at least k of N" (both have .value, .name, .description).
Mode = ConfluenceMode | ConfluenceRule


def parse_mode(mode: ConfluenceMode | ConfluenceRule | str | int) -> Mode:
    """A mode as the engine keeps it: the ConfluenceMode for all/any/majority (any case),
    the ConfluenceRule for a count ("3", 3 or a rule). ValueError with a sentence otherwise.

    Named modes stay plain enum members so `mode is ConfluenceMode.ALL` keeps working for
    every consumer that compares them."""
    rule = ConfluenceRule.of(mode)
    return rule.mode if rule.mode is not None else rule


def mode_label(mode: Mode, total: int) -> str:
    """The mode for a screen: "MAJORITY", "ALL", "ANY", or "3 of 11" for at least 3 of 11."""
    return ConfluenceRule.of(mode).label(total)


def next_mode(mode: Mode) -> Mode:
    """The mode after `mode` in the live screen's cycle: ALL -> ANY -> MAJORITY -> ALL; an
    "at least k" rule goes on to ALL (k is set in the Lab, where it can be validated)."""
    if isinstance(mode, ConfluenceMode):
        return mode.next()
    return ConfluenceMode.ALL
