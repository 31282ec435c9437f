"""The confluence verdict, large, with its confidence and who agrees."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.snapshot import Snapshot
from cryptoai_tui.strategies.signal import Action
from cryptoai_tui.tui.formatting import confidence_bar, format_clock, format_confidence, format_price
from cryptoai_tui.tui.widgets.big_word import big_word
from cryptoai_tui.tui.widgets.live_header import feed_trouble

ACTION_STYLE = {
    Action.BUY: "$success",
    Action.SELL: "$error",
    Action.HOLD: "$text-muted",
    Action.WARMUP: "$warning",
    Action.ERROR: "$error",
}
_BAR_WIDTH = 20
_WORD_WIDTH = len(big_word("HOLD")[0])  # BUY, SELL and HOLD share one column edge


def signal_content(snapshot: Snapshot, *, offer_sim: bool = False, failure: str | None = None) -> Content:
    """The verdict panel; while the feed is in trouble and there is no verdict, the trouble."""
    muted = "$text-muted"
    confluence = snapshot.confluence
    trouble = feed_trouble(snapshot) if failure is None else "The feed stopped"
    if confluence is None and trouble is not None:
        word = "WAIT"
        style = "$error" if failure or snapshot.state is ConnectionState.ERROR else "$warning"
        retry = (
            f"next attempt in {snapshot.retry_in:.0f}s" if snapshot.retry_in is not None and failure is None
            else ""
        )
        hint = "press s to use the simulated exchange instead" if offer_sim else ""
        details = [
            Content.styled(trouble, f"bold {style}"),
            Content.styled(failure or snapshot.state_message or snapshot.state.value, style),
            Content.styled(retry, muted),
            Content.styled(hint, "bold $accent"),
        ]
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
        agree = ", ".join(confluence.agree) if confluence.agree else "none"
        last = snapshot.last_confirmed
        if last is None:
            last_line = Content.styled("no confirmed signal yet", muted)
        else:
            last_line = Content.assemble(
                ("last confirmed ", muted),
                (last.confluence.action.value, f"bold {ACTION_STYLE[last.confluence.action]}"),
                (f" at {format_clock(last.open_time, seconds=False)} UTC candle, close ", muted),
                (format_price(last.close), "bold"),
            )
        details = [
            Content.assemble(("CONFLUENCE ", "bold"), (confluence.mode.name, "bold $accent"), (" · ", muted), stage),
            Content.assemble(
                ("confidence ", muted), (confidence_bar(confluence.confidence, _BAR_WIDTH), style),
                (f" {format_confidence(confluence.confidence)}", "bold"),
            ),
            Content.assemble(
                ("agree ", muted), (f"{len(confluence.agree)} of {confluence.total}", "bold"),
                (": ", muted), (agree, ""),
            ),
            last_line,
        ]
    glyphs = big_word(word)
    width = max(_WORD_WIDTH, len(glyphs[0]))
    word_rows = [Content.styled(row.ljust(width), f"bold {style}") for row in glyphs]
    lines = [details[0]] + [word_row + "   " + detail for word_row, detail in zip(word_rows, details[1:])]
    return Content("\n").join(lines)


class SignalPanel(Static):
    def show(self, snapshot: Snapshot, *, offer_sim: bool = False, failure: str | None = None) -> None:
        self.update(signal_content(snapshot, offer_sim=offer_sim, failure=failure))
