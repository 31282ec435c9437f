"""The Backtest screen: the Lab's current choice over a date span (or a replay file).

It runs the same `backtest.runner.run_backtest` as `cryptoai-tui backtest` in a thread
worker (downloads through the same cache, with a progress bar), then shows the summary,
the equity curve against buy-and-hold and the trades, newest last. It owns no feed and no
engine of the live screen: opening it leaves a live session untouched, and Esc returns to
the Lab.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, ProgressBar, Static

from cryptoai_tui.tui.session import LabChoices
from cryptoai_tui.tui.widgets.equity_chart import EquityChart

if TYPE_CHECKING:
    from cryptoai_tui.backtest.runner import BacktestResult

TRADE_COLUMNS = ("#", "side", "entry (UTC)", "at", "exit (UTC)", "at", "return (* at end)")

#: told (done, total, what) as a run moves on; total 0 while the step has no count
ProgressSink = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    """What one run needs, fixed when Run is pressed (the form may change meanwhile)."""

    choices: LabChoices
    replay: str
    start: str
    end: str
    cache: Path | None


class BacktestProgress(Message):
    def __init__(self, done: int, total: int, label: str) -> None:
        super().__init__()
        self.done, self.total, self.label = done, total, label


class BacktestFinished(Message):
    def __init__(self, result: BacktestResult, candles: int) -> None:
        super().__init__()
        self.result, self.candles = result, candles


class BacktestFailed(Message):
    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence


def run_request(request: BacktestRequest, report: ProgressSink) -> BacktestResult:
    """Candles (file or cached download) -> backtest, as the CLI does; ValueError with a sentence."""
    from cryptoai_tui.backtest import candles as source
    from cryptoai_tui.backtest.engine import TradeModel
    from cryptoai_tui.backtest.runner import run_backtest
    from cryptoai_tui.backtest.vectorised import ohlcv_of
    from cryptoai_tui.market.interval import Interval

    choices = request.choices
    assert choices.symbol is not None and choices.interval is not None
    interval = Interval.parse(choices.interval)
    if request.replay.strip():
        # Exchange histories have maintenance gaps; the live feed evaluates across them too.
        candles = source.read_replay(Path(request.replay.strip()).expanduser(), interval, allow_gaps=True)
    else:
        if not request.start.strip():
            raise ValueError("Give a start date (2024-01-01) or a replay CSV file.")
        import time

        start = source.parse_date(request.start, "Start")
        end = source.parse_date(request.end, "End") if request.end.strip() else int(time.time() * 1000)
        if end <= start:
            raise ValueError("The end date must be after the start date.")
        label = f"downloading {choices.symbol} {interval.name}"
        candles = asyncio.run(source.download(
            choices.exchange, choices.symbol, interval, start, end,
            ws_url=choices.ws_url, rest_url=choices.rest_url, cache=request.cache,
            progress=lambda done, total: report(done, total, label),
        ))
        if not candles:
            raise ValueError(f"No closed {choices.symbol} {interval.name} candles in that span.")
    report(0, 0, f"evaluating {len(choices.strategies)} strategies over {len(candles)} candles")
    step = interval.ms if not interval.is_calendar else 30 * 86_400_000
    return run_backtest(ohlcv_of(candles), choices.strategies, choices.mode.value, TradeModel(), step)


class BacktestScreen(Screen[None]):
    CSS_PATH = "backtest.tcss"
    BINDINGS = [
        Binding("escape", "back", "Lab", tooltip="back to the Strategy Lab"),
        Binding("ctrl+r", "run", "Run", tooltip="run the backtest over the span or the replay file"),
    ]

    def __init__(
        self,
        choices: LabChoices,
        exchange_title: str,
        *,
        start: str = "",
        end: str = "",
        replay: str = "",
        cache: Path | None = None,
    ) -> None:
        super().__init__()
        self.choices = choices
        self._exchange_title = exchange_title
        self._initial = (start, end, replay)
        self._cache = cache
        self.result: BacktestResult | None = None
        self._newest_trade_pending = False

    def compose(self) -> ComposeResult:
        c = self.choices
        count = len(c.strategies)
        yield Static(
            Content.assemble(
                ("Backtest", "bold $accent"),
                f"  ·  {c.symbol} {c.interval}  ·  {count} strateg{'y' if count == 1 else 'ies'}  ·  "
                f"{c.mode.name}  ·  {self._exchange_title}",
            ),
            id="bt-title",
        )
        start, end, replay = self._initial
        with Horizontal(id="bt-form"):
            yield Input(start, placeholder="start 2024-01-01", id="bt-start")
            yield Input(end, placeholder="end (default now)", id="bt-end")
            yield Input(replay, placeholder="or a replay CSV file", id="bt-replay")
        yield Static("Enter a span or a file, then Enter (or Ctrl+R) to run.", id="bt-status")
        yield ProgressBar(total=None, show_eta=False, id="bt-progress")
        with Horizontal(id="bt-body"):
            yield Static("", id="bt-summary")
            yield EquityChart(id="bt-chart")
        table: DataTable[str] = DataTable(id="bt-trades", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#bt-trades", DataTable)
        table.add_columns(*TRADE_COLUMNS)
        self.watch(table, "virtual_size", self._trades_measured, init=False)
        self.query_one("#bt-start", Input).focus()

    # --- running ---------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def action_run(self) -> None:
        request = BacktestRequest(
            self.choices,
            self.query_one("#bt-replay", Input).value,
            self.query_one("#bt-start", Input).value,
            self.query_one("#bt-end", Input).value,
            self._cache,
        )
        self._status("Running…")
        self.query_one("#bt-progress", ProgressBar).update(total=None, progress=0)
        self._run(request)

    @work(thread=True, exclusive=True, group="backtest", exit_on_error=False)
    def _run(self, request: BacktestRequest) -> None:
        def report(done: int, total: int, label: str) -> None:
            self.post_message(BacktestProgress(done, total, label))

        try:
            result = run_request(request, report)
        except Exception as error:  # every failure is a sentence on the screen, never a crash
            from cryptoai_tui.market.candle_csv import CandleFileError

            known = isinstance(error, (ValueError, CandleFileError, OSError))
            text = str(error) if known else f"The backtest failed: {type(error).__name__}: {error}"
            self.post_message(BacktestFailed(text))
            return
        self.post_message(BacktestFinished(result, len(result.evaluation)))

    def on_backtest_progress(self, message: BacktestProgress) -> None:
        bar = self.query_one("#bt-progress", ProgressBar)
        if message.total > 0:
            bar.update(total=message.total, progress=message.done)
            self._status(f"{message.label}: {message.done}/{message.total} candles")
        else:
            bar.update(total=None)
            self._status(message.label + "…")

    def on_backtest_failed(self, message: BacktestFailed) -> None:
        self.query_one("#bt-progress", ProgressBar).update(total=1, progress=0)
        self._status(message.sentence, error=True)

    def on_backtest_finished(self, message: BacktestFinished) -> None:
        from cryptoai_tui.backtest.report import summary_text

        result = message.result
        self.result = result
        self.query_one("#bt-progress", ProgressBar).update(total=1, progress=1)
        run = result.run
        self._status(
            f"Done: {message.candles} candles, {result.summary.trades} trades. Long only, "
            "fee 10 bps a side, fills at the next open."
        )
        self.query_one("#bt-summary", Static).update(Content(summary_text(result.summary, compact=True)))
        hold = run.close / run.close[0]
        self.query_one(EquityChart).show(run.equity.tolist(), hold.tolist())
        rows = [
            (str(number), trade.side, _utc(trade.entry_time), _price(trade.entry_price),
             _utc(trade.exit_time), _price(trade.exit_price),
             f"{trade.return_ * 100:+.2f}%" + (" *" if trade.open_at_end else ""))
            for number, trade in enumerate(run.trades, 1)
        ]
        table = self.query_one("#bt-trades", DataTable)
        # Columns as wide as their widest cell from the start: left to size themselves, they
        # widen when the table is next idle, and on a busy machine the header stayed drawn
        # at the old widths above the wider rows.
        table.clear(columns=True)
        for index, label in enumerate(TRADE_COLUMNS):
            table.add_column(label, width=max([cell_len(label), *(cell_len(row[index]) for row in rows)]))
        table.add_rows(rows)
        self._newest_trade_pending = True
        self._show_newest_trade()

    def _trades_measured(self) -> None:
        """The table measured its new rows (it does so when next idle, so on a busy machine
        after the rows were first drawn) and a horizontal scrollbar may now take a line:
        once that layout is drawn, the newest trade is put in view again (under load it was
        left under the scrollbar about 1 run in 10)."""
        if self._newest_trade_pending:
            self._newest_trade_pending = False  # once a run: the user may move the cursor after
            self.call_after_refresh(self._show_newest_trade)

    def _show_newest_trade(self) -> None:
        """The newest trade (listed last) under the cursor and in view."""
        table = self.query_one("#bt-trades", DataTable)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#bt-status", Static)
        status.update(Content(text))
        status.set_class(error, "-error")

    def action_back(self) -> None:
        self.workers.cancel_group(self, "backtest")
        self.dismiss(None)


def _utc(ms: int) -> str:
    """Short enough for an 80-column trade list: 26-09-18 22:00 (UTC)."""
    import time

    return time.strftime("%y-%m-%d %H:%M", time.gmtime(ms / 1000))


def _price(price: float) -> str:
    from cryptoai_tui.tui.formatting import format_price

    return format_price(price)
