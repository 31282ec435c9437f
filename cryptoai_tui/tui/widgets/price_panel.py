"""Last price, how it moved, and how long the forming candle has left."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Digits, Static

from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.tui.formatting import (
    first_fitting, format_candle_time, format_change, format_duration, format_price, price_decimals,
)

_DIRECTION_STYLE = {1: "$success", -1: "$error", 0: "$text-muted"}


def candle_time_left(snapshot: Snapshot) -> float | None:
    """Seconds until the forming candle closes, by the exchange's clock (not the local one).

    A replay or a simulator runs its own clock, and a laggy link delays messages: only the
    exchange time in the snapshot says where in the candle the market is.
    """
    if snapshot.candle_close_time is None or snapshot.exchange_time is None:
        return None
    return max(0.0, (snapshot.candle_close_time + 1 - snapshot.exchange_time) / 1000.0)


def change_lines(snapshot: Snapshot, clock_rate: float | None = None, width: int | None = None) -> Content:
    """Moves since the last update and the candle open, and the time left in the candle.

    `clock_rate` is exchange seconds per real second when the exchange clock runs fast (a
    sped-up simulator): the countdown then says the real seconds a user waits, and why.
    """
    decimals = price_decimals(snapshot.price) if snapshot.price else None
    tick, tick_dir = format_change(snapshot.price, snapshot.previous_price, decimals)
    candle, candle_dir = format_change(snapshot.price, snapshot.candle_open, decimals)
    left = candle_time_left(snapshot)
    muted = "$text-muted"
    opened = format_candle_time(snapshot.candle_open_time, snapshot.interval)
    if snapshot.candle_open_time is None:
        timing = Content.styled("no candle yet", muted)
    elif snapshot.provisional:
        if clock_rate and left is not None:
            left /= clock_rate
            countdown = f"{left:.1f}s" if left < 10 else format_duration(left)
            fast = (f"{clock_rate:.0f}x clock", "$warning")
            timing = first_fitting([
                Content.assemble(("closes in ", muted), (countdown, "bold"), (f" · {opened} candle · ", muted), fast),
                Content.assemble(("closes in ", muted), (countdown, "bold"), (" · ", muted), fast, (f" · {opened}", muted)),
                Content.assemble(("closes in ", muted), (countdown, "bold"), (" · ", muted), fast),
            ], width)
        else:
            timing = Content.assemble(
                ("closes in ", muted), (format_duration(left), "bold"), (f" · {opened} candle", muted),
            )
    else:
        timing = Content.assemble((f"{opened} candle closed", muted))
    return Content("\n").join([
        Content.assemble((tick, f"bold {_DIRECTION_STYLE[tick_dir]}"), ("  last update", muted)),
        Content.assemble((candle, f"bold {_DIRECTION_STYLE[candle_dir]}"), ("  candle open", muted)),
        timing,
    ])


class PricePanel(Vertical):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Snapshot, float | None] | None = None

    def on_resize(self) -> None:
        """The countdown's wording depends on the width: say it again for the new one."""
        if self._shown is not None:
            snapshot, clock_rate = self._shown
            self.call_after_refresh(self.show, snapshot, clock_rate=clock_rate)

    def compose(self) -> ComposeResult:
        yield Digits("", id="price-digits")
        yield Static("", id="price-changes")

    def show(self, snapshot: Snapshot, *, clock_rate: float | None = None) -> None:
        self._shown = (snapshot, clock_rate)
        digits = self.query_one("#price-digits", Digits)
        text = format_price(snapshot.price) if snapshot.price is not None else "-"
        if digits.value != text:
            digits.update(text)
        # Coloured by the candle's direction, not the last tick's, so the number doesn't flicker.
        direction = 0
        if snapshot.price is not None and snapshot.candle_open is not None:
            direction = (snapshot.price > snapshot.candle_open) - (snapshot.price < snapshot.candle_open)
        digits.set_class(direction > 0, "-up")
        digits.set_class(direction < 0, "-down")
        changes = self.query_one("#price-changes", Static)
        changes.update(change_lines(snapshot, clock_rate, changes.content_size.width or None))
