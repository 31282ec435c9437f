"""The Journal screen: the signal journal a page at a time, filtered, with a signal's details.

Pages come straight from SQLite by keyset (`WHERE id < ? ORDER BY id DESC LIMIT n`): a page
costs the same on row 10 as on row 100,000, and the table never holds more than one page,
so the screen stays quick however large the journal grows. `n` goes to older signals, `p`
back to newer ones (the screen remembers where each page it showed began). `/` filters by
symbol, mode and action in one line ("BTCUSDT majority BUY"); Enter opens the highlighted
signal: every strategy's trigger, stance and values, and its +1/+5/+20 grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from cryptoai_tui.journal.entry import GRADE_HORIZONS, StoredEntry
from cryptoai_tui.journal.store import JournalError, JournalFilter, JournalStore

PAGE_SIZE = 100
_ACTIONS = ("BUY", "SELL")
_MODES = ("all", "any", "majority")

COLUMNS = ("time (UTC)", "symbol", "tf", "mode", "action", "conf", "close", "+1", "+5", "+20", "triggered by")


@dataclass(frozen=True, slots=True)
class ParsedFilter:
    """What the filter line asked for, or the sentence saying what it could not read."""

    where: JournalFilter
    error: str = ""


def parse_filter(text: str) -> ParsedFilter:
    """`BTCUSDT majority BUY` in any order and case: BUY/SELL is the action, all/any/majority
    or a number (K of N) the mode, anything else the start of the symbol (`eth`: ETHUSDT,
    ETHBTC ...)."""
    symbol = mode = action = None
    for word in text.split():
        upper = word.upper()
        if upper in _ACTIONS:
            action = upper
        elif word.lower() in _MODES or word.isdigit():
            mode = word.lower()
        elif symbol is None:
            symbol = upper.replace("/", "").replace("-", "")
        else:
            return ParsedFilter(JournalFilter(), f"{word!r} is not a filter word: write a symbol, a mode "
                                "(all, any, majority or K) and BUY or SELL, e.g. BTCUSDT majority BUY.")
    return ParsedFilter(JournalFilter(symbol_prefix=symbol, mode=mode, action=action))


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _percent(value: float | None) -> str:
    return "·" if value is None else f"{value * 100:+.2f}%"


def _number(value: float) -> str:
    return f"{value:,.8f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.2f}"


def row_cells(row: StoredEntry) -> tuple[str | Content, ...]:
    e = row.entry
    action = Content.styled(e.action, "bold $success" if e.action == "BUY" else "bold $error")
    return (
        _time(e.open_time), e.symbol, e.interval, e.mode, action, f"{e.confidence * 100:.0f}%",
        _number(e.close), *(_percent(row.returns[h]) for h in GRADE_HORIZONS),
        ", ".join(e.triggered_by) + (" (history)" if e.history else ""),
    )


def details(row: StoredEntry) -> Content:
    """Everything the journal knows about one signal, as lines a trader reads."""
    e = row.entry
    lines = [
        Content.assemble((f"{e.action} ", "bold"), f"{e.symbol} {e.interval} on {e.exchange}, candle of "
                         f"{_time(e.open_time)} UTC, close {_number(e.close)}"),
        Content(f"Mode {e.mode}, confidence {e.confidence * 100:.0f}%: {e.reason}"),
        Content(f"Triggered by {', '.join(e.triggered_by) or 'nobody'}; confirmed by "
                f"{', '.join(e.confirmed_by) or 'nobody'}; opposed by {', '.join(e.opposed_by) or 'nobody'}."),
        Content("Return since the close: " + ", ".join(
            f"+{h} candles {_percent(row.returns[h])}" for h in GRADE_HORIZONS
        ) + " (· not graded yet)."),
        Content(f"{'history' if e.history else 'live'} · session {e.session_id} · cryptoai-tui {e.app_version}"),
        Content(""),
        Content.styled(f"{'strategy':<18} {'trigger':<8} {'stance':<8} {'conf':>5}  values", "bold"),
    ]
    for name, verdict in e.strategies.items():
        values = ", ".join(f"{key} {_number(value)}" for key, value in verdict.values.items())
        lines.append(Content(f"{name:<18} {verdict.trigger:<8} {verdict.stance:<8} "
                             f"{verdict.confidence * 100:>4.0f}%  {values}"))
    return Content("\n").join(lines)


class SignalDetails(ModalScreen[None]):
    CSS_PATH = "journal.tcss"
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, row: StoredEntry) -> None:
        super().__init__()
        self._row = row

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker picker-wide", id="signal-details"):
            yield Label(Content(f"Signal {self._row.id}"), classes="picker-title")
            with VerticalScroll(id="signal-details-body"):
                yield Static(details(self._row), id="signal-details-text")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


class JournalStats(ModalScreen[None]):
    """Strategies and modes ranked by mean return (and hit rate) per symbol/interval, over the
    signals the Journal screen's filter selects; `1` / `5` / `2` grade at +1 / +5 / +20."""

    CSS_PATH = "journal.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("1", "horizon(1)", "+1", tooltip="grade 1 candle after each signal"),
        Binding("5", "horizon(5)", "+5", tooltip="grade 5 candles after each signal"),
        Binding("2", "horizon(20)", "+20", tooltip="grade 20 candles after each signal"),
    ]

    def __init__(self, path: Path, where: JournalFilter, horizon: int = 5) -> None:
        super().__init__()
        self._path, self._where, self._horizon = path, where, horizon

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker picker-wide", id="journal-stats"):
            yield Label(Content(""), classes="picker-title", id="journal-stats-title")
            yield DataTable(id="journal-stats-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("strategy / mode", "symbol", "tf", "signals", "graded",
                                              "hit rate", "mean return")
        self._show()

    def _show(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        with JournalStore(self._path) as store:  # aggregates in SQL: no rows come to the screen
            rows = store.stats(self._where, horizon=self._horizon)
        for r in rows:
            table.add_row(r.group, r.symbol, r.interval, f"{r.signals:,}", f"{r.graded:,}",
                          "·" if r.hit_rate is None else f"{r.hit_rate * 100:.0f}%", _percent(r.mean_return))
        self.query_one("#journal-stats-title", Label).update(Content(
            f"Ranked by mean return {self._horizon} candle{'s' if self._horizon > 1 else ''} after each signal "
            "(a SELL counts a fall as a hit)"))

    def action_horizon(self, horizon: int) -> None:
        self._horizon = horizon
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)


