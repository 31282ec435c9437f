"""The watchlist table: a Line API widget that draws only the rows on screen.

Why not a DataTable: it drops its render cache on every cell update, and 300 symbols
updating every second would rebuild it hundreds of times a second. Here the rows live in
a dict, each visible line is one `Strip` built from fixed-width cells (`row_cells`, a pure
function), and an update refreshes only the lines of the rows that changed and are
visible; the screen hands them over once per frame (`update_rows`), however many messages
arrived in between. The header is line 0 and never scrolls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cryptoai_tui.engine.watchlist import WatchRow
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.strategies.signal import Action
from cryptoai_tui.tui.formatting import format_confidence, format_price


@dataclass(frozen=True, slots=True)
class Column:
    """A fixed-width column: its key (what it sorts by), header label, width and alignment."""

    key: str
    label: str
    width: int
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("symbol", "Symbol", 11),
    Column("price", "Price", 13, right=True),
    Column("candle", "Candle", 7, right=True),
    Column("day", "24h", 7, right=True),
    Column("turnover", "Vol 24h", 7, right=True),
    Column("verdict", "Verdict", 7),
    Column("confidence", "Conf", 4, right=True),
    Column("votes", "Bull Bear", 9),
    Column("signal", "Last signal", 11),
    Column("feed", "Feed", 6),
)
#: dropped first when the table is narrower than every column (an 80-column terminal)
NARROW_DROPS = frozenset({"turnover", "confidence"})
_GAP = 1


def column_layout(width: int) -> tuple[Column, ...]:
    """The columns that fit `width` cells: all of them, or all but the droppable ones."""
    full = sum(column.width + _GAP for column in COLUMNS)
    if width >= full:
        return COLUMNS
    return tuple(column for column in COLUMNS if column.key not in NARROW_DROPS)


def compact_age(seconds: float | None) -> str:
    """`4s`, `12m`, `3h`, `2d`: one unit, for a narrow column."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    total = max(0, int(seconds))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if total >= size:
            return f"{total // size}{unit}"
    return f"{total}s"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}%"


def _turnover(value: float | None) -> str:
    if value is None:
        return "—"
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{suffix}" if value < size * 100 else f"{value / size:.0f}{suffix}"
    return f"{value:.0f}"


_STATE_WORDS = {
    ConnectionState.CONNECTING: "conn…",
    ConnectionState.BOOTSTRAPPING: "load…",
    ConnectionState.STALLED: "stall",
    ConnectionState.RECONNECTING: "retry",
    ConnectionState.ERROR: "error",
    ConnectionState.STOPPED: "stop",
}
REPAIR_MARK = "⟳"


def feed_health(row: WatchRow, now: float) -> str:
    """The age of the row's last update, marked while its stream is being repaired; the
    state's word while it is not live (connecting, loading, stalled ...)."""
    if row.repairing:
        return f"{REPAIR_MARK}{compact_age(now - row.updated_at) if row.updated_at else ''}"
    if row.state is not ConnectionState.LIVE:
        return _STATE_WORDS.get(row.state, row.state.value)
    return compact_age(now - row.updated_at) if row.updated_at is not None else "—"


def row_cells(row: WatchRow, now: float) -> dict[str, tuple[str, str]]:
    """Every cell of `row` as (text, style name); style names are component classes'
    suffixes ("buy", "sell", "up", "down", "muted", "warn" or "" for plain)."""
    def signed(value: float | None) -> str:
        return "muted" if value is None else ("up" if value > 0 else "down" if value < 0 else "")

    verdict = row.verdict
    verdict_text = verdict.value if verdict is not None else "—"
    verdict_style = {Action.BUY: "buy", Action.SELL: "sell"}.get(verdict, "muted") if verdict else "muted"
    if row.last_signal is not None:
        age = row.signal_age_ms()
        signal = (f"{row.last_signal.value} {compact_age(age / 1000.0)}" if age is not None
                  else row.last_signal.value)
        signal_style = "buy" if row.last_signal is Action.BUY else "sell"
    else:
        signal, signal_style = "—", "muted"
    health = feed_health(row, now)
    stale = row.state is not ConnectionState.LIVE or row.repairing
    return {
        "symbol": (row.symbol, ""),
        "price": (format_price(row.price), ""),
        "candle": (_percent(row.candle_change), signed(row.candle_change)),
        "day": (_percent(row.day_change), signed(row.day_change)),
        "turnover": (_turnover(row.turnover), "muted" if row.turnover is None else ""),
        "verdict": (verdict_text, verdict_style),
        "confidence": (format_confidence(row.confidence) if verdict is not None else "—",
                       "" if verdict is not None else "muted"),
        "votes": (f"{row.bullish:>2}▲ {row.bearish:>2}▼", ""),
        "signal": (signal, signal_style),
        "feed": (health, "warn" if stale else "muted"),
    }


