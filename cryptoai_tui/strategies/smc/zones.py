"""The retest rule shared by zone strategies (fair value gaps, order blocks).

A zone is a price range with a direction. Whatever drew it, price treats it the same way:
it expires after `expiry` bars, it fails when a bar closes through it, and it is retested
when a bar trades into it without closing through. Kept in one place so the two strategies
cannot drift apart on what counts as a retest.

Stance (both): the side of the newest zone still open after the bar. An open bullish zone
always has price above it (a close below its bottom kills it, a low into it uses it up), so
"an unmitigated zone price trades above is bullish" is exactly "the newest open zone is
bullish"; bearish mirrors; no open zone is neutral.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Callable, Generic, Protocol, Sequence, TypeVar

from cryptoai_tui.strategies.signal import Action, Signal, Stance
from cryptoai_tui.strategies.smc.quiet import CLOSE, HIGH, LOW, QuietBox
from cryptoai_tui.strategies.smc.structure import Direction, stance_of


class Zone(Protocol):
    """What the retest rule reads of a zone."""

    @property
    def direction(self) -> Direction: ...

    @property
    def top(self) -> float: ...

    @property
    def bottom(self) -> float: ...

    @property
    def created_seq(self) -> int: ...

    @property
    def confidence(self) -> float: ...


Z = TypeVar("Z", bound=Zone)
_HOLD = Action.HOLD


def sort_retests(
    zones: Sequence[Z], seq: int, expiry: int, high: float, low: float, close: float
) -> tuple[list[Z], list[Z]]:
    """(retested, still live) zones after bar `seq` with this high, low and close.

    Expired zones and zones the bar closed through are dropped; a retested zone is used up.
    """
    hits: list[Z] = []
    live: list[Z] = []
    for zone in zones:
        if seq - zone.created_seq > expiry:
            continue
        if zone.direction is Direction.BULLISH:
            if close < zone.bottom:
                continue  # closed through the zone: it failed
            if low <= zone.top:
                hits.append(zone)
                continue
        else:
            if close > zone.top:
                continue
            if high >= zone.bottom:
                hits.append(zone)
                continue
        live.append(zone)
    return hits, live


class Retests(Generic[Z]):
    """`sort_retests` for one strategy's zone list, O(1) on a bar that touches no zone.

    Between two closes the zone list and the bar's sequence number stay the same while a
    forming bar is revised many times, and most revisions touch no zone. So, once per
    (list, seq), the zones not expired are kept with the four prices a bar must cross to
    reach any of them: above every bullish bottom and top, below every bearish top and
    bottom means no retest and no failure, and the answer is that list itself. A pure
    function's memo, not state: the answer is the same with or without it.
    """

    __slots__ = ("_source", "_seq", "_unexpired", "_bounds")

    def __init__(self) -> None:
        self._source: object = None
        self._seq = -1
        self._unexpired: list[Z] = []
        self._bounds = (_INF, _INF, -_INF, -_INF)

    def sort(
        self, zones: list[Z], seq: int, expiry: int, high: float, low: float, close: float
    ) -> tuple[list[Z], list[Z]]:
        self._refresh(zones, seq, expiry)
        bull_top, bull_bottom, bear_bottom, bear_top = self._bounds
        if low > bull_top and close >= bull_bottom and high < bear_bottom and close <= bear_top:
            return [], list(self._unexpired)
        return sort_retests(self._unexpired, seq, expiry, high, low, close)

    def quiet_box(self, zones: list[Z], seq: int, expiry: int, box: QuietBox) -> None:
        """Narrow `box` to the bars that retest and fail no zone (`sort`'s first answer)."""
        self._refresh(zones, seq, expiry)
        bull_top, bull_bottom, bear_bottom, bear_top = self._bounds
        box.above(LOW, bull_top)
        box.at_least(CLOSE, bull_bottom)
        box.below(HIGH, bear_bottom)
        box.at_most(CLOSE, bear_top)

    def _refresh(self, zones: list[Z], seq: int, expiry: int) -> None:
        if zones is not self._source or seq != self._seq:
            unexpired = [zone for zone in zones if seq - zone.created_seq <= expiry]
            bull = [zone for zone in unexpired if zone.direction is Direction.BULLISH]
            bear = [zone for zone in unexpired if zone.direction is not Direction.BULLISH]
            self._bounds = (
                max((zone.top for zone in bull), default=-_INF),
                max((zone.bottom for zone in bull), default=-_INF),
                min((zone.bottom for zone in bear), default=_INF),
                min((zone.top for zone in bear), default=_INF),
            )
            self._source, self._seq, self._unexpired = zones, seq, unexpired


_INF = float("inf")


def zone_signal(
    hits: Sequence[Z],
    live: Sequence[Z],
    *,
    mixed: str,
    idle: str,
    waiting: Callable[[Z], str],
    retested: Callable[[Z], str],
    stance_zones: Sequence[Z] | None = None,
) -> Signal:
    """The signal of one bar's retests: the most confident retested zone trades its
    direction; opposing retests on one bar cancel out (HOLD `mixed`); with none, HOLD shows
    the newest open zone (`waiting`) or `idle`. Strategies supply only the wording. The stance
reads `stance_zones` (the zones open after the bar; `live` when not given)."""
    stance = zone_stance(stance_zones if stance_zones is not None else live)
    if len({zone.direction for zone in hits}) > 1:
        return Signal.hold(mixed, stance=stance)
    if not hits:
        if not live:
            return Signal.hold(idle, stance=stance)
        newest = live[-1]
        return Signal(_HOLD, 0.0, (waiting, newest),
                      MappingProxyType({"top": newest.top, "bottom": newest.bottom}), stance)
    best = max(hits, key=lambda zone: zone.confidence)
    return Signal(
        Action.BUY if best.direction is Direction.BULLISH else Action.SELL,
        best.confidence,
        retested(best),
        MappingProxyType({"top": best.top, "bottom": best.bottom}),
        stance,
    )


def zone_stance(live: Sequence[Zone]) -> Stance:
    """The newest open zone's side (see the module docstring), neutral with none open."""
    return stance_of(live[-1].direction) if live else Stance.NEUTRAL