class JournalScreen(Screen[None]):
    CSS_PATH = "journal.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to where you came from"),
        Binding("n", "older", "Older", tooltip="the next page of older signals"),
        Binding("p", "newer", "Newer", tooltip="the previous page of newer signals"),
        Binding("slash", "filter", "Filter", tooltip="filter by symbol, mode and action"),
        Binding("enter", "details", "Details", tooltip="every strategy's trigger, stance and values, and the grades"),
        Binding("s", "stats", "Stats", tooltip="strategies and modes ranked by hit rate and mean return"),
    ]

    def __init__(self, journal_path: Path | None, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self._path = journal_path
        self._page_size = page_size
        self._store: JournalStore | None = None
        self._where = JournalFilter()
        self._starts: list[int | None] = [None]  # before_id of each page shown so far
        self._rows: list[StoredEntry] = []
        self._total = 0

    def compose(self) -> ComposeResult:
        yield Label(Content("Journal"), id="journal-title")
        yield Static("", id="journal-status")
        yield Input(placeholder="filter: symbol, mode, action (e.g. BTCUSDT majority BUY); Enter applies",
                    id="journal-filter")
        yield DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="journal-message")
        yield Footer()

    @property
    def rows_loaded(self) -> int:
        return len(self._rows)

    @property
    def page_number(self) -> int:
        return len(self._starts)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        if self._path is None:
            self._say("The journal is off (--no-journal): nothing is recorded in this session.")
            return
        if not self._path.exists():
            self._say(f"No journal yet at {self._path.name}: the first confirmed signal creates it.")
            return
        try:
            self._store = JournalStore(self._path)
        except JournalError as error:
            self._say(str(error))
            return
        self._reload()
        table.focus()

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    def _say(self, text: str) -> None:
        self.query_one("#journal-message", Static).update(Content(text))

    def _reload(self) -> None:
        self._starts = [None]
        assert self._store is not None
        self._total = self._store.count(self._where)
        self._show_page()

    def _show_page(self) -> None:
        assert self._store is not None
        self._rows = self._store.page(self._where, before_id=self._starts[-1], limit=self._page_size)
        table = self.query_one(DataTable)
        table.clear()
        for row in self._rows:
            table.add_row(*row_cells(row), key=str(row.id))
        first = (len(self._starts) - 1) * self._page_size
        shown = f"{first + 1:,}–{first + len(self._rows):,}" if self._rows else "none"
        filters = " ".join(v for v in (self._where.symbol_prefix, self._where.mode, self._where.action) if v)
        status = f"{self._total:,} signals" + (f" matching {filters}" if filters else "") + \
                 f" · page {len(self._starts)} shows {shown}, newest first · {self._path.name if self._path else ''}"
        self.query_one("#journal-status", Static).update(Content(status))
        self._say("" if self._rows else "No signals match." if filters else "No signals yet.")

    # --- keys ------------------------------------------------------------------------------
    def action_older(self) -> None:
        if self._store is None or len(self._rows) < self._page_size:
            return
        self._starts.append(self._rows[-1].id)
        self._show_page()

    def action_newer(self) -> None:
        if self._store is None or len(self._starts) == 1:
            return
        self._starts.pop()
        self._show_page()

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        parsed = parse_filter(event.value)
        if parsed.error:
            self._say(parsed.error)
            return
        self._where = parsed.where
        if self._store is not None:
            self._reload()
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def action_details(self) -> None:
        self._open(self.query_one(DataTable).cursor_row)

    def _open(self, index: int) -> None:
        if 0 <= index < len(self._rows):
            self.app.push_screen(SignalDetails(self._rows[index]))

    def action_stats(self) -> None:
        if self._store is None or self._path is None:
            return
        self.app.push_screen(JournalStats(self._path, self._where))

    def action_back(self) -> None:
        if self.query_one(Input).has_focus:
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)