_VERDICT_ORDER = {Action.BUY: 0, Action.HOLD: 1, Action.SELL: 2, Action.WARMUP: 3, Action.ERROR: 4}


def sort_value(row: WatchRow, key: str, now: float) -> tuple[int, object]:
    """What `key` sorts `row` by; rows without the value sort last either way."""
    value: object
    if key == "symbol":
        return (0, row.symbol)
    if key == "price":
        value = row.price
    elif key == "candle":
        value = row.candle_change
    elif key == "day":
        value = row.day_change
    elif key == "turnover":
        value = row.turnover
    elif key == "verdict":
        value = None if row.verdict is None else (_VERDICT_ORDER.get(row.verdict, 9), -row.confidence)
    elif key == "confidence":
        value = row.confidence if row.verdict is not None else None
    elif key == "votes":
        value = row.bullish - row.bearish
    elif key == "signal":
        value = row.signal_age_ms()
    elif key == "feed":
        value = None if row.updated_at is None else now - row.updated_at
    else:
        raise KeyError(f"No watchlist column {key!r}.")
    return (1, 0) if value is None else (0, value)


class WatchTable(ScrollView, can_focus=True):
    """One line per watched symbol; ↑↓ move, Enter opens the symbol (`Opened`)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "watch-table--header", "watch-table--sorted", "watch-table--cursor",
        "watch-table--buy", "watch-table--sell", "watch-table--up", "watch-table--down",
        "watch-table--muted", "watch-table--warn",
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "open", "Open live", tooltip="open the live screen for the highlighted symbol"),
        # A ScrollView scrolls sideways on ← →; the columns fit, so they choose the sort here.
        Binding("left", "screen.sort(-1)", "Sort", key_display="←→", tooltip="sort by the previous / next column"),
        Binding("right", "screen.sort(1)", "Sort", show=False, tooltip="sort by the next column"),
    ]

    class Opened(Message):
        """Enter on a row: open the live screen for `symbol`."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._rows: dict[str, WatchRow] = {}
        self._given: list[str] = []
        self.order: list[str] = []
        self.sort_key = "symbol"
        self.sort_reverse = False
        self.filter_text = ""
        self._cursor_symbol: str | None = None
        self._cache: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._columns: tuple[Column, ...] = COLUMNS
        self._second = -1
        self.lines_rendered = 0

    # --- data -----------------------------------------------------------------------------
    def update_rows(self, rows: Iterable[WatchRow]) -> None:
        """Take this frame's changed rows; redraw only their visible lines, or everything
        visible when the order changed (a sort by a value that moved, a new row)."""
        changed: list[str] = []
        for row in rows:
            if row.symbol not in self._rows:
                self._given.append(row.symbol)
            self._rows[row.symbol] = row
            changed.append(row.symbol)
        if not changed:
            return
        if self._reorder():
            return
        index = {symbol: position for position, symbol in enumerate(self.order)}
        top = round(self.scroll_offset.y)
        bottom = top + self._visible_rows()
        for symbol in changed:
            position = index.get(symbol)
            if position is not None and top <= position < bottom:
                self.refresh_lines(position + 1)

    def tick(self) -> None:
        """Once a second the ages in the Feed and Last signal columns move on: redraw the
        visible lines (and re-sort if sorted by an age)."""
        second = int(self._clock())
        if second == self._second:
            return
        self._second = second
        if self.sort_key in ("feed", "signal") and self._reorder():
            return
        self.refresh()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().upper()
        self._reorder(force=True)

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if key not in {column.key for column in COLUMNS}:
            raise KeyError(f"No watchlist column {key!r}.")
        self.sort_key = key
        if reverse is not None:
            self.sort_reverse = reverse
        self._reorder(force=True)

    def cycle_sort(self, step: int) -> str:
        """Sort by the next (or previous) visible column; returns its label."""
        keys = [column.key for column in self._columns]
        position = keys.index(self.sort_key) if self.sort_key in keys else 0
        self.sort_by(keys[(position + step) % len(keys)])
        return self.column_label(self.sort_key)

    def reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._reorder(force=True)

    @staticmethod
    def column_label(key: str) -> str:
        return next(column.label for column in COLUMNS if column.key == key)

    @property
    def cursor_symbol(self) -> str | None:
        return self._cursor_symbol if self._cursor_symbol in self.order else (self.order[0] if self.order else None)

    @property
    def rows(self) -> dict[str, WatchRow]:
        return self._rows

    def _reorder(self, force: bool = False) -> bool:
        """Filter and sort; True (and a full redraw) when the visible order changed."""
        now = self._clock()
        wanted = self.filter_text
        symbols = [s for s in self._given if wanted in s] if wanted else list(self._given)
        key = self.sort_key
        rows = self._rows
        present = [s for s in symbols if sort_value(rows[s], key, now)[0] == 0]
        absent = [s for s in symbols if sort_value(rows[s], key, now)[0] != 0]
        present.sort(key=lambda s: (sort_value(rows[s], key, now)[1], s), reverse=self.sort_reverse)
        order = present + absent
        if order == self.order and not force:
            return False
        self.order = order
        self.virtual_size = Size(self.size.width, len(order) + 1)
        self._follow_cursor()
        self.refresh()
        return True

    # --- cursor ---------------------------------------------------------------------------
    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _follow_cursor(self) -> None:
        symbol = self.cursor_symbol
        if symbol is None:
            return
        self._cursor_symbol = symbol
        position = self.order.index(symbol)
        top = round(self.scroll_offset.y)
        visible = self._visible_rows()
        if position < top:
            self.scroll_to(y=position, animate=False, immediate=True)
        elif position >= top + visible:
            self.scroll_to(y=position - visible + 1, animate=False, immediate=True)

    def _move_to(self, position: int) -> None:
        if not self.order:
            return
        position = max(0, min(len(self.order) - 1, position))
        old = self.cursor_symbol
        self._cursor_symbol = self.order[position]
        self._follow_cursor()
        if old in self.order:
            self.refresh_lines(self.order.index(old) + 1)
        self.refresh_lines(position + 1)

    def _cursor_position(self) -> int:
        symbol = self.cursor_symbol
        return self.order.index(symbol) if symbol is not None else 0

    def action_cursor(self, step: int) -> None:
        self._move_to(self._cursor_position() + step)

    def action_page(self, step: int) -> None:
        self._move_to(self._cursor_position() + step * self._visible_rows())

    def action_edge(self, step: int) -> None:
        self._move_to(0 if step < 0 else len(self.order) - 1)

    def action_open(self) -> None:
        symbol = self.cursor_symbol
        if symbol is not None:
            self.post_message(self.Opened(symbol))

    # --- drawing --------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._columns = column_layout(self.size.width)
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self.order) + 1)
        self._follow_cursor()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        position = round(self.scroll_offset.y) + y - 1
        if position >= len(self.order):
            return Strip.blank(width, self.rich_style)
        symbol = self.order[position]
        row = self._rows[symbol]
        now = self._clock()
        cells = row_cells(row, now)
        selected = symbol == self.cursor_symbol
        key = (row.sequence, cells["feed"][0], cells["signal"][0], selected, width, self._columns)
        cached = self._cache.get(symbol)
        if cached is not None and cached[0] == key:
            return cached[1]
        self.lines_rendered += 1
        strip = self._line(cells, width, selected)
        self._cache[symbol] = (key, strip)
        return strip

    def _styles(self) -> dict[str, Style]:
        get = self.get_component_rich_style
        return {name: get(f"watch-table--{name}") for name in
                ("buy", "sell", "up", "down", "muted", "warn", "header", "sorted", "cursor")}

    def _line(self, cells: dict[str, tuple[str, str]], width: int, selected: bool) -> Strip:
        styles = self._styles()
        base = self.rich_style + (styles["cursor"] if selected else Style())
        segments: list[Segment] = [Segment(" ", base)]
        for column in self._columns:
            text, style = cells[column.key]
            text = _fit(text, column.width, column.right)
            cell_style = base + styles[style] if style else base
            if selected:
                cell_style = cell_style + styles["cursor"]
            segments.append(Segment(text, cell_style))
            segments.append(Segment(" " * _GAP, base))
        return Strip(segments).adjust_cell_length(width, base)

    def _header(self, width: int) -> Strip:
        styles = self._styles()
        base = self.rich_style + styles["header"]
        segments: list[Segment] = [Segment(" ", base)]
        for column in self._columns:
            label = column.label
            if column.key == self.sort_key:
                label = f"{label}{'▼' if self.sort_reverse else '▲'}"
                style = base + styles["sorted"]
            else:
                style = base
            segments.append(Segment(_fit(label, column.width, column.right), style))
            segments.append(Segment(" " * _GAP, base))
        return Strip(segments).adjust_cell_length(width, base)

    def visible_symbols(self) -> Sequence[str]:
        """The symbols drawn right now, top to bottom (tests and the benchmark)."""
        top = round(self.scroll_offset.y)
        return self.order[top:top + self._visible_rows()]


def _fit(text: str, width: int, right: bool) -> str:
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)
