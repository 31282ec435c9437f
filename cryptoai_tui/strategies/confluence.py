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
)

_LEANING = {Action.BUY: "bullish", Action.SELL: "bearish"}
_OPPOSITE = {Action.BUY: Action.SELL, Action.SELL: Action.BUY}


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

    triggers = {
        side: tuple(name for name, s in signals.items() if s.trigger is side)
        for side in (Action.BUY, Action.SELL)
    }
    buys, sells = triggers[Action.BUY], triggers[Action.SELL]
    if buys and sells:
        reason = f"conflict: {', '.join(buys)} BUY vs {', '.join(sells)} SELL"
        return ConfluenceResult(
            shown, Action.HOLD, 0.0, (), total, reason, triggered_by=buys + sells, needed=needed
        )
    if not buys and not sells:
        return ConfluenceResult(shown, Action.HOLD, 0.0, (), total, "no trigger", needed=needed)

    side = Action.BUY if buys else Action.SELL
    triggered = triggers[side]
    confirmed = tuple(
        name for name, s in signals.items() if s.trigger is None and s.side is side
    )
    opposed = tuple(name for name, s in signals.items() if s.side is _OPPOSITE[side])
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
