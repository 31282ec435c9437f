"""The confluence verdict, large: its confidence, its trigger, the confirmations against what
the mode needs, who confirmed or why it holds, and the last confirmed BUY/SELL."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.confluence import mode_label
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceResult, Stance
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
        details = _verdict_details(snapshot, confluence, style, width, beside)
        last_below = True
        below = details[4:]
        details = details[:4]
    glyphs = big_word(word)
    word_width = max(_WORD_WIDTH, len(glyphs[0]))
    word_rows = [Content.styled(row.ljust(word_width), f"bold {style}") for row in glyphs]
    if confluence is None:
        below = details[-1:] if last_below else []
        details = details[:-1] if last_below else details
    beside_word = details[1:]
    beside_word = beside_word + [Content("")] * (len(word_rows) - len(beside_word))
    lines = [details[0]] + [word_row + _GAP + detail for word_row, detail in zip(word_rows, beside_word)]
    lines.extend(below)
    return Content("\n").join(lines)


def _verdict_details(
    snapshot: Snapshot, confluence: ConfluenceResult, style: str, width: int | None, beside: int | None,
) -> list[Content]:
    """Six lines: the mode and stage; beside the word the confidence, the trigger and the
    confirmations against what the mode needs; under it who confirmed or why it holds, and
    the last confirmed BUY/SELL with how many candles ago it closed."""
    muted = "$text-muted"
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
    mode = (mode_label(confluence.mode, confluence.total), "bold $accent")
    header = first_fitting([
        Content.assemble(("CONFLUENCE ", "bold"), mode, (" · ", muted), stage),
        Content.assemble(mode, (" · ", muted), stage),
        Content.assemble(mode, (" · ", muted), short_stage),
        Content.assemble(mode, (" · ", muted), (short_stage[0].split(":")[0], short_stage[1])),
    ], width)
    bar_width = _BAR_WIDTH if beside is None else max(4, min(_BAR_WIDTH, beside - len(_CONFIDENCE_LABEL) - 5))
    confidence = Content.assemble(
        (_CONFIDENCE_LABEL, muted), *_bar_with_track(confluence.confidence, bar_width, style),
        (f" {format_confidence(confluence.confidence)}", "bold"),
    )
    return [
        header, confidence, _trigger_line(snapshot, confluence, beside), _needs_line(snapshot, confluence, beside),
        _who_line(confluence, width), _last_signal_line(snapshot, width),
    ]


def _trigger_line(snapshot: Snapshot, confluence: ConfluenceResult, width: int | None) -> Content:
    muted = "$text-muted"
    if not confluence.triggered_by:
        return Content.assemble(("trigger ", muted), ("none on this candle", ""))
    if confluence.reason.startswith("conflict:"):
        return Content.assemble(("trigger ", muted), (confluence.reason, "bold $warning"))
    buys = confluence.triggered_by
    side = _trigger_side(snapshot, confluence)
    names = ", ".join(buys)
    return first_fitting([
        Content.assemble(("trigger ", muted), (names, "bold"), (" ", ""), (side.value, f"bold {ACTION_STYLE[side]}")),
        Content.assemble(("trigger ", muted), (f"{len(buys)} strategies ", "bold"),
                         (side.value, f"bold {ACTION_STYLE[side]}")),
    ], width)


def _trigger_side(snapshot: Snapshot, confluence: ConfluenceResult) -> Action:
    """The side the trigger took: the verdict's, or for a HOLD its triggering row's."""
    if confluence.action in (Action.BUY, Action.SELL):
        return confluence.action
    triggered = set(confluence.triggered_by)
    for row in snapshot.rows:
        if row.name in triggered and row.signal.trigger is not None:
            return row.signal.trigger
    return Action.BUY


def _needs_line(snapshot: Snapshot, confluence: ConfluenceResult, width: int | None) -> Content:
    """Confirmations against what the mode needs ("bullish 5 of 6 needed · 2 against"), or,
    without a trigger, where the stances lean."""
    muted = "$text-muted"
    if not confluence.triggered_by or confluence.reason.startswith("conflict:"):
        leaning = {stance: 0 for stance in Stance}
        for row in snapshot.rows:
            leaning[row.signal.stance] += 1
        return first_fitting([
            Content.assemble(("stances ", muted), (f"{leaning[Stance.BULLISH]} bullish", "bold $success"),
                             (", ", muted), (f"{leaning[Stance.BEARISH]} bearish", "bold $error"),
                             (f", {leaning[Stance.NEUTRAL]} neutral", muted)),
            Content.assemble((f"{leaning[Stance.BULLISH]}▲ ", "bold $success"), (f"{leaning[Stance.BEARISH]}▼ ", "bold $error"),
                             (f"{leaning[Stance.NEUTRAL]}·", muted)),
        ], width)
    side = _trigger_side(snapshot, confluence)
    leaning_word = "bullish" if side is Action.BUY else "bearish"
    against = len(confluence.opposed_by)
    if confluence.rule.mode is ConfluenceMode.ALL:
        need = (" (ALL needs none)", muted)
    else:
        need = (f" of {confluence.needed} needed", muted)
    on_side = (f"{leaning_word} {confluence.on_side}", f"bold {ACTION_STYLE[side]}")
    against_style = "bold $error" if against and confluence.rule.mode is ConfluenceMode.ALL else "bold"
    if confluence.rule.mode is ConfluenceMode.ALL:
        return Content.assemble(on_side, (" · ", muted), (f"{against} against", against_style), need)
    return Content.assemble(on_side, need, (" · ", muted), (f"{against} against", against_style))


def _who_line(confluence: ConfluenceResult, width: int | None) -> Content:
    """A HOLD says why it holds; a BUY/SELL who confirmed and who stood against it."""
    muted = "$text-muted"
    if confluence.action is Action.HOLD:
        return Content.assemble(("why ", muted), (confluence.reason or "no trigger", ""))
    confirmed = ", ".join(confluence.confirmed_by) or "only the trigger"
    parts: list[tuple[str, str]] = [("confirmed by ", muted), (confirmed, "")]
    if confluence.opposed_by:
        parts += [(" · against ", muted), (", ".join(confluence.opposed_by), "")]
    return Content.assemble(*parts)


def _last_signal_line(snapshot: Snapshot, width: int | None) -> Content:
    """The newest confirmed BUY or SELL (a HOLD close is not a signal), with its age."""
    muted = "$text-muted"
    last = snapshot.last_signal
    if last is None:
        return Content.styled("no confirmed BUY or SELL yet", muted)
    action = (last.confluence.action.value, f"bold {ACTION_STYLE[last.confluence.action]}")
    ago = _ago(snapshot.last_signal_ago)
    candle = format_candle_time(last.open_time, snapshot.interval)
    close = (format_price(last.close), "bold")
    return first_fitting([
        Content.assemble(("last signal ", muted), action, (f" {ago} · {candle} UTC candle, close ", muted), close),
        Content.assemble(("last signal ", muted), action, (f" {ago} · {candle} candle @ ", muted), close),
        Content.assemble(("last ", muted), action, (f" {ago} @ ", muted), close),
    ], width)


def _ago(candles: int | None) -> str:
    """"at the last close", "1 candle ago", "3 candles ago"."""
    if not candles:
        return "at the last close"
    return f"{candles} candle{'s' if candles != 1 else ''} ago"


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
