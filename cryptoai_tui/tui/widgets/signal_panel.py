"""The confluence verdict, large, with its confidence and who agrees."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.signal import Action
from cryptoai_tui.tui.formatting import (
    confidence_bar, first_fitting, format_candle_time, format_confidence, format_price,
)
from cryptoai_tui.tui.widgets.big_word import big_word
from cryptoai_tui.tui.widgets.live_header import feed_trouble, state_reason

ACTION_STYLE = {
    Action.BUY: "$success",
    Action.SELL: "$error",
    Action.HOLD: "$text-muted",
    Action.WARMUP: "$warning",
    Action.ERROR: "$error",
}
_BAR_WIDTH = 20
_WORD_WIDTH = len(big_word("HOLD")[0])  # BUY, SELL and HOLD share one column edge
_GAP = "   "
_CONFIDENCE_LABEL = "confidence "


def _bar_with_track(confidence: float, width: int, style: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The confidence bar over a faint track, so 0% still shows where 100% would end."""
    filled = confidence_bar(confidence, width).rstrip(" ")
    return (filled, style), ("·" * (width - len(filled)), "$text-muted")


def signal_content(
    snapshot: Snapshot, *, offer_sim: bool = False, failure: str | None = None, width: int | None = None
) -> Content:
    """The verdict panel; while the feed is in trouble and there is no verdict, the trouble.

    `width` (cells, None: plenty) lets a narrow panel say the same in fewer words rather than
    cut off the confidence figure or the last confirmed verdict.
    """
    muted = "$text-muted"
    beside = None if width is None else width - _WORD_WIDTH - len(_GAP)
    last_below = False
    confluence = snapshot.confluence
    trouble = feed_trouble(snapshot) if failure is None else "The feed stopped"
    if confluence is None and trouble is not None:
        word = "WAIT"
        style = "$error" if failure or snapshot.state is ConnectionState.ERROR else "$warning"
        retry = (
            f"next attempt in {snapshot.retry_in:.0f}s" if snapshot.retry_in is not None and failure is None
            else ""
        )
        hints = (
            ["press s to use the simulated exchange instead", "press s for the simulator", "s: use the simulator"]
            if offer_sim else [""]
        )
        reason = Content.styled(failure or state_reason(snapshot) or snapshot.state.value, style)
        details = [
            Content.styled(trouble, f"bold {style}"),
            reason,
            Content.styled(retry, muted),
            first_fitting([Content.styled(hint, "bold $accent") for hint in hints], beside),
        ]
        if beside is not None and reason.cell_length > beside:
            # The reason is the long part: it gets the full width under the word.
            details = [details[0], details[2], details[3], reason]
            last_below = True
    elif confluence is None:
        word = "WAIT"
        style = "$warning"
        if snapshot.state is ConnectionState.BOOTSTRAPPING and snapshot.bootstrap_total:
            share = snapshot.bootstrap_progress / snapshot.bootstrap_total
            details = [
                Content.styled("Loading history before the first verdict", "bold"),
                Content.assemble(
                    ("candles ", muted), (confidence_bar(share, _BAR_WIDTH), "$accent"),
                    (f" {snapshot.bootstrap_progress}/{snapshot.bootstrap_total}", "bold"),
                ),
                Content.styled("strategies run as soon as the history is in", muted),
                Content(""),
            ]
        else:
            details = [
                Content.styled("No verdict yet", "bold"),
                Content.styled("waiting for the first candle update", muted),
                Content(""),
                Content(""),
            ]
    else:
        word = confluence.action.value
        style = ACTION_STYLE[confluence.action]
        stage = (
            ("provisional: the candle is still forming", "$warning")
            if snapshot.provisional
            else ("confirmed at the candle close", "$success")
        )
        short_stage = (
            ("provisional: candle still forming", "$warning")
            if snapshot.provisional
            else ("confirmed at candle close", "$success")
        )
        mode = (confluence.mode.name, "bold $accent")
        header = first_fitting([
            Content.assemble(("CONFLUENCE ", "bold"), mode, (" · ", muted), stage),
            Content.assemble(mode, (" · ", muted), stage),
            Content.assemble(mode, (" · ", muted), short_stage),
            Content.assemble(mode, (" · ", muted), (short_stage[0].split(":")[0], short_stage[1])),
        ], width)
        agree = ", ".join(confluence.agree) if confluence.agree else "none"
        last = snapshot.last_confirmed
        if last is None:
            last_line = Content.styled("no confirmed signal yet", muted)
        else:
            action = (last.confluence.action.value, f"bold {ACTION_STYLE[last.confluence.action]}")
            candle = format_candle_time(last.open_time, snapshot.interval)
            close = (format_price(last.close), "bold")
            variants = [
                Content.assemble(("last confirmed ", muted), action, (f" at {candle} UTC candle, close ", muted), close),
                Content.assemble(("last confirmed ", muted), action, (f" · {candle} candle · close ", muted), close),
                Content.assemble(("last confirmed ", muted), action, (f" · {candle} candle @ ", muted), close),
                Content.assemble(("confirmed ", muted), action, (f" · {candle} candle @ ", muted), close),
            ]
            if beside is not None and variants[-1].cell_length > beside:
                last_below = True  # too long beside the word: it gets the full width below it
                last_line = first_fitting(variants, width)
            else:
                last_line = first_fitting(variants, beside)
        bar_width = _BAR_WIDTH if beside is None else max(4, min(_BAR_WIDTH, beside - len(_CONFIDENCE_LABEL) - 5))
        details = [
            header,
            Content.assemble(
                (_CONFIDENCE_LABEL, muted), *_bar_with_track(confluence.confidence, bar_width, style),
                (f" {format_confidence(confluence.confidence)}", "bold"),
            ),
            # a HOLD agrees with nobody: it says why it holds ("no trigger", "only 4 of 11 ...")
            Content.assemble(("why ", muted), (confluence.reason or "no trigger", ""))
            if confluence.action is Action.HOLD
            else Content.assemble(
                ("agree ", muted), (f"{len(confluence.agree)} of {confluence.total}", "bold"),
                (": ", muted), (agree, ""),
            ),
            last_line,
        ]
    glyphs = big_word(word)
    width = max(_WORD_WIDTH, len(glyphs[0]))
    word_rows = [Content.styled(row.ljust(width), f"bold {style}") for row in glyphs]
    beside_word = details[1:-1] if last_below else details[1:]
    beside_word = beside_word + [Content("")] * (len(word_rows) - len(beside_word))
    lines = [details[0]] + [word_row + _GAP + detail for word_row, detail in zip(word_rows, beside_word)]
    if last_below:
        lines.append(details[-1])
    return Content("\n").join(lines)


class SignalPanel(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Snapshot, bool, str | None] | None = None

    def show(self, snapshot: Snapshot, *, offer_sim: bool = False, failure: str | None = None) -> None:
        self._shown = (snapshot, offer_sim, failure)
        width = self.content_size.width or None  # None before the first layout: say it in full
        self.update(signal_content(snapshot, offer_sim=offer_sim, failure=failure, width=width))

    def on_resize(self) -> None:
        """The wording depends on the width: say it again for the new one (a feed that is
        down publishes nothing new to redraw with)."""
        if self._shown is not None:
            snapshot, offer_sim, failure = self._shown
            self.show(snapshot, offer_sim=offer_sim, failure=failure)
